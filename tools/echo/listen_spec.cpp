#include "listen_spec.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xgress::echo {

std::expected<ListenSpec, std::string> parse_listen_spec(std::string_view text) {
    const auto fail = [&](std::string_view why) {
        return std::unexpected(std::string(why) + " in --listen '" + std::string(text) +
                               "' (want ADDR:PORT=SERVICE)");
    };
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq + 1 == text.size()) return fail("missing service name");
    ListenSpec spec;
    spec.service = std::string(text.substr(eq + 1));
    const std::string_view host_port = text.substr(0, eq);

    const auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) return fail("missing port");
    std::string_view host = host_port.substr(0, colon);
    const std::string_view port_text = host_port.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return fail("bad port");
    spec.port = static_cast<std::uint16_t>(port);

    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    spec.address = std::string(host);

    if (!bracketed) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&spec.sockaddr);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(spec.port);
        if (inet_pton(AF_INET, spec.address.c_str(), &sin->sin_addr) != 1) return fail("bad IPv4 address");
        spec.sockaddr_len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&spec.sockaddr);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(spec.port);
        if (inet_pton(AF_INET6, spec.address.c_str(), &sin6->sin6_addr) != 1) return fail("bad IPv6 address");
        spec.sockaddr_len = sizeof(sockaddr_in6);
    }
    return spec;
}

}  // namespace xgress::echo

#include "io/listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace xgress::io {

std::expected<SocketAddress, std::string> parse_address(std::string_view text) {
    SocketAddress out;
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        std::size_t close = text.find("]:");
        if (close == std::string_view::npos) return std::unexpected("bad address \"" + std::string(text) + "\"");
        host = std::string(text.substr(1, close - 1));
        port_text = text.substr(close + 2);
    } else {
        std::size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::unexpected("address needs a port: \"" + std::string(text) + "\"");
        host = std::string(text.substr(0, colon));
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535)
        return std::unexpected("bad port in \"" + std::string(text) + "\"");
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        out.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        out.len = sizeof(sockaddr_in6);
    } else {
        return std::unexpected("bad address \"" + std::string(text) + "\"");
    }
    return out;
}

std::expected<int, std::string> open_listener(const SocketAddress& address, int backlog) {
    int fd = socket(address.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.len) != 0 || listen(fd, backlog) != 0) {
        std::string err = std::strerror(errno);
        close(fd);
        return std::unexpected("listen: " + err);
    }
    return fd;
}

int bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace xgress::io

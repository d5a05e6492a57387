#include "router/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace xgress::router {

bool CidrSet::to_v6(std::string_view address, std::array<std::uint8_t, 16>& out) {
    char buf[INET6_ADDRSTRLEN];
    if (address.empty() || address.size() >= sizeof buf) return false;
    std::memcpy(buf, address.data(), address.size());
    buf[address.size()] = '\0';
    std::uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        out.fill(0);
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out.data()) == 1;
}

std::expected<void, std::string> CidrSet::add(std::string_view cidr) {
    const std::size_t slash = cidr.find('/');
    std::string_view addr = cidr.substr(0, slash);
    Range r{};
    if (!to_v6(addr, r.addr)) return std::unexpected("not a CIDR: \"" + std::string(cidr) + "\"");
    const bool v4 = addr.find(':') == std::string_view::npos;
    unsigned bits = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        std::string_view len = cidr.substr(slash + 1);
        auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
        if (ec != std::errc() || p != len.data() + len.size() || len.empty() || bits > (v4 ? 32u : 128u))
            return std::unexpected("bad prefix length in \"" + std::string(cidr) + "\"");
    }
    r.bits = static_cast<std::uint8_t>(v4 ? bits + 96 : bits);
    ranges_.push_back(r);
    return {};
}

bool CidrSet::contains(const std::array<std::uint8_t, 16>& a) const {
    for (const Range& r : ranges_) {
        const unsigned full = r.bits / 8, rest = r.bits % 8;
        if (std::memcmp(a.data(), r.addr.data(), full) != 0) continue;
        if (rest) {
            const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
            if ((a[full] & mask) != (r.addr[full] & mask)) continue;
        }
        return true;
    }
    return false;
}

bool CidrSet::contains(std::string_view address) const {
    std::array<std::uint8_t, 16> a;
    return to_v6(address, a) && contains(a);
}

}  // namespace xgress::router

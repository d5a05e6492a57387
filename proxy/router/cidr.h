// Source-address allow lists (the whitelist-source-range annotation): a set of
// CIDRs, IPv4 and IPv6, checked against the client address of a request.
// IPv4 prefixes are kept as v4-mapped IPv6 (::ffff:a.b.c.d, prefix + 96), so
// one comparison covers a v4 client, a v6 client and a v4 client seen through
// a dual-stack socket as ::ffff:a.b.c.d.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::router {

class CidrSet {
public:
    // "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a single address). Host bits
    // beyond the prefix are ignored, as ingress-nginx's allow does.
    std::expected<void, std::string> add(std::string_view cidr);

    bool empty() const { return ranges_.empty(); }
    // `address`: an IPv4 or IPv6 literal (Session::client_ip). An address
    // that does not parse matches nothing.
    bool contains(std::string_view address) const;
    bool contains(const std::array<std::uint8_t, 16>& v6) const;

    // The 16-byte (v4-mapped for IPv4) form of an address literal.
    static bool to_v6(std::string_view address, std::array<std::uint8_t, 16>& out);

private:
    struct Range {
        std::array<std::uint8_t, 16> addr;
        std::uint8_t bits;
    };
    std::vector<Range> ranges_;
};

}  // namespace xgress::router

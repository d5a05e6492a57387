// Crafts raw Ethernet frames (optional VLAN tags, IPv4 or IPv6, TCP or UDP)
// for BPF_PROG_TEST_RUN. Checksums are left zero: the programs under test
// never verify them.
#pragma once

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace xgress::test {

struct PacketSpec {
    bool v6 = false;
    std::string src = "198.18.0.2";
    std::string dst = "198.18.0.1";
    std::uint16_t sport = 40000;
    std::uint16_t dport = 30080;
    std::uint8_t proto = IPPROTO_TCP;
    bool syn = true;
    bool ack = false;
    std::vector<std::uint16_t> vlan_tpids;  // outermost first, e.g. {0x88a8, 0x8100}
    std::size_t ipv4_options = 0;           // bytes of IPv4 options (multiple of 4)
    std::uint16_t ipv4_frag_off = 0x4000;   // raw flags+offset field (default: DF, offset 0)
    std::uint8_t ipv4_ihl_override = 0;     // nonzero: write this IHL instead of the real one
    // IPv6 extension headers, outermost first: (next-header type of this
    // header, its length in bytes). Lengths: multiple of 8 (AH: of 4, >= 8);
    // a fragment header is always 8 bytes and carries ipv6_frag_off.
    std::vector<std::pair<std::uint8_t, std::size_t>> ipv6_ext;
    std::uint16_t ipv6_frag_off = 0;        // raw offset+flags of a fragment header
    std::size_t payload = 0;
    std::size_t truncate_to = 0;            // 0 = keep whole frame
};

inline void put16(std::vector<std::uint8_t>& out, std::uint16_t host_value) {
    out.push_back(static_cast<std::uint8_t>(host_value >> 8));
    out.push_back(static_cast<std::uint8_t>(host_value & 0xff));
}

// resize + memcpy rather than vector::insert: GCC 12 -O2 reports a false
// stringop-overflow on range insert into a vector of bytes.
inline void append(std::vector<std::uint8_t>& out, const void* bytes, std::size_t n) {
    const std::size_t at = out.size();
    out.resize(at + n);
    std::memcpy(out.data() + at, bytes, n);
}

inline std::vector<std::uint8_t> build_packet(const PacketSpec& spec) {
    std::vector<std::uint8_t> out;
    const std::array<std::uint8_t, 12> macs{0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    append(out, macs.data(), macs.size());
    for (std::uint16_t tpid : spec.vlan_tpids) {
        put16(out, tpid);
        put16(out, 100);  // TCI: VLAN id 100
    }
    put16(out, spec.v6 ? ETH_P_IPV6 : ETH_P_IP);

    const std::size_t l4_len = (spec.proto == IPPROTO_TCP ? 20 : 8) + spec.payload;
    std::size_t ext_len = 0;
    for (const auto& [type, len] : spec.ipv6_ext) ext_len += len;
    if (!spec.v6) {
        const std::size_t ihl_bytes = 20 + spec.ipv4_options;
        const std::size_t ihl = spec.ipv4_ihl_override ? spec.ipv4_ihl_override : ihl_bytes / 4;
        out.push_back(static_cast<std::uint8_t>(0x40 | ihl));
        out.push_back(0);
        put16(out, static_cast<std::uint16_t>(ihl_bytes + l4_len));
        put16(out, 1);       // id
        put16(out, spec.ipv4_frag_off);
        out.push_back(64);
        out.push_back(spec.proto);
        put16(out, 0);
        in_addr a{};
        inet_pton(AF_INET, spec.src.c_str(), &a);
        auto* p = reinterpret_cast<std::uint8_t*>(&a);
        append(out, p, 4);
        inet_pton(AF_INET, spec.dst.c_str(), &a);
        append(out, p, 4);
        for (std::size_t i = 0; i < spec.ipv4_options; ++i) out.push_back(1);  // NOP options
    } else {
        out.push_back(0x60);
        out.push_back(0);
        put16(out, 0);
        put16(out, static_cast<std::uint16_t>(ext_len + l4_len));
        out.push_back(spec.ipv6_ext.empty() ? spec.proto : spec.ipv6_ext.front().first);
        out.push_back(64);
        in6_addr a{};
        inet_pton(AF_INET6, spec.src.c_str(), &a);
        append(out, a.s6_addr, 16);
        inet_pton(AF_INET6, spec.dst.c_str(), &a);
        append(out, a.s6_addr, 16);
        for (std::size_t i = 0; i < spec.ipv6_ext.size(); ++i) {
            const auto [type, len] = spec.ipv6_ext[i];
            const std::uint8_t next = i + 1 < spec.ipv6_ext.size() ? spec.ipv6_ext[i + 1].first : spec.proto;
            const std::size_t start = out.size();
            out.push_back(next);
            if (type == 44) {  // fragment: reserved, offset+flags, identification
                out.push_back(0);
                put16(out, spec.ipv6_frag_off);
                put16(out, 0);
                put16(out, 1);
            } else {
                out.push_back(static_cast<std::uint8_t>(type == 51 ? len / 4 - 2 : len / 8 - 1));
            }
            out.resize(start + len, 0x01);  // PadN-ish filler; never interpreted
        }
    }

    put16(out, spec.sport);
    put16(out, spec.dport);
    if (spec.proto == IPPROTO_TCP) {
        for (int i = 0; i < 8; ++i) out.push_back(0);  // seq, ack
        out.push_back(0x50);                           // data offset 5
        out.push_back(static_cast<std::uint8_t>((spec.syn ? 0x02 : 0) | (spec.ack ? 0x10 : 0)));
        put16(out, 65535);
        put16(out, 0);
        put16(out, 0);
    } else {
        put16(out, static_cast<std::uint16_t>(l4_len));
        put16(out, 0);
    }
    out.resize(out.size() + spec.payload, 0xab);
    if (spec.truncate_to != 0 && spec.truncate_to < out.size()) out.resize(spec.truncate_to);
    return out;
}

}  // namespace xgress::test

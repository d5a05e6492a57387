// Small helpers for BPF unit tests: build ABI keys from address literals and
// read per-CPU counters summed over every possible CPU.
#pragma once

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "xgress/bpf_abi.h"

namespace xgress::test {

inline bool is_v6(const std::string& address) { return address.find(':') != std::string::npos; }

inline xgress_frontend_key exact_key(const std::string& address, std::uint16_t port,
                                     std::uint8_t proto = IPPROTO_TCP) {
    xgress_frontend_key key{};
    if (is_v6(address)) {
        inet_pton(AF_INET6, address.c_str(), key.addr);
        key.flags = XGRESS_FRONTEND_KEY_IPV6;
    } else {
        inet_pton(AF_INET, address.c_str(), key.addr);
    }
    key.port = htons(port);
    key.proto = proto;
    return key;
}

inline xgress_frontend_key nodeport_key(std::uint16_t port, std::uint8_t proto = IPPROTO_TCP) {
    xgress_frontend_key key{};
    key.port = htons(port);
    key.proto = proto;
    key.flags = XGRESS_FRONTEND_KEY_NODEPORT;
    return key;
}

inline xgress_node_addr_key node_key(const std::string& address) {
    xgress_node_addr_key key{};
    key.ipv6 = is_v6(address) ? 1 : 0;
    inet_pton(key.ipv6 ? AF_INET6 : AF_INET, address.c_str(), key.addr);
    return key;
}

// "10.0.0.0/8" or "2001:db8::/32" under frontend `id`, as the agent stores it
// (IPv4 mapped into ::ffff:0:0/96). Host bits must already be zero.
inline xgress_source_range_key range_key(std::uint32_t id, const std::string& prefix) {
    const auto slash = prefix.find('/');
    const std::string address = prefix.substr(0, slash);
    const unsigned len = static_cast<unsigned>(std::stoul(prefix.substr(slash + 1)));
    xgress_source_range_key key{};
    key.frontend_id = id;
    if (is_v6(address)) {
        inet_pton(AF_INET6, address.c_str(), key.addr);
        key.prefixlen = 32 + len;
    } else {
        key.addr[10] = key.addr[11] = 0xff;
        inet_pton(AF_INET, address.c_str(), key.addr + 12);
        key.prefixlen = 32 + 96 + len;
    }
    return key;
}

// The raw counters of `id` (frontend_stats, summed over CPUs); with
// `base_fd` (frontend_stats_base) the frontend's own counters: raw - base.
inline xgress_frontend_stats sum_frontend_stats(int map_fd, std::uint32_t id, int base_fd = -1) {
    const int cpus = libbpf_num_possible_cpus();
    std::vector<xgress_frontend_stats> per_cpu(static_cast<std::size_t>(cpus));
    xgress_frontend_stats sum{};
    if (bpf_map_lookup_elem(map_fd, &id, per_cpu.data()) != 0) return sum;
    for (const auto& s : per_cpu) {
        sum.packets += s.packets;
        sum.bytes += s.bytes;
        sum.syns += s.syns;
        sum.source_range_drops += s.source_range_drops;
    }
    xgress_frontend_stats base{};
    if (base_fd >= 0 && bpf_map_lookup_elem(base_fd, &id, &base) == 0) {
        sum.packets -= base.packets;
        sum.bytes -= base.bytes;
        sum.syns -= base.syns;
        sum.source_range_drops -= base.source_range_drops;
    }
    return sum;
}

// xdp_matched as readers derive it (ABI 7): the raw frontend_stats of every
// id, summed over CPUs (one batch read of the whole per-CPU array).
inline std::uint64_t derive_xdp_matched(int frontend_stats_fd) {
    const auto cpus = static_cast<std::size_t>(libbpf_num_possible_cpus());
    std::vector<std::uint32_t> keys(XGRESS_MAX_FRONTENDS);
    std::vector<xgress_frontend_stats> values(keys.size() * cpus);
    std::uint32_t out_batch = 0, count = static_cast<std::uint32_t>(keys.size());
    std::uint64_t matched = 0;
    if (bpf_map_lookup_batch(frontend_stats_fd, nullptr, &out_batch, keys.data(), values.data(), &count, nullptr) !=
            0 &&
        errno != ENOENT)
        return 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(count) * cpus; ++i)
        matched += xgress_frontend_stats_matched(&values[i]);
    return matched;
}

// The global counters summed over CPUs, with the derived ones filled in:
// xdp_matched from `frontend_stats_fd` when given, then xdp_packets.
inline xgress_global_stats sum_global_stats(int map_fd, int frontend_stats_fd = -1) {
    const int cpus = libbpf_num_possible_cpus();
    std::vector<xgress_global_stats> per_cpu(static_cast<std::size_t>(cpus));
    xgress_global_stats sum{};
    std::uint32_t key = XGRESS_GLOBAL_STATS_KEY;
    if (bpf_map_lookup_elem(map_fd, &key, per_cpu.data()) != 0) return sum;
    for (const auto& s : per_cpu) {
#define XGRESS_SUM_FIELD(field) sum.field += s.field;
        XGRESS_GLOBAL_STATS_FIELDS(XGRESS_SUM_FIELD)
#undef XGRESS_SUM_FIELD
    }
    if (frontend_stats_fd >= 0) sum.xdp_matched += derive_xdp_matched(frontend_stats_fd);  // ABI 7
    xgress_derive_xdp_packets(&sum);  // not counted by the program (ABI 6)
    return sum;
}

// The tables map (ABI 9: port_flags and vip_frontends, the programs' global
// data) of `map_fd` mapped into this process, shared: stores reach the
// programs. For a pinned map or an object without a skeleton; with a
// skeleton, skel->bss->xgress_tables is the same memory.
class MappedTables {
public:
    // `size`: the map's value size, when it may be an older, shorter layout
    // (ABI 9 had no node_addr_list): only that many bytes are valid then.
    explicit MappedTables(int map_fd, std::size_t size = sizeof(xgress_tables)) : size_(size) {
        void* at = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
        if (at != MAP_FAILED) tables_ = static_cast<xgress_tables*>(at);
    }
    ~MappedTables() {
        if (tables_) munmap(tables_, size_);
    }
    MappedTables(const MappedTables&) = delete;
    MappedTables& operator=(const MappedTables&) = delete;
    xgress_tables* get() const { return tables_; }  // nullptr when the mmap failed

private:
    std::size_t size_;
    xgress_tables* tables_ = nullptr;
};

// Sets the port_flags bit `key` needs, as the agent does before writing a
// frontend entry: without it the classifiers never look the entry up.
inline void mark_port(xgress_tables& tables, const xgress_frontend_key& key) {
    tables.port_flags[ntohs(key.port)].flags |= xgress_port_flag_for(&key);
}

// Writes the NodePort copy of (port, proto) into the port's port_flags entry
// (ABI 8), keeping the entry's flags and other copy, as the agent does after
// writing the wildcard hash entry. id 0 removes the copy.
inline void set_nodeport_copy(xgress_tables& tables, std::uint16_t port, std::uint8_t proto,
                              const xgress_frontend_value& value) {
    *xgress_port_nodeport_copy(&tables.port_flags[port], proto) = value;
}

// Puts the NodePort range on port_flags as the agent does (see
// XGRESS_PORT_NODEPORT_RANGE): range bits cleared on [clear_min, clear_max]
// (the previous range), then set on [min, max] (none when max is 0), the
// frontend bits kept.
inline void set_port_range_bits(xgress_tables& tables, std::uint16_t clear_min, std::uint16_t clear_max,
                                std::uint16_t min, std::uint16_t max, bool drop) {
    auto update = [&](std::uint32_t port, bool inside) {
        std::uint8_t& flags = tables.port_flags[port].flags;
        flags = static_cast<std::uint8_t>(flags & ~(XGRESS_PORT_NODEPORT_RANGE | XGRESS_PORT_DROP_UNALLOCATED));
        if (inside) flags |= XGRESS_PORT_NODEPORT_RANGE | (drop ? XGRESS_PORT_DROP_UNALLOCATED : 0);
    };
    if (clear_max != 0)
        for (std::uint32_t port = clear_min; port <= clear_max; ++port) update(port, false);
    if (max != 0)
        for (std::uint32_t port = min; port <= max; ++port) update(port, true);
}

// Copies an exact (VIP) entry into vip_frontends as the agent does: the
// slot's owner when the slot is free, else the slot's OVERFLOW flag (the
// classifiers then ask the frontends hash, which must hold the entry).
inline void place_vip(xgress_tables& tables, const xgress_frontend_key& key, const xgress_frontend_value& value) {
    xgress_vip_slot& slot = tables.vip_frontends[xgress_vip_slot_index(&key)];
    if (slot.value.id == 0 || std::memcmp(&slot.key, &key, sizeof(key)) == 0) {
        slot.key = key;
        slot.value = value;
    } else {
        slot.flags |= XGRESS_VIP_SLOT_OVERFLOW;
    }
}

// An exact key other than `key` (same port and protocol, an address in
// 10.0.0.0/8) that falls into the same vip_frontends slot.
inline xgress_frontend_key vip_colliding_with(const xgress_frontend_key& key) {
    const std::uint32_t want = xgress_vip_slot_index(&key);
    for (std::uint32_t i = 1; i < (1u << 24); ++i) {
        xgress_frontend_key other = key;
        std::memset(other.addr, 0, sizeof(other.addr));
        other.flags = 0;
        const std::uint32_t addr = htonl((10u << 24) | i);
        std::memcpy(other.addr, &addr, 4);
        if (xgress_vip_slot_index(&other) == want && std::memcmp(&other, &key, sizeof(key)) != 0) return other;
    }
    return key;
}

// Writes node_addr_list (the classifiers' inline copy of the node
// addresses, in the tables since ABI 10): the listed addresses, with the
// COMPLETE flag of each family in `complete_flags` (a family not complete
// falls back to node_addrs on a miss).
inline void set_node_addr_list(xgress_node_addr_list& list, const std::vector<std::string>& addresses,
                               std::uint32_t complete_flags) {
    list = xgress_node_addr_list{};
    for (const auto& address : addresses) {
        if (is_v6(address))
            inet_pton(AF_INET6, address.c_str(), list.ipv6[list.ipv6_count++]);
        else
            inet_pton(AF_INET, address.c_str(), list.ipv4[list.ipv4_count++]);
    }
    list.flags = complete_flags;
}

// Unpinned: tests must never touch a real pin root.
inline void unpin_all_maps(bpf_object* obj) {
    bpf_map* map = nullptr;
    bpf_object__for_each_map(map, obj) bpf_map__set_pin_path(map, nullptr);
}

}  // namespace xgress::test

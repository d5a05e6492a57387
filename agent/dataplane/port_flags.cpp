#include "port_flags.h"

#include <bpf/bpf.h>
#include <endian.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

PortFlagTable empty_port_flags() { return PortFlagTable(XGRESS_PORT_FLAGS_ENTRIES, 0); }

PortFlagTable port_flags_for(const std::vector<FrontendKey>& keys) {
    PortFlagTable table = empty_port_flags();
    for (const auto& key : keys) {
        const auto raw = key.raw();
        std::uint16_t port = 0;
        std::memcpy(&port, &raw.port, sizeof(port));
        table[be16toh(port)] |= xgress_port_flag_for(&raw);
    }
    return table;
}

PortFlagTable with_node_port_range(PortFlagTable table, std::uint16_t min, std::uint16_t max, bool drop) {
    constexpr std::uint8_t range_bits = XGRESS_PORT_NODEPORT_RANGE | XGRESS_PORT_DROP_UNALLOCATED;
    const std::uint8_t set = static_cast<std::uint8_t>(XGRESS_PORT_NODEPORT_RANGE | (drop ? XGRESS_PORT_DROP_UNALLOCATED : 0));
    for (std::size_t port = 0; port < table.size(); ++port) {
        const bool inside = max != 0 && port >= min && port <= max;
        table[port] = static_cast<std::uint8_t>((table[port] & ~range_bits) | (inside ? set : 0));
    }
    return table;
}

PortFlagTable widen(const PortFlagTable& a, const PortFlagTable& b) {
    PortFlagTable out = a;
    for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] |= b[i];
    return out;
}

std::vector<std::uint32_t> changed_ports(const PortFlagTable& from, const PortFlagTable& to) {
    std::vector<std::uint32_t> ports;
    for (std::uint32_t port = 0; port < to.size(); ++port)
        if (port >= from.size() || from[port] != to[port]) ports.push_back(port);
    return ports;
}

std::expected<PortFlagTable, Error> read_port_flags(int map_fd) {
    PortFlagTable table = empty_port_flags();
    std::vector<std::uint32_t> keys(XGRESS_PORT_FLAGS_ENTRIES);
    std::vector<xgress_port_flags> values(XGRESS_PORT_FLAGS_ENTRIES);
    std::uint32_t out_batch = 0;
    bool first = true;
    for (;;) {
        __u32 count = XGRESS_PORT_FLAGS_ENTRIES;
        int rc = bpf_map_lookup_batch(map_fd, first ? nullptr : &out_batch, &out_batch, keys.data(), values.data(),
                                      &count, nullptr);
        const int err = rc ? errno : 0;
        for (__u32 i = 0; i < count; ++i)
            if (keys[i] < table.size()) table[keys[i]] = values[i].flags;
        if (rc != 0 && err == ENOENT) break;  // every entry read
        if (rc != 0) return std::unexpected(Error{fmt::format("read port_flags: {}", std::strerror(err))});
        first = false;
    }
    return table;
}

std::expected<void, Error> write_port_flags(int map_fd, PortFlagTable& cache, const PortFlagTable& to) {
    std::vector<PortFlagValue> values;
    for (auto port : changed_ports(cache, to)) values.push_back({port, to[port]});
    return write_port_flag_values(map_fd, cache, values);
}

std::expected<void, Error> write_port_flag_values(int map_fd, PortFlagTable& cache,
                                                  const std::vector<PortFlagValue>& values) {
    std::vector<std::uint32_t> ports;
    std::vector<std::uint8_t> flags;
    for (const auto& value : values) {
        if (value.port >= cache.size() || cache[value.port] == value.flags) continue;
        ports.push_back(value.port);
        flags.push_back(value.flags);
    }
    if (ports.empty()) return {};
    // Whole entries are written: each keeps its NodePort copies (ABI 8), read
    // back first (this process is the map's only writer).
    std::vector<xgress_port_flags> entries(ports.size());
    for (std::size_t i = 0; i < ports.size(); ++i) {
        if (bpf_map_lookup_elem(map_fd, &ports[i], &entries[i]) != 0)
            return std::unexpected(
                Error{fmt::format("read port_flags entry {}: {}", ports[i], std::strerror(errno))});
        entries[i].flags = flags[i];
    }
    __u32 count = static_cast<__u32>(ports.size());
    if (bpf_map_update_batch(map_fd, ports.data(), entries.data(), &count, nullptr) != 0) {
        const int err = errno;
        if (auto reread = read_port_flags(map_fd)) cache = std::move(*reread);
        return std::unexpected(Error{fmt::format("write port_flags ({} ports): {}", ports.size(), std::strerror(err))});
    }
    for (std::size_t i = 0; i < ports.size(); ++i) cache[ports[i]] = entries[i].flags;
    return {};
}

}  // namespace xgress::agent::dataplane

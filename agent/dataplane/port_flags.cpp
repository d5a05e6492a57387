#include "port_flags.h"

#include <endian.h>

#include <cstring>

#include "tables.h"
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

PortFlagTable read_port_flags(const xgress_tables& tables) {
    PortFlagTable table = empty_port_flags();
    for (std::size_t port = 0; port < table.size(); ++port) table[port] = tables.port_flags[port].flags;
    return table;
}

std::size_t write_port_flags(xgress_tables& tables, PortFlagTable& cache, const PortFlagTable& to) {
    std::vector<PortFlagValue> values;
    for (auto port : changed_ports(cache, to)) values.push_back({port, to[port]});
    return write_port_flag_values(tables, cache, values);
}

std::size_t write_port_flag_values(xgress_tables& tables, PortFlagTable& cache,
                                   const std::vector<PortFlagValue>& values) {
    std::size_t written = 0;
    for (const auto& value : values) {
        if (value.port >= cache.size() || cache[value.port] == value.flags) continue;
        store_port_flags(tables.port_flags[value.port], value.flags);
        cache[value.port] = value.flags;
        ++written;
    }
    return written;
}

}  // namespace xgress::agent::dataplane

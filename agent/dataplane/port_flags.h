// The port_flags array (bpf_abi.h): for every destination port, which kinds
// of frontend (TCP/UDP x VIP/NodePort) use it. The classifiers read it before
// any hash lookup, so it must never miss a flag for an entry the frontends
// map holds. Dataplane::apply_frontends therefore writes it in two steps:
//   before the frontend writes  current | target  (only sets bits)
//   after the frontend deletes  target            (clears what is gone)
// A port shared by several frontends keeps its bit until the last goes.
//
// The table computations are pure (unit-tested without root); the I/O
// helpers read and store the port_flags array of the shared tables (ABI 9).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <vector>

#include "dataplane.h"
#include "frontend_plan.h"
#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

// One byte of XGRESS_PORT_* per port, indexed by port (host order): the
// frontend bits (derived from the frontends map) and the NodePort-range bits
// (derived from Options).
using PortFlagTable = std::vector<std::uint8_t>;

PortFlagTable empty_port_flags();

// The flags the frontend entries `keys` need.
PortFlagTable port_flags_for(const std::vector<FrontendKey>& keys);

// `table` with XGRESS_PORT_NODEPORT_RANGE (and XGRESS_PORT_DROP_UNALLOCATED
// when `drop`) on exactly the ports in [min, max] and on no other port; the
// frontend bits are kept. min = max = 0 (no range) clears them everywhere.
// The XDP program decides "unallocated NodePort?" from these bits.
PortFlagTable with_node_port_range(PortFlagTable table, std::uint16_t min, std::uint16_t max, bool drop);

// Bitwise OR, port by port.
PortFlagTable widen(const PortFlagTable& a, const PortFlagTable& b);

// Ports whose entry differs between `from` and `to`.
std::vector<std::uint32_t> changed_ports(const PortFlagTable& from, const PortFlagTable& to);

// The flags of every port, as the tables hold them.
PortFlagTable read_port_flags(const xgress_tables& tables);

// Stores the entries of `to` that differ from `cache` and updates `cache`.
// Only the flags change: each entry's NodePort copies stay. Returns how many
// ports it wrote.
std::size_t write_port_flags(xgress_tables& tables, PortFlagTable& cache, const PortFlagTable& to);

// The same for a few ports (the incremental apply knows which ports its
// changed frontends use and does not scan all 65,536): stores the (port,
// flags) pairs that differ from `cache`.
struct PortFlagValue {
    std::uint32_t port;
    std::uint8_t flags;
};
std::size_t write_port_flag_values(xgress_tables& tables, PortFlagTable& cache,
                                   const std::vector<PortFlagValue>& values);

}  // namespace xgress::agent::dataplane

// Decodes a routing snapshot (xgress/snapshot.h) straight into a RouteTable:
// backends, endpoints, hosts and routes are written into the table's own
// storage as the document is read, with no snapshot::* strings and vectors
// per rule in between (a 10,000-rule swap built ~30,000 of them, then threw
// them away after RouteTable::build; issue 5).
//
// It accepts exactly what snapshot::decode() + RouteTable::build() accept
// and gives the same table. It does not word errors itself: any document it
// does not take on the fast path (an error anywhere, or a build error such
// as a bad regex) goes through decode() + build(), so a rejected snapshot is
// NACKed with the same reason as before. The snapshot fuzzer
// (test/fuzz/snapshot_table_fuzzer) checks the two paths against each other.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "router/route_table.h"
#include "xgress/snapshot.h"

namespace xgress::control {

struct DecodedSnapshot {
    std::shared_ptr<const router::RouteTable> table;
    // What the proxy needs besides the table: version, certificates,
    // default_certificate and the virtual hosts with a passthrough_backend
    // (host, ingress_class, passthrough_backend; no routes) for the TLS
    // state. From the general path: the whole decoded snapshot.
    snapshot::Snapshot rest;
};

// `previous`: the serving table (may be null); unchanged backends are
// shared with it (RouteTable::build's `previous`).
std::expected<DecodedSnapshot, std::string> decode_table(std::string_view json, const router::RouteTable* previous);

// The fast path alone; nullopt: the document needs the general path. For
// tests and the fuzzer.
std::optional<DecodedSnapshot> decode_table_fast(std::string_view json, const router::RouteTable* previous);

}  // namespace xgress::control

// Local routes for LoadBalancer VIPs (and externalIPs) that no interface of
// the node holds: without one the kernel would forward or drop packets for
// the VIP instead of delivering them locally, and sk_lookup would never run.
// Equivalent to `ip route add local VIP dev lo table local proto xgress`,
// written with plain rtnetlink (the agent must not shell out to `ip`).
//
// The routes are marked with our own routing protocol number
// (kXgressRouteProtocol), so the set we own is read back from the kernel
// rather than remembered: a restarted agent or `--cleanup` finds exactly the
// routes an earlier agent made, and never touches anyone else's.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <set>
#include <vector>

#include "dataplane.h"

namespace xgress::agent::dataplane {

// rtm_protocol of our routes (`ip route show table local proto 121`). Not in
// iproute2's well-known list (rt_protos), below the range routing daemons use.
inline constexpr std::uint8_t kXgressRouteProtocol = 121;

// Local-table routes of type local with our protocol, both families.
std::expected<std::vector<IpAddress>, Error> xgress_local_routes();

// Makes our local routes exactly `addresses`: adds the missing ones first,
// then removes the stale ones.
std::expected<void, Error> sync_local_routes(const std::vector<IpAddress>& addresses);

// The same, starting from `owned` (what the last successful sync left)
// instead of a route dump when it is set: the dump of a local table with
// 1,000 VIP routes cost ~2 ms on every frontend change. `owned` is set to
// `addresses` on success and left unset on failure (the next call dumps).
// A route someone else removes meanwhile comes back on the process's next
// dump, i.e. after a failure or a restart, not on the next change.
std::expected<void, Error> sync_local_routes(const std::vector<IpAddress>& addresses,
                                             std::optional<std::set<IpAddress>>& owned);

// The incremental form, for a few addresses whose wanted state is known:
// adds the routes of `add` we do not own yet, then removes the ones of
// `remove` we own. `owned` must be set (what the last sync left); it is
// updated on success and unset on failure (the next full sync dumps).
std::expected<void, Error> change_local_routes(const std::vector<IpAddress>& add,
                                               const std::vector<IpAddress>& remove,
                                               std::optional<std::set<IpAddress>>& owned);

// Removes every local route we own.
std::expected<void, Error> remove_local_routes();

}  // namespace xgress::agent::dataplane

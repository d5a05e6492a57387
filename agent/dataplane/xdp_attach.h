// XDP attachment through libxdp's dispatcher, so xgress coexists with other
// XDP programs on the same interface. One program instance is loaded per
// interface (each dispatcher needs its own freplace target); all instances
// share the pinned maps.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "dataplane.h"

namespace xgress::agent::dataplane {

// Every non-loopback interface holding an IPv4 or IPv6 address.
std::expected<std::vector<std::string>, Error> interfaces_with_addresses();

// Every interface of the namespace except loopback (cleanup looks everywhere).
std::vector<std::string> all_non_loopback_interfaces();

// True when our program already runs on the interface (agent restart).
bool xdp_attached(int ifindex);

// Loads the XDP object (maps reused from pin_root) and attaches it in native
// mode, falling back to SKB mode when allowed.
std::expected<void, Error> attach_xdp(const std::string& interface, const std::string& pin_root,
                                      bool allow_generic);

// Detaches our program from the interface; no-op when it is not there.
std::expected<void, Error> detach_xdp(const std::string& interface);

}  // namespace xgress::agent::dataplane

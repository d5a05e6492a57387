// The snapshot codec's own checks, for the proxy's table decoder
// (table_decoder.h), which reads the same documents without building
// snapshot::* objects and must accept exactly what decode() accepts.
// Internal to proxy/: the agent sees only xgress/snapshot.h.
#pragma once

#include <string_view>

#include <simdjson.h>

#include "xgress/snapshot.h"

namespace xgress::snapshot::detail {

// A route object's schema-2 fields into `r` (path, match and backend are not
// read); false where decode() would reject them.
bool read_route_policy(simdjson::dom::object route, Route& r);

// An IPv4 or IPv6 literal, as decode() checks endpoint and frontend addresses.
bool is_address(std::string_view address);

}  // namespace xgress::snapshot::detail

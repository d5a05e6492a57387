// Per-request limits a route target can override: upstream timeouts and the
// request body limit. The worker holds the defaults (flags); a BackendTarget
// may carry overrides (the hook for ingress-nginx style `proxy-*-timeout` /
// `proxy-body-size` annotations once the snapshot carries them). A zero
// field means "use the worker default"; resolve() merges the two.
#pragma once

#include <cstdint>

namespace xgress::router {

struct RoutePolicy {
    std::uint32_t connect_timeout_ms = 0;  // upstream connect
    std::uint32_t send_timeout_ms = 0;     // upstream write: no progress sending the request
    std::uint32_t read_timeout_ms = 0;     // upstream read: no byte of the response for this long
    std::uint64_t max_body_bytes = 0;      // request body limit (413); 0 in defaults = unlimited

    // Fields left zero here are taken from `defaults`.
    RoutePolicy resolve(const RoutePolicy& defaults) const {
        RoutePolicy r = *this;
        if (!r.connect_timeout_ms) r.connect_timeout_ms = defaults.connect_timeout_ms;
        if (!r.send_timeout_ms) r.send_timeout_ms = defaults.send_timeout_ms;
        if (!r.read_timeout_ms) r.read_timeout_ms = defaults.read_timeout_ms;
        if (!r.max_body_bytes) r.max_body_bytes = defaults.max_body_bytes;
        return r;
    }
};

}  // namespace xgress::router

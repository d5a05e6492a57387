// The snapshot codec's own checks, for the proxy's table decoder
// (table_decoder.h), which reads the same documents without building
// snapshot::* objects and must accept exactly what decode() accepts.
// Internal to proxy/: the agent sees only xgress/snapshot.h.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <simdjson.h>

#include "xgress/snapshot.h"

namespace xgress::snapshot::detail {

// Several members of `obj`, found in one pass over its keys. Looking each
// up by name (obj[key]) walks the keys from the start every time and takes
// the key's strlen: for the routes, hosts, backends and endpoints of a
// 10,000-rule snapshot that was a fifth of decoding past the JSON parse.
// A repeated key keeps its first value, as obj[key] does.
template <std::size_t N>
struct Members {
    std::array<simdjson::dom::element, N> value;
    std::array<bool, N> found{};
    bool has(std::size_t i) const { return found[i]; }
};

template <std::size_t N>
Members<N> find_members(simdjson::dom::object obj, const std::array<std::string_view, N>& keys) {
    Members<N> m;
    std::size_t left = N;
    for (simdjson::dom::key_value_pair kv : obj) {
        for (std::size_t i = 0; i < N; ++i) {
            if (m.found[i] || kv.key != keys[i]) continue;
            m.value[i] = kv.value;
            m.found[i] = true;
            if (--left == 0) return m;
            break;
        }
    }
    return m;
}

// A route object's schema-2 fields into `r` (path, match and backend are not
// read); false where decode() would reject them.
bool read_route_policy(simdjson::dom::object route, Route& r);

// An IPv4 or IPv6 literal, as decode() checks endpoint and frontend addresses.
bool is_address(std::string_view address);

}  // namespace xgress::snapshot::detail

// Computes how to turn the frontends a map holds into the desired set: which
// entries to write (with stable ids: an existing frontend keeps its id, a new
// one takes the lowest id nobody holds) and which to delete, and the same for
// the source-range trie entries keyed by those ids. Pure: no kernel, so the
// reconcile logic is unit-tested without root.
//
// Apply order (Dataplane::apply_frontends), chosen so that no packet sees a
// half-written frontend:
//   1. range_adds      a frontend's new allowed prefixes exist before its
//                      value says "filter by ranges"
//   2. writes          values (id, slot, flags) replaced atomically per entry
//   3. deletes         frontends that went away
//   4. range_deletes   prefixes no longer allowed / of deleted frontends
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <expected>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "dataplane.h"
#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

// xgress_frontend_key as an ordered value (the C struct has no operator<).
struct FrontendKey {
    std::array<std::uint8_t, sizeof(xgress_frontend_key)> bytes{};

    static FrontendKey from(const xgress_frontend_key& key) {
        FrontendKey k;
        std::memcpy(k.bytes.data(), &key, sizeof(key));
        return k;
    }
    xgress_frontend_key raw() const {
        xgress_frontend_key key;
        std::memcpy(&key, bytes.data(), sizeof(key));
        return key;
    }
    auto operator<=>(const FrontendKey&) const = default;
};

// The map key a spec is stored under.
FrontendKey frontend_key(const FrontendSpec& spec);

// xgress_source_range_key as an ordered value.
struct SourceRangeKey {
    std::array<std::uint8_t, sizeof(xgress_source_range_key)> bytes{};

    static SourceRangeKey from(const xgress_source_range_key& key) {
        SourceRangeKey k;
        std::memcpy(k.bytes.data(), &key, sizeof(key));
        return k;
    }
    xgress_source_range_key raw() const {
        xgress_source_range_key key;
        std::memcpy(&key, bytes.data(), sizeof(key));
        return key;
    }
    auto operator<=>(const SourceRangeKey&) const = default;
};

// The trie key for `prefix` under frontend `id`: host bits cleared, IPv4
// mapped into ::ffff:0:0/96. Fails on a prefix length too long for its family.
std::expected<SourceRangeKey, Error> source_range_key(std::uint32_t id, const IpPrefix& prefix);

// "10.0.0.0/8", "2001:db8::/32" (IPv4-mapped keys are shown as IPv4).
std::string describe(const xgress_source_range_key& key);

// What a frontend map entry currently holds.
struct CurrentFrontend {
    std::uint32_t id = 0;
    std::uint32_t listener_slot = 0;
    std::string name;  // as stored in frontend_names (possibly truncated)
    std::uint32_t flags = 0;  // xgress_frontend_value.flags
};

struct FrontendWrite {
    FrontendKey key;
    xgress_frontend_value value{};
    std::string name;
    bool is_new = false;  // id newly taken: its counters must be zeroed first
};

struct FrontendPlan {
    std::vector<SourceRangeKey> range_adds;     // 1
    std::vector<FrontendWrite> writes;          // 2
    std::vector<FrontendKey> deletes;           // 3
    std::vector<SourceRangeKey> range_deletes;  // 4
};

// Fails (naming the frontend) on invalid specs, conflicting duplicates, or when
// ids run out. An entry whose slot, name and flags are unchanged is not
// rewritten. `current_ranges` is what the source_ranges trie holds.
//
// `reserved_ids` (indexed by id, may be null) marks ids held by entries the
// call is not given: the incremental apply plans only the keys that changed
// (`current`, `desired` and `current_ranges` restricted to them) and passes
// every other entry's id here, which yields the same plan, restricted to
// those keys, as planning the whole map.
std::expected<FrontendPlan, Error> plan_frontends(const std::map<FrontendKey, CurrentFrontend>& current,
                                                  const std::vector<FrontendSpec>& desired,
                                                  const std::set<SourceRangeKey>& current_ranges = {},
                                                  const std::vector<bool>* reserved_ids = nullptr);

// The name as frontend_names stores it: truncated to fit with its NUL.
std::string stored_name(const std::string& name);

// "198.18.0.1:30080/tcp", "*node*:30080/tcp", "[2001:db8::1]:443/tcp".
std::string describe(const xgress_frontend_key& key);

}  // namespace xgress::agent::dataplane

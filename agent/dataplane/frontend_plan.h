// Computes how to turn the frontends a map holds into the desired set: which
// entries to write (with stable ids: an existing frontend keeps its id, a new
// one takes the lowest id nobody holds) and which to delete. Pure: no kernel,
// so the reconcile logic is unit-tested without root.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <expected>
#include <map>
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

// What a frontend map entry currently holds.
struct CurrentFrontend {
    std::uint32_t id = 0;
    std::uint32_t listener_slot = 0;
    std::string name;  // as stored in frontend_names (possibly truncated)
};

struct FrontendWrite {
    FrontendKey key;
    xgress_frontend_value value{};
    std::string name;
    bool is_new = false;  // id newly taken: its counters must be zeroed first
};

struct FrontendPlan {
    std::vector<FrontendWrite> writes;  // apply first
    std::vector<FrontendKey> deletes;   // apply last
};

// Fails (naming the frontend) on invalid specs, conflicting duplicates, or when
// ids run out. An entry whose slot and name are unchanged is not rewritten.
std::expected<FrontendPlan, Error> plan_frontends(const std::map<FrontendKey, CurrentFrontend>& current,
                                                  const std::vector<FrontendSpec>& desired);

// The name as frontend_names stores it: truncated to fit with its NUL.
std::string stored_name(const std::string& name);

// "198.18.0.1:30080/tcp", "*node*:30080/tcp", "[2001:db8::1]:443/tcp".
std::string describe(const xgress_frontend_key& key);

}  // namespace xgress::agent::dataplane

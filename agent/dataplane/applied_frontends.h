// The frontend list the last successful Dataplane::apply_frontends was given,
// indexed by map key, so that the next call can find the few keys whose spec
// changed (one EndpointSlice flipping a Local Service touches one or two of
// ~2,000) and plan, write and route only those. It also answers, for the
// changed keys only, the two questions that otherwise need every frontend:
// which XGRESS_PORT_* bits a port needs, and whether a VIP address is still
// used by any frontend. Pure (no kernel), unit-tested without root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane.h"
#include "frontend_plan.h"

namespace xgress::agent::dataplane {

struct FrontendKeyHash {
    std::size_t operator()(const FrontendKey& key) const noexcept;
};

// One key whose spec differs between the applied list and the next one.
struct FrontendChange {
    FrontendKey key;
    const FrontendSpec* before = nullptr;  // applied spec (owned by AppliedFrontends); null: new key
    const FrontendSpec* after = nullptr;   // spec in the next list; null: key removed
};

class AppliedFrontends {
public:
    // The keys added, changed or removed by `next`, in no particular order;
    // nullopt when `next` lists a key twice (the full plan resolves or
    // rejects duplicates). Pointers stay valid until the next commit/assign.
    std::optional<std::vector<FrontendChange>> diff(const std::vector<FrontendSpec>& next);

    // Records that the maps now hold `changes` applied (their `after` specs
    // are copied). Port bits and VIP address users follow.
    void commit(const std::vector<FrontendChange>& changes);

    // Replaces everything with `all` (after a full apply; the first spec of a
    // key listed twice wins, as in plan_frontends).
    void assign(const std::vector<FrontendSpec>& all);

    const FrontendSpec* find(const FrontendKey& key) const;
    std::size_t size() const { return entries_.size(); }

    // The frontend bits (XGRESS_PORT_TCP_VIP ...) the applied keys need on `port`.
    std::uint8_t port_flags(std::uint16_t port) const;

    // Whether an applied VIP (exact) frontend is on `address`; every such address.
    bool vip_address_used(const IpAddress& address) const { return vip_addresses_.contains(address); }
    std::vector<IpAddress> vip_addresses() const;

private:
    struct Entry {
        FrontendSpec spec;
        std::uint64_t seen = 0;  // generation of the last diff that listed the key
    };
    void add(const FrontendKey& key, const FrontendSpec& spec);
    void remove(std::unordered_map<FrontendKey, Entry, FrontendKeyHash>::iterator it);

    std::unordered_map<FrontendKey, Entry, FrontendKeyHash> entries_;
    std::unordered_map<std::uint32_t, std::uint32_t> port_users_;  // (port << 8 | bit) -> keys using it
    std::map<IpAddress, std::uint32_t> vip_addresses_;             // address -> VIP keys on it
    std::uint64_t generation_ = 0;
    std::unordered_set<FrontendKey, FrontendKeyHash> new_keys_;     // scratch for diff
};

}  // namespace xgress::agent::dataplane

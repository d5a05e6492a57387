// Choosing an endpoint of a backend, per worker (no shared counters):
//
// - Balance::P2c (default): power of two choices on least outstanding
//   requests: two distinct random endpoints, the one with fewer requests in
//   flight *from this worker* wins (ties: the first). Per-worker counts need
//   no synchronisation and, with SO_REUSEPORT spreading clients, approximate
//   the global ones (Mitzenmacher: two choices already give an exponential
//   improvement over one).
// - Balance::RoundRobin: rotate over the usable endpoints; the cursor moves
//   past each choice, so an ejected endpoint's turn is not inherited by its
//   successor (which would otherwise get a double share).
// - pick_hashed(): consistent hashing on the backend's Maglev table (client_ip
//   affinity, hash_by, affinity cookies); an ejected or avoided endpoint moves
//   the choice to the next slot of the table.
//
// Passive health: an endpoint that refused a connection or timed out is
// ejected for a backoff (1 s, doubling per consecutive failure, at most 30 s)
// and skipped while ejected. When every endpoint of a backend is ejected the
// picker fails open: a guess beats a certain 503.
//
// State (health, outstanding counts, rotation) is per backend. When the
// worker swaps tables, a backend whose object did not change (an
// EndpointsPatch that did not touch it) keeps its state; others start fresh
// under a new token, and reports carrying an old token are ignored. epoch()
// changes on every swap (a retry refuses to re-pick across swaps).
#pragma once

#include <cstdint>
#include <vector>

#include "router/route_table.h"

namespace xgress::upstream {

inline constexpr std::uint32_t kNoEndpoint = UINT32_MAX;

enum class Balance : std::uint8_t { P2c, RoundRobin };

class EndpointPicker {
public:
    static constexpr std::uint64_t kBaseBackoffMs = 1000;
    static constexpr std::uint64_t kMaxBackoffMs = 30000;

    void set_balance(Balance b) { balance_ = b; }
    // Adopts `table`; keeps the state of backends whose object is the one
    // `previous` (may be null) had at the same index.
    void reset(const router::RouteTable& table, std::uint32_t seed, const router::RouteTable* previous = nullptr);

    // Index into the backend's endpoints, or kNoEndpoint when it has none
    // (answer 503). `avoid` (an index, or kNoEndpoint) is skipped when any
    // other endpoint is available: the retry after a failure goes elsewhere.
    std::uint32_t pick(std::uint32_t backend, std::uint64_t now_ms, std::uint32_t avoid = kNoEndpoint);
    // Consistent choice for `hash` on `ring`, the backend's table in the
    // routing table this picker was last reset with (an empty ring: pick()).
    std::uint32_t pick_hashed(const router::MaglevTable& ring, std::uint32_t backend, std::uint64_t hash,
                              std::uint64_t now_ms, std::uint32_t avoid = kNoEndpoint);

    // In-flight accounting for P2C; `token` from token(backend) at begin time.
    void begin(std::uint32_t backend, std::uint32_t endpoint) {
        if (endpoint < state_[backend].count) ++at(state_[backend])[endpoint].outstanding;
    }
    void end(std::uint64_t token, std::uint32_t backend, std::uint32_t endpoint) {
        if (Endpoint* e = find(token, backend, endpoint); e && e->outstanding) --e->outstanding;
    }
    std::uint32_t outstanding(std::uint32_t backend, std::uint32_t endpoint) const {
        return at(state_[backend])[endpoint].outstanding;
    }

    // A connect refusal or timeout. Returns true when this ejected the endpoint.
    bool report_failure(std::uint64_t token, std::uint32_t backend, std::uint32_t endpoint, std::uint64_t now_ms);
    // A response arrived: the endpoint is healthy again.
    void report_success(std::uint64_t token, std::uint32_t backend, std::uint32_t endpoint) {
        if (Endpoint* e = find(token, backend, endpoint); e && e->failures) {
            e->failures = 0;
            e->ejected_until_ms = 0;
        }
    }

    bool ejected(std::uint32_t backend, std::uint32_t endpoint, std::uint64_t now_ms) const {
        return at(state_[backend])[endpoint].ejected_until_ms > now_ms;
    }
    std::uint64_t epoch() const { return epoch_; }
    std::uint64_t token(std::uint32_t backend) const { return state_[backend].token; }

private:
    struct Endpoint {
        std::uint32_t failures = 0;          // consecutive
        std::uint32_t outstanding = 0;       // requests in flight from this worker
        std::uint64_t ejected_until_ms = 0;  // 0: never ejected
    };
    struct Backend {
        std::uint64_t token = 0;
        std::uint32_t next = 0;  // round robin cursor: the endpoint after the last choice
        const void* identity = nullptr;  // the BackendTarget this state belongs to
        // This backend's endpoints: endpoints_[first, first + count). One
        // array for every backend, not a vector each: adopting a 10,000-
        // backend table allocated (and freed the old table's) 10,000 small
        // vectors on the worker, on the data path (issue 5). An offset, not a
        // pointer, so a copied picker stays valid.
        std::uint32_t first = 0;
        std::uint32_t count = 0;
    };
    Endpoint* at(const Backend& b) { return endpoints_.data() + b.first; }
    const Endpoint* at(const Backend& b) const { return endpoints_.data() + b.first; }
    Endpoint* find(std::uint64_t token, std::uint32_t backend, std::uint32_t endpoint) {
        if (backend >= state_.size() || state_[backend].token != token) return nullptr;
        const Backend& b = state_[backend];
        return endpoint < b.count ? &at(b)[endpoint] : nullptr;
    }
    std::uint64_t random() {
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return rng_;
    }
    std::uint32_t round_robin(Backend& b, std::uint64_t now_ms, std::uint32_t avoid);

    Balance balance_ = Balance::P2c;
    std::vector<Backend> state_;
    std::vector<Endpoint> endpoints_;  // every backend's, back to back (Backend::first)
    std::uint64_t epoch_ = 0;
    std::uint64_t next_token_ = 0;
    std::uint64_t rng_ = 0x9e3779b97f4a7c15ULL;
};

}  // namespace xgress::upstream

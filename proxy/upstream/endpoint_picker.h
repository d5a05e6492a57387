// Round-robin choice among a backend's endpoints, with passive health: an
// endpoint that refused a connection or timed out is ejected for a backoff
// (1 s, doubling per consecutive failure, at most 30 s) and skipped while
// ejected. When every endpoint of a backend is ejected the picker fails open
// (keeps rotating over all of them): a guess beats a certain 503.
//
// One picker per worker, so the counters and health are never shared between
// threads; it is rebuilt (sized to the table's backends) whenever the worker
// swaps in a new routing table, and `epoch()` changes so that a failure
// reported for an index of the old table is ignored.
#pragma once

#include <cstdint>
#include <vector>

#include "router/route_table.h"

namespace xgress::upstream {

inline constexpr std::uint32_t kNoEndpoint = UINT32_MAX;

class EndpointPicker {
public:
    static constexpr std::uint64_t kBaseBackoffMs = 1000;
    static constexpr std::uint64_t kMaxBackoffMs = 30000;

    void reset(const router::RouteTable& table, std::uint32_t seed);

    // Index into the backend's endpoints, or kNoEndpoint when it has none
    // (answer 503). `avoid` (an index, or kNoEndpoint) is skipped when any
    // other endpoint is available: the retry after a failure goes elsewhere.
    std::uint32_t pick(std::uint32_t backend, std::uint64_t now_ms, std::uint32_t avoid = kNoEndpoint);

    // A connect refusal or timeout. Returns true when this ejected the endpoint.
    bool report_failure(std::uint64_t epoch, std::uint32_t backend, std::uint32_t endpoint, std::uint64_t now_ms);
    // A response arrived: the endpoint is healthy again.
    void report_success(std::uint64_t epoch, std::uint32_t backend, std::uint32_t endpoint) {
        if (epoch != epoch_ || backend >= health_.size() || endpoint >= health_[backend].size()) return;
        Health& h = health_[backend][endpoint];
        if (h.failures) h = Health{};
    }

    bool ejected(std::uint32_t backend, std::uint32_t endpoint, std::uint64_t now_ms) const {
        return health_[backend][endpoint].ejected_until_ms > now_ms;
    }
    std::uint64_t epoch() const { return epoch_; }

private:
    struct Health {
        std::uint32_t failures = 0;          // consecutive
        std::uint64_t ejected_until_ms = 0;  // 0: never ejected
    };
    std::vector<std::uint32_t> next_;
    std::vector<std::vector<Health>> health_;
    std::uint64_t epoch_ = 0;
};

}  // namespace xgress::upstream

// Round-robin choice among a backend's endpoints. One picker per worker, so
// the counters are never shared between threads; it is rebuilt (sized to the
// table's backends) whenever the worker swaps in a new routing table.
#pragma once

#include <cstdint>
#include <vector>

#include "router/route_table.h"

namespace xgress::upstream {

class EndpointPicker {
public:
    void reset(std::size_t backend_count, std::uint32_t seed) { next_.assign(backend_count, seed); }

    // nullptr when the backend has no endpoints (answer 503).
    const router::EndpointAddress* pick(const router::RouteTable& table, std::uint32_t backend) {
        const auto& eps = table.backends()[backend].endpoints;
        if (eps.empty()) return nullptr;
        std::uint32_t n = next_[backend]++;
        return &eps[n % eps.size()];
    }

private:
    std::vector<std::uint32_t> next_;
};

}  // namespace xgress::upstream

#include "upstream/endpoint_picker.h"

#include <algorithm>

namespace xgress::upstream {

void EndpointPicker::reset(const router::RouteTable& table, std::uint32_t seed) {
    const auto& backends = table.backends();
    next_.assign(backends.size(), seed);
    health_.resize(backends.size());
    for (std::size_t b = 0; b < backends.size(); ++b) health_[b].assign(backends[b].endpoints.size(), Health{});
    ++epoch_;
}

std::uint32_t EndpointPicker::pick(std::uint32_t backend, std::uint64_t now_ms, std::uint32_t avoid) {
    const auto& health = health_[backend];
    const auto n = static_cast<std::uint32_t>(health.size());
    if (n == 0) return kNoEndpoint;
    const std::uint32_t start = next_[backend]++;
    std::uint32_t fallback = kNoEndpoint;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t idx = (start + i) % n;
        if (idx == avoid && n > 1) continue;
        if (health[idx].ejected_until_ms <= now_ms) return idx;
        if (fallback == kNoEndpoint) fallback = idx;
    }
    // Everything (else) is ejected: fail open rather than answer 503.
    return fallback != kNoEndpoint ? fallback : start % n;
}

bool EndpointPicker::report_failure(std::uint64_t epoch, std::uint32_t backend, std::uint32_t endpoint,
                                    std::uint64_t now_ms) {
    if (epoch != epoch_ || backend >= health_.size() || endpoint >= health_[backend].size()) return false;
    Health& h = health_[backend][endpoint];
    // Failures of requests already in flight when the endpoint was ejected do
    // not stretch the backoff.
    if (h.ejected_until_ms > now_ms) return false;
    const std::uint32_t shift = std::min<std::uint32_t>(h.failures, 5);
    h.failures++;
    h.ejected_until_ms = now_ms + std::min(kBaseBackoffMs << shift, kMaxBackoffMs);
    return true;
}

}  // namespace xgress::upstream

#include "upstream/endpoint_picker.h"

#include <algorithm>

namespace xgress::upstream {

void EndpointPicker::reset(const router::RouteTable& table, std::uint32_t seed, const router::RouteTable* previous) {
    const auto backends = table.backends();
    const bool same_routes = previous && previous->backends().size() == backends.size();
    auto fresh = [&](Backend& s, const void* identity) {
        s.token = ++next_token_;
        s.next = seed;
        s.identity = identity;
    };
    // Every backend keeps its endpoint count (an EndpointsPatch that swaps
    // addresses, or none at all): the array stays, and only the replaced
    // backends' ranges start over, in place.
    bool same_layout = same_routes && state_.size() == backends.size();
    for (std::uint32_t b = 0; same_layout && b < backends.size(); ++b)
        same_layout = state_[b].count == backends[b].endpoints.size();
    if (same_layout) {
        for (std::uint32_t b = 0; b < backends.size(); ++b) {
            Backend& s = state_[b];
            if (s.identity == table.backend_identity(b)) continue;
            fresh(s, table.backend_identity(b));
            std::fill_n(at(s), s.count, Endpoint{});
        }
        if (rng_ == 0x9e3779b97f4a7c15ULL) rng_ ^= (static_cast<std::uint64_t>(seed) + 1) * 0xbf58476d1ce4e5b9ULL;
        ++epoch_;
        return;
    }
    std::size_t total = 0;
    for (std::uint32_t b = 0; b < backends.size(); ++b) total += backends[b].endpoints.size();
    std::vector<Backend> next(backends.size());
    std::vector<Endpoint> endpoints(total);
    std::uint32_t first = 0;
    for (std::uint32_t b = 0; b < backends.size(); ++b) {
        const void* identity = table.backend_identity(b);
        const auto count = static_cast<std::uint32_t>(backends[b].endpoints.size());
        Backend& s = next[b];
        if (same_routes && b < state_.size() && state_[b].identity == identity && state_[b].count == count) {
            s = state_[b];
            std::copy_n(at(state_[b]), count, endpoints.data() + first);
        } else {
            fresh(s, identity);
        }
        s.first = first;
        s.count = count;
        first += count;
    }
    state_ = std::move(next);
    endpoints_ = std::move(endpoints);
    if (rng_ == 0x9e3779b97f4a7c15ULL) rng_ ^= (static_cast<std::uint64_t>(seed) + 1) * 0xbf58476d1ce4e5b9ULL;
    ++epoch_;
}

std::uint32_t EndpointPicker::round_robin(Backend& b, std::uint64_t now_ms, std::uint32_t avoid) {
    // The cursor moves past the endpoint chosen, not just one step: were it
    // to advance by one, an ejected endpoint's turn would fall to its
    // successor, which then served two turns per rotation (double share
    // after a kill). Skipping over the live set keeps the rotation fair.
    const std::uint32_t n = b.count;
    const std::uint32_t start = b.next % n;
    std::uint32_t fallback = kNoEndpoint;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t idx = (start + i) % n;
        if (idx == avoid && n > 1) continue;
        if (at(b)[idx].ejected_until_ms <= now_ms) {
            b.next = idx + 1;
            return idx;
        }
        if (fallback == kNoEndpoint) fallback = idx;
    }
    // Everything (else) is ejected: fail open rather than answer 503.
    const std::uint32_t chosen = fallback != kNoEndpoint ? fallback : start;
    b.next = chosen + 1;
    return chosen;
}

std::uint32_t EndpointPicker::pick(std::uint32_t backend, std::uint64_t now_ms, std::uint32_t avoid) {
    Backend& b = state_[backend];
    const std::uint32_t n = b.count;
    if (n == 0) return kNoEndpoint;
    if (n == 1) return 0;
    if (balance_ == Balance::RoundRobin) return round_robin(b, now_ms, avoid);
    const std::uint64_t r = random();
    const auto i = static_cast<std::uint32_t>((r & 0xffffffffu) % n);
    auto j = static_cast<std::uint32_t>((r >> 32) % (n - 1));
    if (j >= i) ++j;
    auto usable = [&](std::uint32_t e) { return e != avoid && at(b)[e].ejected_until_ms <= now_ms; };
    const bool ui = usable(i), uj = usable(j);
    if (ui && uj) return at(b)[j].outstanding < at(b)[i].outstanding ? j : i;
    if (ui) return i;
    if (uj) return j;
    return round_robin(b, now_ms, avoid);  // both unusable: scan for a healthy one
}

std::uint32_t EndpointPicker::pick_hashed(const router::MaglevTable& ring, std::uint32_t backend, std::uint64_t hash,
                                          std::uint64_t now_ms, std::uint32_t avoid) {
    Backend& b = state_[backend];
    const std::uint32_t n = b.count;
    if (n == 0) return kNoEndpoint;
    if (ring.empty()) return pick(backend, now_ms, avoid);
    const std::uint32_t first = ring.at(hash);
    // Walk the table from the key's slot: the next owner is the key's
    // consistent second choice. Bounded: n distinct owners appear well
    // within a few n slots; give up after 4n and fail open.
    const std::uint32_t limit = 4 * n + 8;
    for (std::uint32_t step = 0; step < limit; ++step) {
        const std::uint32_t e = ring.at(hash, step);
        if (e == avoid && n > 1) continue;
        if (at(b)[e].ejected_until_ms <= now_ms) return e;
    }
    return first;
}

bool EndpointPicker::report_failure(std::uint64_t token, std::uint32_t backend, std::uint32_t endpoint,
                                    std::uint64_t now_ms) {
    Endpoint* e = find(token, backend, endpoint);
    if (!e) return false;
    // Failures of requests already in flight when the endpoint was ejected do
    // not stretch the backoff.
    if (e->ejected_until_ms > now_ms) return false;
    const std::uint32_t shift = std::min<std::uint32_t>(e->failures, 5);
    e->failures++;
    e->ejected_until_ms = now_ms + std::min(kBaseBackoffMs << shift, kMaxBackoffMs);
    return true;
}

}  // namespace xgress::upstream

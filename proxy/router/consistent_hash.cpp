#include "router/consistent_hash.h"

namespace xgress::router {

namespace {

// Maglev's table size must stay the same when the endpoint count changes,
// or every key moves: a fixed ladder of primes (just above powers of two)
// with at least ~100 slots per endpoint (each endpoint's share within ~1% of
// 1/N) up to 5,000 endpoints, and at least 10 per endpoint beyond. The size
// only changes when a backend crosses a rung (a one-off full reshuffle).
std::uint64_t table_size(std::size_t n) {
    if (n <= 40) return 4099;
    if (n <= 655) return 65537;
    if (n <= 5000) return 524309;
    return 4194319;  // up to ~400,000 endpoints at >= 10 slots each
}

}  // namespace

void MaglevTable::build(std::span<const std::uint64_t> ids) {
    slots_.clear();
    const std::size_t n = ids.size();
    if (n == 0) return;
    const std::uint64_t m = table_size(n);
    std::vector<std::uint64_t> offset(n), skip(n), next(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        offset[i] = mix64(ids[i] ^ 0x9e3779b97f4a7c15ULL) % m;
        skip[i] = mix64(ids[i] + 0x632be59bd9b4e019ULL) % (m - 1) + 1;
    }
    slots_.assign(m, UINT32_MAX);
    std::uint64_t filled = 0;
    while (true) {
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t c = (offset[i] + next[i] * skip[i]) % m;
            while (slots_[c] != UINT32_MAX) {
                ++next[i];
                c = (offset[i] + next[i] * skip[i]) % m;
            }
            slots_[c] = static_cast<std::uint32_t>(i);
            ++next[i];
            if (++filled == m) return;
        }
    }
}

}  // namespace xgress::router

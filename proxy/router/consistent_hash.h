// Consistent hashing over a backend's endpoints: a Maglev lookup table
// (Eisenbud et al., NSDI 2016). Each endpoint fills table slots in its own
// permutation order, round-robin, so every endpoint owns ~M/N slots and
// removing one moves little more than its own share of keys (~1/N). The
// table size M comes from a fixed ladder of primes (16 KB for up to 40
// endpoints), so it does not change when one endpoint comes or goes. Lookup
// is one index; the table is rebuilt (off the data path) whenever the
// backend's endpoint list changes, and only for backends that hash (Service
// sessionAffinity ClientIP, or routes with upstream-hash-by / cookie affinity).
// Endpoints are identified by a stable id (a hash of "address:port"), so the
// same endpoint keeps its slots across rebuilds whatever its index.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace xgress::router {

class MaglevTable {
public:
    // `ids`: one stable id per endpoint (index = endpoint index).
    void build(std::span<const std::uint64_t> ids);
    bool empty() const { return slots_.empty(); }
    std::size_t size() const { return slots_.size(); }
    // The endpoint index owning `hash`'s slot, and the one `step` slots
    // further (the walk used when that endpoint is ejected).
    std::uint32_t at(std::uint64_t hash, std::uint32_t step = 0) const {
        return slots_[(hash + step) % slots_.size()];
    }

private:
    std::vector<std::uint32_t> slots_;
};

// 64-bit mixing (murmur3 fmix64) and a streaming FNV-1a: fast, stable across
// runs and builds, good enough spread for table indexing (not for secrets).
inline std::uint64_t mix64(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

struct Fnv1a {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    void add(const void* data, std::size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 0x100000001b3ULL;
        }
    }
    // The same for text known at compile time (a constant prefix hashed once).
    constexpr void add(std::string_view text) {
        for (char c : text) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
    }
    std::uint64_t done() const { return mix64(h); }
};

}  // namespace xgress::router

// Open-addressing slots that map keys to dense element indices (0, 1, 2, …)
// without storing the keys: a slot is 8 bytes (32-bit hash, element index)
// and the key is read back from the caller's elements through `key_of(index)`
// when hashes match. Linear probing, at most half full.
//
// Shared by the snapshot codec (duplicate and reference checks while
// decoding) and the route table's NameIndex (backend names and hosts): both
// replaced node-based unordered containers whose 20,000 allocations per
// 10,000-rule snapshot were a visible part of a routing swap (issue 5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace xgress {

class IndexSlots {
public:
    static constexpr std::uint32_t npos = UINT32_MAX;

    // A std::hash result folded to the 32 bits a slot keeps.
    static std::uint32_t fold(std::size_t h) { return static_cast<std::uint32_t>(h ^ (h >> 32)); }

    // Room for `n` elements without rehashing.
    void reserve(std::size_t n) {
        if (2 * n > slots_.size()) rehash(capacity_for(n));
    }
    // The index stored under `key` (hash `h`), or npos.
    template <typename Key, typename KeyOf>
    std::uint32_t find(const Key& key, std::uint32_t h, const KeyOf& key_of) const {
        if (slots_.empty()) return npos;
        return slots_[probe(key, h, key_of)].index;
    }
    // Stores `index` under `key` unless an equal key is present; returns the
    // index now under `key` and whether it was added. `key_of(index)` need
    // not be readable yet: only stored indices are read back.
    template <typename Key, typename KeyOf>
    std::pair<std::uint32_t, bool> insert(const Key& key, std::uint32_t h, std::uint32_t index, const KeyOf& key_of) {
        if (2 * (size_ + 1) > slots_.size()) rehash(capacity_for(size_ + 1));
        Slot& slot = slots_[probe(key, h, key_of)];
        if (slot.index != npos) return {slot.index, false};
        slot = Slot{h, index};
        ++size_;
        return {index, true};
    }

private:
    struct Slot {
        std::uint32_t hash = 0;
        std::uint32_t index = npos;  // npos: free
    };
    static std::size_t capacity_for(std::size_t n) {
        std::size_t c = 16;
        while (c < 2 * n) c <<= 1;
        return c;
    }
    // The slot holding `key`, or the free slot where it would go (never full).
    template <typename Key, typename KeyOf>
    std::size_t probe(const Key& key, std::uint32_t h, const KeyOf& key_of) const {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.index == npos || (s.hash == h && key_of(s.index) == key)) return i;
        }
    }
    void rehash(std::size_t capacity) {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(capacity, Slot{});
        const std::size_t mask = capacity - 1;
        for (const Slot& s : old) {
            if (s.index == npos) continue;
            std::size_t i = s.hash & mask;
            while (slots_[i].index != npos) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

}  // namespace xgress

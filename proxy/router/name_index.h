// Names -> dense indices (0, 1, 2, … in order of insertion) for the route
// table's backend names and hosts. One open-addressing table of 8-byte slots
// and every name in one text buffer: no node and no key string per name.
// Building a 10,000-rule table through two node-based unordered_maps (20,000
// nodes, 20,000 key copies, a cache miss per probe) was a third of
// RouteTable::build (issue 5, the 10,000-rule swap); a lookup on the request
// path is one hash, one slot and one compare in the text buffer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xgress::router {

class NameIndex {
public:
    static constexpr std::uint32_t npos = UINT32_MAX;

    // Room for `n` names without rehashing (`text_bytes`: their total length, if known).
    void reserve(std::size_t n, std::size_t text_bytes = 0) {
        if (2 * n > slots_.size()) rehash(capacity_for(n));
        offsets_.reserve(n + 1);
        if (text_bytes) text_.reserve(text_bytes);
    }
    // The index of `name`, added as the next one when absent; `.second`: it was added.
    std::pair<std::uint32_t, bool> insert(std::string_view name) {
        if (2 * (size() + 1) > slots_.size()) rehash(capacity_for(size() + 1));
        const std::uint32_t h = hash(name);
        std::size_t i = probe(name, h);
        if (slots_[i].index != npos) return {slots_[i].index, false};
        const auto index = static_cast<std::uint32_t>(size());
        slots_[i] = Slot{h, index};
        if (offsets_.empty()) offsets_.push_back(0);
        text_.append(name);
        offsets_.push_back(static_cast<std::uint32_t>(text_.size()));
        return {index, true};
    }
    std::uint32_t find(std::string_view name) const {
        if (slots_.empty()) return npos;
        return slots_[probe(name, hash(name))].index;
    }
    std::size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
    bool empty() const { return size() == 0; }
    std::string_view name(std::uint32_t index) const {
        return std::string_view(text_).substr(offsets_[index], offsets_[index + 1] - offsets_[index]);
    }

private:
    struct Slot {
        std::uint32_t hash = 0;
        std::uint32_t index = npos;  // npos: free
    };
    static std::uint32_t hash(std::string_view s) {
        const std::size_t h = std::hash<std::string_view>{}(s);
        return static_cast<std::uint32_t>(h ^ (h >> 32));
    }
    static std::size_t capacity_for(std::size_t n) {
        std::size_t c = 16;
        while (c < 2 * n) c <<= 1;
        return c;
    }
    // The slot holding `name`, or the free slot where it would go (the table is never full).
    std::size_t probe(std::string_view name, std::uint32_t h) const {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.index == npos || (s.hash == h && this->name(s.index) == name)) return i;
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
    std::string text_;                   // every name, back to back
    std::vector<std::uint32_t> offsets_;  // name i is text_[offsets_[i], offsets_[i + 1])
};

}  // namespace xgress::router

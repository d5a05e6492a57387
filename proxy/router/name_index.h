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

#include "xgress/index_slots.h"

namespace xgress::router {

class NameIndex {
public:
    static constexpr std::uint32_t npos = IndexSlots::npos;

    // Room for `n` names without rehashing (`text_bytes`: their total length, if known).
    void reserve(std::size_t n, std::size_t text_bytes = 0) {
        slots_.reserve(n);
        offsets_.reserve(n + 1);
        if (text_bytes) text_.reserve(text_bytes);
    }
    // The index of `name`, added as the next one when absent; `.second`: it was added.
    std::pair<std::uint32_t, bool> insert(std::string_view name) {
        const auto added = slots_.insert(name, hash(name), static_cast<std::uint32_t>(size()), name_of());
        if (!added.second) return added;
        if (offsets_.empty()) offsets_.push_back(0);
        text_.append(name);
        offsets_.push_back(static_cast<std::uint32_t>(text_.size()));
        return added;
    }
    std::uint32_t find(std::string_view name) const { return slots_.find(name, hash(name), name_of()); }
    std::size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
    bool empty() const { return size() == 0; }
    std::string_view name(std::uint32_t index) const {
        return std::string_view(text_).substr(offsets_[index], offsets_[index + 1] - offsets_[index]);
    }

private:
    static std::uint32_t hash(std::string_view s) { return IndexSlots::fold(std::hash<std::string_view>{}(s)); }
    struct NameOf {  // reads a stored name back for IndexSlots
        const NameIndex* index;
        std::string_view operator()(std::uint32_t i) const { return index->name(i); }
    };
    NameOf name_of() const { return NameOf{this}; }

    IndexSlots slots_;
    std::string text_;                   // every name, back to back
    std::vector<std::uint32_t> offsets_;  // name i is text_[offsets_[i], offsets_[i + 1])
};

}  // namespace xgress::router

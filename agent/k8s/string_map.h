// StringMap: a small sorted string -> string map in one vector, for object
// labels and annotations. A std::map costs 48 bytes even when empty (in
// every cached object, 25,000 of them at 100,000 endpoints) and ~100 bytes
// per entry; this costs 24 bytes empty and 64 per entry. Objects carry a
// handful of entries, so a sorted vector is also the faster lookup.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xgress::agent::k8s {

class StringMap {
public:
    using value_type = std::pair<std::string, std::string>;
    using iterator = std::vector<value_type>::iterator;
    using const_iterator = std::vector<value_type>::const_iterator;

    StringMap() = default;
    // Later duplicates replace earlier ones, as in a map literal.
    StringMap(std::initializer_list<value_type> entries) {
        for (const auto& [key, value] : entries) (*this)[key] = value;
    }

    const_iterator begin() const { return entries_.begin(); }
    const_iterator end() const { return entries_.end(); }
    iterator begin() { return entries_.begin(); }
    iterator end() { return entries_.end(); }
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    void clear() { std::vector<value_type>().swap(entries_); }  // gives the block back too

    const_iterator find(std::string_view key) const {
        auto it = lower_bound(key);
        return it != entries_.end() && it->first == key ? it : entries_.end();
    }
    iterator find(std::string_view key) {
        auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                   [](const value_type& entry, std::string_view k) { return entry.first < k; });
        return it != entries_.end() && it->first == key ? it : entries_.end();
    }
    bool contains(std::string_view key) const { return find(key) != end(); }
    std::string& operator[](std::string_view key) {
        auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                   [](const value_type& entry, std::string_view k) { return entry.first < k; });
        if (it == entries_.end() || it->first != key) it = entries_.insert(it, value_type(std::string(key), std::string()));
        return it->second;
    }
    void shrink_to_fit() { entries_.shrink_to_fit(); }
    bool operator==(const StringMap&) const = default;

private:
    const_iterator lower_bound(std::string_view key) const {
        return std::lower_bound(entries_.begin(), entries_.end(), key,
                                [](const value_type& entry, std::string_view k) { return entry.first < k; });
    }
    std::vector<value_type> entries_;  // sorted by key, keys unique
};

}  // namespace xgress::agent::k8s

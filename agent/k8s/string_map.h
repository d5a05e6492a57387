// StringMap: a small sorted string -> string map in one vector, for object
// labels and annotations. A std::map costs 48 bytes even when empty (in
// every cached object, 25,000 of them at 100,000 endpoints) and ~100 bytes
// per entry; this costs 8 bytes empty (the vector sits behind a pointer,
// null when empty: most cached objects keep no labels or annotations) and
// 64 per entry plus one 32-byte block. Objects carry a handful of entries,
// so a sorted vector is also the faster lookup.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xgress::agent::k8s {

class StringMap {
public:
    using value_type = std::pair<std::string, std::string>;
    using iterator = value_type*;
    using const_iterator = const value_type*;

    StringMap() = default;
    // Later duplicates replace earlier ones, as in a map literal.
    StringMap(std::initializer_list<value_type> entries) {
        for (const auto& [key, value] : entries) (*this)[key] = value;
    }
    StringMap(const StringMap& other)
        : entries_(other.entries_ ? std::make_unique<std::vector<value_type>>(*other.entries_) : nullptr) {}
    StringMap(StringMap&&) noexcept = default;
    StringMap& operator=(const StringMap& other) {
        if (this != &other) entries_ = other.entries_ ? std::make_unique<std::vector<value_type>>(*other.entries_) : nullptr;
        return *this;
    }
    StringMap& operator=(StringMap&&) noexcept = default;

    const_iterator begin() const { return entries_ ? entries_->data() : nullptr; }
    const_iterator end() const { return entries_ ? entries_->data() + entries_->size() : nullptr; }
    iterator begin() { return entries_ ? entries_->data() : nullptr; }
    iterator end() { return entries_ ? entries_->data() + entries_->size() : nullptr; }
    bool empty() const { return size() == 0; }
    std::size_t size() const { return entries_ ? entries_->size() : 0; }
    void clear() { entries_.reset(); }  // gives the blocks back too

    const_iterator find(std::string_view key) const {
        auto it = lower_bound(key);
        return it != end() && it->first == key ? it : end();
    }
    iterator find(std::string_view key) {
        auto it = const_cast<iterator>(lower_bound(key));
        return it != end() && it->first == key ? it : end();
    }
    bool contains(std::string_view key) const { return find(key) != end(); }
    std::string& operator[](std::string_view key) {
        if (!entries_) entries_ = std::make_unique<std::vector<value_type>>();
        auto it = std::lower_bound(entries_->begin(), entries_->end(), key,
                                   [](const value_type& entry, std::string_view k) { return entry.first < k; });
        if (it == entries_->end() || it->first != key) it = entries_->insert(it, value_type(std::string(key), std::string()));
        return it->second;
    }
    void shrink_to_fit() {
        if (entries_) entries_->shrink_to_fit();
    }
    bool operator==(const StringMap& other) const { return std::equal(begin(), end(), other.begin(), other.end()); }

private:
    const_iterator lower_bound(std::string_view key) const {
        return std::lower_bound(begin(), end(), key, [](const value_type& entry, std::string_view k) { return entry.first < k; });
    }
    std::unique_ptr<std::vector<value_type>> entries_;  // sorted by key, keys unique; null = no entries
};

}  // namespace xgress::agent::k8s

#include "k8s/interned_string.h"

#include <mutex>
#include <unordered_set>

namespace xgress::agent::k8s {

namespace {

struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Pool {
    std::mutex mutex;
    // Node-based: element addresses never move. Transparent: a lookup of a
    // value already pooled (the common case) allocates nothing.
    std::unordered_set<std::string, Hash, std::equal_to<>> values;
};

Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: values may be referred to during exit
    return *p;
}

}  // namespace

InternedString::InternedString(std::string_view value) {
    if (value.empty()) return;
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    auto it = p.values.find(value);
    if (it == p.values.end()) it = p.values.emplace(value).first;
    value_ = &*it;
}

const std::string& InternedString::empty_string() {
    static const std::string empty;
    return empty;
}

}  // namespace xgress::agent::k8s

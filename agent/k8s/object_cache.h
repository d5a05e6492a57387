// The agent's view of the cluster: every object we understand, keyed by
// kind/namespace/name. Sources (manifests directory, later the API watch)
// fill it; the model reads it. Iteration is in key order, so everything
// computed from the cache is deterministic.
#pragma once

#include <compare>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "k8s/objects.h"

namespace xgress::agent::k8s {

struct ObjectKey {
    Kind kind = Kind::Service;
    std::string namespace_;
    std::string name;
    auto operator<=>(const ObjectKey&) const = default;
    bool operator==(const ObjectKey&) const = default;
};

ObjectKey key_of(const Object& object);
// "Service demo/web", "IngressClass xgress": how objects are named in messages.
std::string describe(const ObjectKey& key);

class ObjectCache {
public:
    // Inserts or replaces; returns true when an object with the same key was replaced.
    bool upsert(Object object);
    // The same, sharing an object another owner holds too (LastGoodObjects
    // keeps each object once for its file and for the cache).
    bool upsert(std::shared_ptr<const Object> object);
    bool erase(const ObjectKey& key);
    const Object* find(const ObjectKey& key) const;
    std::shared_ptr<const Object> shared(const ObjectKey& key) const;  // null when absent
    std::size_t size() const { return objects_.size(); }
    bool operator==(const ObjectCache& other) const;  // same keys, equal objects

    template <class T>
    const T* find(const std::string& namespace_, const std::string& name) const;

    // Every object of kind T, in namespace/name order.
    template <class T>
    std::vector<const T*> list() const;

private:
    std::map<ObjectKey, std::shared_ptr<const Object>> objects_;  // never null
};

template <class T>
const T* ObjectCache::find(const std::string& namespace_, const std::string& name) const {
    const Object* object = find(ObjectKey{kind_of(Object{T{}}), namespace_, name});
    return object ? std::get_if<T>(object) : nullptr;
}

template <class T>
std::vector<const T*> ObjectCache::list() const {
    const Kind kind = kind_of(Object{T{}});
    std::vector<const T*> result;
    for (auto it = objects_.lower_bound(ObjectKey{kind, {}, {}});
         it != objects_.end() && it->first.kind == kind; ++it) {
        result.push_back(&std::get<T>(*it->second));
    }
    return result;
}

}  // namespace xgress::agent::k8s

// The agent's view of the cluster: every object we understand, keyed by
// kind/namespace/name. Sources (manifests directory, later the API watch)
// fill it; the model reads it. Iteration is in key order, so everything
// computed from the cache is deterministic.
#pragma once

#include <compare>
#include <cstddef>
#include <memory>
#include <set>
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
// Orders an object against a key (or another object) as ObjectKey's
// operator<=> does, without copying names: <0, 0, >0.
int compare_key(const Object& object, const ObjectKey& key);
int compare_key(const Object& a, const Object& b);
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
    // Keyed by the object's own kind/namespace/name: a map with an ObjectKey
    // copy per entry cost ~80 more bytes per object (25,000 objects at
    // 100,000 endpoints).
    struct ByKey {
        using is_transparent = void;
        bool operator()(const std::shared_ptr<const Object>& a, const std::shared_ptr<const Object>& b) const {
            return compare_key(*a, *b) < 0;
        }
        bool operator()(const std::shared_ptr<const Object>& a, const ObjectKey& b) const { return compare_key(*a, b) < 0; }
        bool operator()(const ObjectKey& a, const std::shared_ptr<const Object>& b) const { return compare_key(*b, a) > 0; }
    };
    std::set<std::shared_ptr<const Object>, ByKey> objects_;  // never null
};

template <class T>
const T* ObjectCache::find(const std::string& namespace_, const std::string& name) const {
    const Object* object = find(ObjectKey{kind_for<T>(), namespace_, name});
    return object ? object_as<T>(*object) : nullptr;
}

template <class T>
std::vector<const T*> ObjectCache::list() const {
    const Kind kind = kind_for<T>();
    std::vector<const T*> result;
    for (auto it = objects_.lower_bound(ObjectKey{kind, {}, {}});
         it != objects_.end() && kind_of(**it) == kind; ++it) {
        result.push_back(object_as<T>(**it));
    }
    return result;
}

}  // namespace xgress::agent::k8s

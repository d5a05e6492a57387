#include "k8s/object_cache.h"

#include <algorithm>
#include <utility>

namespace xgress::agent::k8s {

ObjectKey key_of(const Object& object) {
    const ObjectMeta& meta = metadata_of(object);
    return ObjectKey{kind_of(object), meta.namespace_, meta.name};
}

int compare_key(const Object& object, const ObjectKey& key) {
    const Kind kind = kind_of(object);
    if (kind != key.kind) return kind < key.kind ? -1 : 1;
    const ObjectMeta& meta = metadata_of(object);
    if (const int c = meta.namespace_.compare(key.namespace_)) return c;
    return meta.name.compare(key.name);
}

int compare_key(const Object& a, const Object& b) {
    const Kind ka = kind_of(a), kb = kind_of(b);
    if (ka != kb) return ka < kb ? -1 : 1;
    const ObjectMeta& ma = metadata_of(a);
    const ObjectMeta& mb = metadata_of(b);
    if (const int c = ma.namespace_.compare(mb.namespace_)) return c;
    return ma.name.compare(mb.name);
}

std::string describe(const ObjectKey& key) {
    std::string text = kind_name(key.kind);
    text += ' ';
    if (!key.namespace_.empty()) {
        text += key.namespace_;
        text += '/';
    }
    text += key.name;
    return text;
}

bool ObjectCache::upsert(Object object) {
    return upsert(std::make_shared<const Object>(std::move(object)));
}

bool ObjectCache::upsert(std::shared_ptr<const Object> object) {
    auto it = objects_.find(object);
    if (it == objects_.end()) {
        objects_.insert(std::move(object));
        return false;
    }
    // Same key: the node keeps its place, only the pointer changes (the
    // order depends on the key alone, which the new object shares).
    const_cast<std::shared_ptr<const Object>&>(*it) = std::move(object);
    return true;
}

bool ObjectCache::operator==(const ObjectCache& other) const {
    return std::equal(objects_.begin(), objects_.end(), other.objects_.begin(), other.objects_.end(),
                      [](const auto& a, const auto& b) { return compare_key(*a, *b) == 0 && *a == *b; });
}

bool ObjectCache::erase(const ObjectKey& key) {
    auto it = objects_.find(key);
    if (it == objects_.end()) return false;
    objects_.erase(it);
    return true;
}

std::shared_ptr<const Object> ObjectCache::shared(const ObjectKey& key) const {
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : *it;
}

const Object* ObjectCache::find(const ObjectKey& key) const {
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : it->get();
}

}  // namespace xgress::agent::k8s

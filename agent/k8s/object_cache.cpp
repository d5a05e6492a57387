#include "k8s/object_cache.h"

#include <algorithm>
#include <utility>

namespace xgress::agent::k8s {

ObjectKey key_of(const Object& object) {
    const ObjectMeta& meta = metadata_of(object);
    return ObjectKey{kind_of(object), meta.namespace_, meta.name};
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
    ObjectKey key = key_of(*object);
    auto [it, inserted] = objects_.insert_or_assign(std::move(key), std::move(object));
    return !inserted;
}

bool ObjectCache::operator==(const ObjectCache& other) const {
    return std::equal(objects_.begin(), objects_.end(), other.objects_.begin(), other.objects_.end(),
                      [](const auto& a, const auto& b) { return a.first == b.first && *a.second == *b.second; });
}

bool ObjectCache::erase(const ObjectKey& key) {
    return objects_.erase(key) > 0;
}

std::shared_ptr<const Object> ObjectCache::shared(const ObjectKey& key) const {
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : it->second;
}

const Object* ObjectCache::find(const ObjectKey& key) const {
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : it->second.get();
}

}  // namespace xgress::agent::k8s

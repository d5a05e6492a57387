#include "model/ingress_class_selector.h"

namespace xgress::agent::model {

IngressClassSelector::IngressClassSelector(const k8s::ObjectCache& objects, const std::string& controller) {
    for (const k8s::IngressClass* c : objects.list<k8s::IngressClass>()) {
        if (c->controller != controller) continue;
        our_classes_.insert(c->metadata.name);
        classes_.push_back(c);
        auto it = c->metadata.annotations.find(k8s::kDefaultClassAnnotation);
        if (it != c->metadata.annotations.end() && it->second == "true" && !has_default_) {
            has_default_ = true;
            default_name_ = c->metadata.name;
        }
    }
}

std::string IngressClassSelector::class_of(const k8s::Ingress& ingress) const {
    // spec.ingressClassName replaced the annotation; when both are set the
    // field is the one the API server validates, so it decides.
    const std::string* named = nullptr;
    auto it = ingress.metadata.annotations.find(k8s::kIngressClassAnnotation);
    if (ingress.ingress_class_name) named = &*ingress.ingress_class_name;
    else if (it != ingress.metadata.annotations.end()) named = &it->second;
    if (named) return our_classes_.contains(*named) ? *named : std::string();
    return default_name_;
}

}  // namespace xgress::agent::model

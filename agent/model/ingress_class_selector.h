// Decides which Ingresses this controller serves (spec.ingressClassName, the
// legacy kubernetes.io/ingress.class annotation, or our default class).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "k8s/object_cache.h"

namespace xgress::agent::model {

class IngressClassSelector {
public:
    IngressClassSelector(const k8s::ObjectCache& objects, const std::string& controller);

    bool owns(const k8s::Ingress& ingress) const { return !class_of(ingress).empty(); }
    // The name of our class that serves `ingress`; "" when it is not ours.
    std::string class_of(const k8s::Ingress& ingress) const;
    bool has_default_class() const { return has_default_; }
    // Our IngressClasses, by name.
    const std::vector<const k8s::IngressClass*>& classes() const { return classes_; }

private:
    std::vector<const k8s::IngressClass*> classes_;
    std::set<std::string> our_classes_;
    bool has_default_ = false;
    std::string default_name_;  // the first (by name) of our classes marked default
};

}  // namespace xgress::agent::model

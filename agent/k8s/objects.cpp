#include "k8s/objects.h"

namespace xgress::agent::k8s {

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::Service: return "Service";
        case Kind::EndpointSlice: return "EndpointSlice";
        case Kind::Ingress: return "Ingress";
        case Kind::IngressClass: return "IngressClass";
        case Kind::TlsSecret: return "Secret";
        case Kind::IngressClassParameters: return "IngressClassParameters";
    }
    return "?";
}

Kind kind_of(const Object& object) {
    return static_cast<Kind>(object.index());
}

const ObjectMeta& metadata_of(const Object& object) {
    return std::visit([](const auto& o) -> const ObjectMeta& { return unboxed(o).metadata; }, object);
}

}  // namespace xgress::agent::k8s

#include "model/desired_state.h"

#include <algorithm>
#include <tuple>

#include "model/backend_resolver.h"
#include "model/frontend_builder.h"
#include "model/ingress_class_selector.h"
#include "model/route_claims.h"

namespace xgress::agent::model {
namespace {

// Most specific first: Exact before Prefix, longer prefixes before shorter.
// The proxy decides precedence itself; a stable order keeps snapshots
// comparable and readable.
bool route_order(const snapshot::Route& a, const snapshot::Route& b) {
    return std::tuple(a.match != snapshot::PathMatch::Exact, -static_cast<long>(a.path.size()), a.path) <
           std::tuple(b.match != snapshot::PathMatch::Exact, -static_cast<long>(b.path.size()), b.path);
}

}  // namespace

DesiredState compute_desired_state(const k8s::ObjectCache& objects, const Settings& settings) {
    DesiredState state;
    const IngressClassSelector selector(objects, settings.controller);

    std::vector<const k8s::Ingress*> ours;
    for (const k8s::Ingress* ingress : objects.list<k8s::Ingress>()) {
        if (selector.owns(*ingress)) ours.push_back(ingress);
    }
    order_by_age(ours);

    RouteClaims claims(state.problems);
    for (const k8s::Ingress* ingress : ours) claims.add(*ingress);

    BackendResolver resolver(objects, state.problems);
    std::map<std::string, snapshot::VirtualHost> hosts;
    for (const auto& [key, claim] : claims.routes()) {
        const std::string backend =
            resolver.resolve(claim.namespace_, claim.backend, "Ingress " + claim.owner + ": " + claim.field);
        snapshot::VirtualHost& host = hosts[key.host];
        host.host = key.host;
        host.routes.push_back(snapshot::Route{key.path, key.match, backend});
    }
    if (const auto& fallback = claims.default_backend()) {
        state.snapshot.default_backend =
            resolver.resolve(fallback->namespace_, fallback->backend, "Ingress " + fallback->owner + ": " + fallback->field);
    }
    for (auto& [name, host] : hosts) {
        std::sort(host.routes.begin(), host.routes.end(), route_order);
        state.snapshot.virtual_hosts.push_back(std::move(host));
    }
    state.snapshot.backends = resolver.backends();

    state.frontends = build_frontends(objects, settings.publish_namespace, settings.publish_name, state.problems);
    return state;
}

}  // namespace xgress::agent::model

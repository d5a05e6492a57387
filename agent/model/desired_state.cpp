#include "model/desired_state.h"

#include <algorithm>
#include <set>
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

constexpr const char* kParametersGroup = "xgress.io";
constexpr const char* kParametersKind = "IngressClassParameters";

// Our classes' parameters; a class whose reference does not resolve is
// served from the publish Service like a class without parameters.
std::vector<const k8s::IngressClassParameters*> class_parameters(const k8s::ObjectCache& objects,
                                                                 const IngressClassSelector& selector,
                                                                 DesiredState& state, bool& every_class_has_them) {
    std::vector<const k8s::IngressClassParameters*> found;
    every_class_has_them = !selector.classes().empty();
    for (const k8s::IngressClass* c : selector.classes()) {
        if (!c->parameters) {
            every_class_has_them = false;
            continue;
        }
        const k8s::ParametersReference& ref = *c->parameters;
        const k8s::IngressClassParameters* params = nullptr;
        if (ref.api_group == kParametersGroup && ref.kind == kParametersKind) {
            params = objects.find<k8s::IngressClassParameters>("", ref.name);
        }
        if (!params) {
            state.problems.push_back("IngressClass " + c->metadata.name + ": spec.parameters: " +
                                     (ref.api_group.empty() ? std::string() : ref.api_group + "/") + ref.kind + " " +
                                     ref.name + " not found (expected " + kParametersGroup + "/" + kParametersKind +
                                     "); using the publish Service");
            every_class_has_them = false;
            continue;
        }
        found.push_back(params);
        state.classes.push_back(ClassPolicy{c->metadata.name, params->default_tls_secret, params->connect_timeout_ms,
                                            params->read_timeout_ms, params->send_timeout_ms, params->max_body_bytes});
        const NodePortPolicy policy{params->node_port_min, params->node_port_max, params->drop_unallocated_node_ports};
        if (!state.node_port_policy) {
            state.node_port_policy = policy;
        } else if (*state.node_port_policy != policy) {
            state.problems.push_back("IngressClass " + c->metadata.name +
                                     ": spec.nodePortRange differs from another class's; the first class's is used");
        }
    }
    return found;
}

// Certificates named by the Ingresses' spec.tls and the classes' default.
void collect_certificates(const k8s::ObjectCache& objects, const std::vector<const k8s::Ingress*>& ingresses,
                          DesiredState& state) {
    std::map<std::string, std::set<std::string>> hosts_by_secret;
    std::map<std::string, const k8s::TlsSecret*> secrets;
    auto lookup = [&](const std::string& namespace_, const std::string& name, const std::string& referrer) {
        const k8s::TlsSecret* secret = objects.find<k8s::TlsSecret>(namespace_, name);
        if (!secret) {
            state.problems.push_back(referrer + ": Secret " + namespace_ + "/" + name +
                                     " not found or not a valid kubernetes.io/tls Secret");
            return false;
        }
        secrets[namespace_ + "/" + name] = secret;
        return true;
    };
    for (const k8s::Ingress* ingress : ingresses) {
        for (std::size_t i = 0; i < ingress->tls.size(); ++i) {
            const k8s::IngressTls& tls = ingress->tls[i];
            if (tls.secret_name.empty()) continue;  // the class's default certificate
            const std::string referrer = "Ingress " + ingress->metadata.namespace_ + "/" + ingress->metadata.name +
                                         ": spec.tls[" + std::to_string(i) + "].secretName";
            if (!lookup(ingress->metadata.namespace_, tls.secret_name, referrer)) continue;
            auto& hosts = hosts_by_secret[ingress->metadata.namespace_ + "/" + tls.secret_name];
            for (const std::string& host : tls.hosts) hosts.insert(host);
        }
    }
    for (const ClassPolicy& c : state.classes) {
        if (c.default_tls_secret.empty()) continue;
        const auto slash = c.default_tls_secret.find('/');
        if (lookup(c.default_tls_secret.substr(0, slash), c.default_tls_secret.substr(slash + 1),
                   "IngressClass " + c.class_name + ": defaultTLSSecret")) {
            hosts_by_secret[c.default_tls_secret];  // empty host list = default certificate
        }
    }
    for (const auto& [name, hosts] : hosts_by_secret) {
        const k8s::TlsSecret* secret = secrets[name];
        state.certificates.push_back(TlsCertificate{name, std::vector<std::string>(hosts.begin(), hosts.end()),
                                                    secret->certificate_pem, secret->private_key_pem});
    }
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

    std::map<std::string, RouteOptions> options_by_owner;
    RouteClaims claims(state.problems);
    for (const k8s::Ingress* ingress : ours) {
        claims.add(*ingress);
        options_by_owner[ingress->metadata.namespace_ + "/" + ingress->metadata.name] =
            parse_route_options(*ingress, state.problems);
    }

    BackendResolver resolver(objects, state.problems);
    std::map<std::string, snapshot::VirtualHost> hosts;
    for (const auto& [key, claim] : claims.routes()) {
        const std::string backend =
            resolver.resolve(claim.namespace_, claim.backend, "Ingress " + claim.owner + ": " + claim.field);
        snapshot::VirtualHost& host = hosts[key.host];
        host.host = key.host;
        host.routes.push_back(snapshot::Route{key.path, key.match, backend});
        const RouteOptions& options = options_by_owner[claim.owner];
        if (options != RouteOptions{}) state.route_policies.push_back(RoutePolicy{key.host, key.path, key.match, options});
    }
    if (const auto& fallback = claims.default_backend()) {
        state.snapshot.default_backend =
            resolver.resolve(fallback->namespace_, fallback->backend, "Ingress " + fallback->owner + ": " + fallback->field);
    }
    for (auto& [name, host] : hosts) {
        std::sort(host.routes.begin(), host.routes.end(), route_order);
        state.snapshot.virtual_hosts.push_back(std::move(host));
    }

    bool every_class_has_parameters = false;
    FrontendInputs inputs;
    inputs.publish_namespace = settings.publish_namespace;
    inputs.publish_name = settings.publish_name;
    inputs.node_name = settings.node_name;
    inputs.class_parameters = class_parameters(objects, selector, state, every_class_has_parameters);
    inputs.use_publish_service = !every_class_has_parameters;
    Frontends frontends = build_frontends(objects, inputs, resolver, state.problems);
    state.frontends = std::move(frontends.specs);
    state.snapshot.frontends = std::move(frontends.for_proxy);

    state.snapshot.backends = resolver.backends();
    state.backend_affinity = resolver.affinities();
    collect_certificates(objects, ours, state);
    return state;
}

}  // namespace xgress::agent::model

#include "model/desired_state.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>
#include <tuple>

#include "model/backend_resolver.h"
#include "model/frontend_builder.h"
#include "model/ingress_class_selector.h"
#include "model/ip_address.h"
#include "model/upstream_tls.h"
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

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string owner_of(const k8s::Ingress& ingress) {
    return ingress.metadata.namespace_ + "/" + ingress.metadata.name;
}

// Hosts that some Ingress of ours lists under spec.tls (with or without a
// Secret: without one the default certificate serves them). A rule host is
// covered by an exact entry or by the "*." entry of its parent domain.
class TlsHosts {
public:
    explicit TlsHosts(const std::vector<const k8s::Ingress*>& ingresses) {
        for (const k8s::Ingress* ingress : ingresses)
            for (const k8s::IngressTls& tls : ingress->tls)
                for (const std::string& host : tls.hosts) hosts_.insert(lower(host));
    }
    bool covers(const std::string& host) const {
        if (host.empty()) return false;
        if (hosts_.contains(host)) return true;
        const auto dot = host.find('.');
        return dot != std::string::npos && !host.starts_with("*.") && hosts_.contains("*" + host.substr(dot));
    }

private:
    std::set<std::string> hosts_;
};

std::string format_prefix(const dataplane::IpPrefix& prefix) {
    return format_ip_address(prefix.address) + "/" + std::to_string(prefix.length);
}

// The route's schema-2 policy: annotations first, then the class
// parameters' defaults (timeouts, body limit).
void apply_options(snapshot::Route& route, const RouteOptions& o, bool host_has_tls, const ClassPolicy* policy) {
    route.regex = o.use_regex;
    route.rewrite_target = o.rewrite_target;
    route.ssl_redirect = (o.ssl_redirect && host_has_tls) || o.force_ssl_redirect;
    if (o.redirect) route.redirect = snapshot::Redirect{o.redirect->url, o.redirect->status};
    route.app_root = o.app_root;
    for (const dataplane::IpPrefix& prefix : o.allowed_sources) route.allowed_sources.push_back(format_prefix(prefix));
    auto ms = [](const std::optional<std::uint64_t>& annotation, std::uint32_t class_default) -> std::uint32_t {
        return annotation ? static_cast<std::uint32_t>(*annotation) : class_default;
    };
    route.connect_timeout_ms = ms(o.connect_timeout_ms, policy ? policy->connect_timeout_ms : 0);
    route.read_timeout_ms = ms(o.read_timeout_ms, policy ? policy->read_timeout_ms : 0);
    route.send_timeout_ms = ms(o.send_timeout_ms, policy ? policy->send_timeout_ms : 0);
    if (o.max_body_bytes) {
        // The annotation's 0 means "unlimited"; the snapshot's 0 means "proxy default".
        route.max_body_bytes = *o.max_body_bytes == 0 ? std::numeric_limits<std::uint64_t>::max() : *o.max_body_bytes;
    } else if (policy) {
        route.max_body_bytes = policy->max_body_bytes;
    }
    route.affinity_cookie = o.affinity_cookie;
    route.hash_by = o.upstream_hash_by;
    route.backend_protocol = o.backend_protocol == BackendProtocol::Https ? snapshot::BackendProtocol::Https
                                                                          : snapshot::BackendProtocol::Http;
}

// Certificates: each TLS host gets the Secret of the oldest Ingress that
// names one for it (conflicts reported naming both); the first class (by
// name) with a default TLS secret gives the default certificate. A Secret
// that is missing or not a valid kubernetes.io/tls Secret is reported; a
// Secret whose new version failed validation is still in the cache in its
// last good version (k8s::LastGoodObjects), so its hosts keep it.
void collect_certificates(const k8s::ObjectCache& objects, const std::vector<const k8s::Ingress*>& ingresses,
                          DesiredState& state) {
    std::map<std::string, std::set<std::string>> hosts_by_secret;
    std::map<std::string, const k8s::TlsSecret*> secrets;
    std::map<std::string, std::pair<std::string, std::string>> host_owner;  // host -> (secret, Ingress)
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
    for (const k8s::Ingress* ingress : ingresses) {  // oldest first
        for (std::size_t i = 0; i < ingress->tls.size(); ++i) {
            const k8s::IngressTls& tls = ingress->tls[i];
            if (tls.secret_name.empty()) continue;  // the class's default certificate
            const std::string referrer = "Ingress " + owner_of(*ingress) + ": spec.tls[" + std::to_string(i) + "].secretName";
            if (!lookup(ingress->metadata.namespace_, tls.secret_name, referrer)) continue;
            const std::string secret = ingress->metadata.namespace_ + "/" + tls.secret_name;
            auto& hosts = hosts_by_secret[secret];
            for (const std::string& raw : tls.hosts) {
                const std::string host = lower(raw);
                auto [it, inserted] = host_owner.try_emplace(host, secret, owner_of(*ingress));
                if (!inserted && it->second.first != secret) {
                    state.problems.push_back("conflict: TLS host \"" + host + "\": Ingress " + it->second.second +
                                             " (Secret " + it->second.first + ") wins over Ingress " +
                                             owner_of(*ingress) + " (Secret " + secret + ")");
                    continue;
                }
                hosts.insert(host);
            }
        }
    }
    for (const ClassPolicy& c : state.classes) {
        if (c.default_tls_secret.empty()) continue;
        const auto slash = c.default_tls_secret.find('/');
        if (!lookup(c.default_tls_secret.substr(0, slash), c.default_tls_secret.substr(slash + 1),
                    "IngressClass " + c.class_name + ": defaultTLSSecret"))
            continue;
        hosts_by_secret[c.default_tls_secret];
        if (state.snapshot.default_certificate.empty()) {
            state.snapshot.default_certificate = c.default_tls_secret;
        } else if (state.snapshot.default_certificate != c.default_tls_secret) {
            state.problems.push_back("IngressClass " + c.class_name + ": defaultTLSSecret " + c.default_tls_secret +
                                     " ignored: the node has one default certificate, " +
                                     state.snapshot.default_certificate + " (first class by name)");
        }
    }
    for (const auto& [name, hosts] : hosts_by_secret) {
        const k8s::TlsSecret* secret = secrets[name];
        state.snapshot.certificates.push_back(snapshot::Certificate{
            name, std::vector<std::string>(hosts.begin(), hosts.end()), secret->certificate_pem, secret->private_key_pem,
            secret->ocsp_staple_base64});
    }
}

// ssl-passthrough: TLS connections for the Ingress's rule hosts go,
// undecrypted, to the backend of the rule's "/" path (else its first path).
// The oldest Ingress wins a contested host.
void collect_passthrough(const std::vector<const k8s::Ingress*>& ingresses,
                         const std::map<std::string, RouteOptions>& options_by_owner, BackendResolver& resolver,
                         std::map<std::pair<std::string, std::string>, snapshot::VirtualHost>& hosts,
                         std::map<std::string, std::string>& owners,
                         std::vector<std::string>& problems) {
    for (const k8s::Ingress* ingress : ingresses) {
        const std::string owner = owner_of(*ingress);
        auto options = options_by_owner.find(owner);
        if (options == options_by_owner.end() || !options->second.ssl_passthrough) continue;
        for (std::size_t r = 0; r < ingress->rules.size(); ++r) {
            const k8s::IngressRule& rule = ingress->rules[r];
            const std::string field = "spec.rules[" + std::to_string(r) + "]";
            if (rule.host.empty() || rule.host.starts_with("*.")) {
                problems.push_back("Ingress " + owner + ": " + field + ": ssl-passthrough needs an exact host (SNI); "
                                   "rule not passed through");
                continue;
            }
            if (rule.paths.empty()) continue;
            const k8s::IngressPath* chosen = &rule.paths.front();
            for (const k8s::IngressPath& path : rule.paths)
                if (path.path == "/") chosen = &path;
            const std::string host = lower(rule.host);
            auto [it, inserted] = owners.try_emplace(host, owner);
            if (!inserted) {
                if (it->second != owner)
                    problems.push_back("conflict: ssl-passthrough host \"" + host + "\": Ingress " + it->second +
                                       " wins over Ingress " + owner);
                continue;
            }
            // SNI passthrough is decided before any routing table: default table.
            snapshot::VirtualHost& vh = hosts[{std::string(), host}];
            vh.host = host;
            vh.passthrough_backend = resolver.resolve(ingress->metadata.namespace_, chosen->backend,
                                                      "Ingress " + owner + ": " + field + " (ssl-passthrough)");
        }
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

    bool every_class_has_parameters = false;
    FrontendInputs inputs;
    inputs.class_parameters = class_parameters(objects, selector, state, every_class_has_parameters);

    // Classes with listeners of their own get their own routing table (their
    // hosts and frontends carry the class name); every other class shares the
    // default table served on the publish Service's frontends.
    std::set<std::string> classes_with_listeners;
    for (std::size_t i = 0; i < inputs.class_parameters.size(); ++i) {
        inputs.class_names.push_back(state.classes[i].class_name);
        if (!inputs.class_parameters[i]->listeners.empty()) classes_with_listeners.insert(state.classes[i].class_name);
    }

    std::map<std::string, RouteOptions> options_by_owner;
    std::map<std::string, const ClassPolicy*> class_by_owner;
    RouteClaims claims(state.problems);
    for (const k8s::Ingress* ingress : ours) {
        const std::string class_name = selector.class_of(*ingress);
        claims.add(*ingress, classes_with_listeners.contains(class_name) ? class_name : std::string());
        const std::string owner = owner_of(*ingress);
        options_by_owner[owner] = parse_route_options(*ingress, state.problems);
        for (const ClassPolicy& c : state.classes)
            if (c.class_name == class_name) class_by_owner[owner] = &c;
    }

    const TlsHosts tls_hosts(ours);
    BackendResolver resolver(objects, state.problems);
    std::map<std::pair<std::string, std::string>, snapshot::VirtualHost> hosts;  // (class table, host)
    for (const auto& [key, claim] : claims.routes()) {
        const RouteOptions& options = options_by_owner[claim.owner];
        snapshot::Route route{key.path, key.match, {}};
        apply_options(route, options, tls_hosts.covers(key.host), class_by_owner[claim.owner]);
        // A route that always redirects needs no backend, but naming it keeps
        // the backend's endpoints visible and the route valid either way.
        route.backend = resolver.resolve(claim.namespace_, claim.backend, "Ingress " + claim.owner + ": " + claim.field);
        apply_upstream_tls(route, options, claim.namespace_, claim.backend.service_name, objects, claim.owner,
                           state.problems);
        snapshot::VirtualHost& host = hosts[{key.ingress_class, key.host}];
        host.host = key.host;
        host.ingress_class = key.ingress_class;
        host.routes.push_back(std::move(route));
    }
    std::map<std::string, std::string> passthrough_owners;
    collect_passthrough(ours, options_by_owner, resolver, hosts, passthrough_owners, state.problems);
    if (const auto& fallback = claims.default_backend()) {
        state.snapshot.default_backend =
            resolver.resolve(fallback->namespace_, fallback->backend, "Ingress " + fallback->owner + ": " + fallback->field);
    }
    for (const auto& [class_name, fallback] : claims.class_default_backends()) {
        std::string backend =
            resolver.resolve(fallback.namespace_, fallback.backend, "Ingress " + fallback.owner + ": " + fallback.field);
        if (!backend.empty()) state.snapshot.class_default_backends.push_back({class_name, std::move(backend)});
    }
    state.snapshot.virtual_hosts.reserve(hosts.size());  // held until the next change: no growth slack
    for (auto& [name, host] : hosts) {
        std::sort(host.routes.begin(), host.routes.end(), route_order);
        state.snapshot.virtual_hosts.push_back(std::move(host));
    }

    inputs.publish_namespace = settings.publish_namespace;
    inputs.publish_name = settings.publish_name;
    inputs.node_name = settings.node_name;
    inputs.use_publish_service = !every_class_has_parameters;
    Frontends frontends = build_frontends(objects, inputs, resolver, state.problems);
    state.frontends = std::move(frontends.specs);
    state.snapshot.frontends = std::move(frontends.for_proxy);

    state.snapshot.backends = resolver.take_backends();
    collect_certificates(objects, ours, state);
    return state;
}

}  // namespace xgress::agent::model

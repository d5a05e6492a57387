#include "model/backend_resolver.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace xgress::agent::model {
namespace {

const k8s::ServicePort* find_service_port(const k8s::Service& service, const k8s::IngressBackend& ref) {
    for (const k8s::ServicePort& port : service.ports) {
        if (ref.port_name.empty() ? port.port == ref.port_number : port.name == ref.port_name) return &port;
    }
    return nullptr;
}

// The port endpoints of this slice listen on for `service_port`. Kubernetes
// names a slice's ports after the Service ports and resolves named
// targetPorts into their numbers, so for a named targetPort we look for the
// Service port's name first and then for the targetPort's own name (how
// hand-written slices tend to name it).
std::optional<std::uint16_t> target_port_in_slice(const k8s::ServicePort& service_port,
                                                  const k8s::EndpointSlice& slice) {
    if (!service_port.target_port) return service_port.port;
    if (service_port.target_port->name.empty()) return service_port.target_port->number;
    for (const std::string* wanted : {&service_port.name, &service_port.target_port->name}) {
        if (wanted->empty()) continue;
        for (const k8s::EndpointPort& port : slice.ports) {
            if (port.name == *wanted && port.protocol == service_port.protocol && port.port != 0) return port.port;
        }
    }
    return std::nullopt;
}

}  // namespace

SlicesByService index_slices(const k8s::ObjectCache& objects) {
    SlicesByService slices;
    for (const k8s::EndpointSlice* slice : objects.list<k8s::EndpointSlice>()) {
        if (slice->service_name.empty()) continue;
        slices[{slice->metadata.namespace_, slice->service_name}].push_back(slice);
    }
    return slices;
}

std::optional<BackendName> parse_backend_name(const std::string& name) {
    BackendName out;
    const auto slash = name.find('/');
    const auto colon = name.rfind(':');
    if (slash == std::string::npos || colon == std::string::npos || colon < slash) return std::nullopt;
    std::string_view port(name);
    port = port.substr(colon + 1);
    if (port.ends_with("@node")) {
        out.node_local = true;
        port.remove_suffix(5);
    }
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc{} || end != port.data() + port.size() || number == 0 || number > 65535) return std::nullopt;
    out.namespace_ = name.substr(0, slash);
    out.service = name.substr(slash + 1, colon - slash - 1);
    out.port = static_cast<std::uint16_t>(number);
    return out;
}

BackendResolver::BackendResolver(const k8s::ObjectCache& objects, std::vector<std::string>& problems)
    : objects_(objects), problems_(problems), slices_(index_slices(objects)) {}

std::string BackendResolver::resolve(const std::string& namespace_, const k8s::IngressBackend& ref,
                                     const std::string& referrer) {
    const k8s::Service* service = objects_.find<k8s::Service>(namespace_, ref.service_name);
    const std::string port_text = ref.port_name.empty() ? std::to_string(ref.port_number) : ref.port_name;
    const std::string unresolved_name = namespace_ + "/" + ref.service_name + ":" + port_text;
    if (!service) {
        if (!backends_.contains(unresolved_name)) {
            problems_.push_back(referrer + ": Service " + namespace_ + "/" + ref.service_name +
                                " not found; requests get 503");
            backends_[unresolved_name] = snapshot::Backend{unresolved_name, {}};
        }
        return unresolved_name;
    }
    const k8s::ServicePort* port = find_service_port(*service, ref);
    if (!port) {
        if (!backends_.contains(unresolved_name)) {
            problems_.push_back(referrer + ": Service " + namespace_ + "/" + ref.service_name +
                                " has no port " + port_text + "; requests get 503");
            backends_[unresolved_name] = snapshot::Backend{unresolved_name, {}};
        }
        return unresolved_name;
    }
    return resolve_port(*service, *port);
}

std::string backend_name(const k8s::Service& service, const k8s::ServicePort& port, const std::string& node_name) {
    std::string name = service.metadata.namespace_ + "/" + service.metadata.name + ":" + std::to_string(port.port);
    if (!node_name.empty()) name += "@node";
    return name;
}

std::string BackendResolver::resolve_port(const k8s::Service& service, const k8s::ServicePort& port,
                                          const std::string& node_name) {
    std::string name = backend_name(service, port, node_name);
    if (!backends_.contains(name)) {
        static const std::vector<const k8s::EndpointSlice*> kNone;
        auto indexed = slices_.find({service.metadata.namespace_, service.metadata.name});
        backends_[name] = make_backend(service, port, indexed == slices_.end() ? kNone : indexed->second, node_name,
                                       problems_);
    }
    return name;
}

bool BackendResolver::has_endpoints(const std::string& backend_name) const {
    auto it = backends_.find(backend_name);
    return it != backends_.end() && !it->second.endpoints.empty();
}

snapshot::Backend make_backend(const k8s::Service& service, const k8s::ServicePort& port,
                               const std::vector<const k8s::EndpointSlice*>& slices, const std::string& node_name,
                               std::vector<std::string>& problems) {
    snapshot::Backend backend;
    backend.name = backend_name(service, port, node_name);
    if (service.session_affinity == "ClientIP") {
        backend.affinity = snapshot::Affinity::ClientIp;
        backend.affinity_timeout_s = service.session_affinity_timeout;  // Kubernetes default 10800
    }
    const std::string& backend_name = backend.name;
    // Sorted and deduplicated below; vectors rather than sets: one block per
    // backend instead of a node per endpoint (fewer holes left between the
    // snapshot's long-lived blocks once they are freed).
    std::vector<std::pair<std::string, std::uint16_t>> ready;
    std::vector<std::pair<std::string, std::uint16_t>> draining;  // serving but terminating
    bool port_unresolved = false;
    for (const k8s::EndpointSlice* slice : slices) {
        if (slice->address_type != "IPv4" && slice->address_type != "IPv6") continue;  // FQDN: not routable
        const auto target = target_port_in_slice(port, *slice);
        if (!target) {
            port_unresolved = true;
            continue;
        }
        for (const k8s::Endpoint& endpoint : slice->endpoints) {
            if (!node_name.empty() && endpoint.node_name.str() != node_name) continue;
            const bool is_ready = endpoint.ready().value_or(true);
            const bool is_draining = !is_ready && endpoint.serving().value_or(false) &&
                                     endpoint.terminating().value_or(false);
            endpoint.for_each_address([&](std::string_view address) {
                if (is_ready) ready.emplace_back(address, *target);
                else if (is_draining) draining.emplace_back(address, *target);
            });
        }
    }
    if (port_unresolved) {
        problems.push_back("backend " + backend_name + ": targetPort \"" + port.target_port->name +
                            "\" not found among the ports of some EndpointSlices of Service " +
                            service.metadata.namespace_ + "/" + service.metadata.name);
    }
    // Graceful termination: when nothing is ready, pods that are shutting
    // down but still serving are better than a 503.
    auto& chosen = ready.empty() ? draining : ready;
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    if (chosen.empty()) {
        problems.push_back("backend " + backend_name + ": no ready endpoints" +
                            (node_name.empty() ? std::string("; requests get 503")
                                               : " on node " + node_name + "; its frontends refuse connections"));
    }
    backend.endpoints.reserve(chosen.size());
    for (auto& [address, target] : chosen) backend.endpoints.push_back(snapshot::Endpoint{std::move(address), target});
    return backend;
}

std::vector<snapshot::Backend> BackendResolver::backends() const {
    std::vector<snapshot::Backend> result;
    for (const auto& [name, backend] : backends_) result.push_back(backend);
    return result;
}

std::vector<snapshot::Backend> BackendResolver::take_backends() {
    std::vector<snapshot::Backend> result;
    result.reserve(backends_.size());
    for (auto& [name, backend] : backends_) result.push_back(std::move(backend));
    backends_.clear();
    return result;
}

}  // namespace xgress::agent::model

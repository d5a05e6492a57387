#include "model/frontend_builder.h"

#include <algorithm>
#include <tuple>

#include "model/ingress_annotations.h"
#include "model/ip_address.h"
#include "xgress/control.h"

namespace xgress::agent::model {
namespace {

struct Candidate {
    dataplane::FrontendSpec spec;
    snapshot::Frontend proxy;
    // Local policy and no endpoint here: the proxy keeps the frontend (and
    // the conflict check counts it), but no BPF entry steers traffic to it,
    // so the kernel refuses connections. Only this bit follows endpoints,
    // which lets the reconciler's endpoint fast path flip it per Service.
    bool withheld = false;
};

auto destination(const dataplane::FrontendSpec& f) {
    return std::tuple(!f.node_port, f.node_port ? dataplane::IpAddress{} : f.address, f.port, f.protocol);
}

bool exposes_ports(const k8s::Service& service) {
    return service.type == "NodePort" || service.type == "LoadBalancer";
}

std::string family_of(const dataplane::IpAddress& address) {
    return address.v6 ? "IPv6" : "IPv4";
}

class Builder {
public:
    // Without a resolver (one Service for the endpoint fast path) backend
    // names are derived from the Service alone and nothing is withheld.
    Builder(const FrontendInputs& inputs, BackendResolver* resolver, std::vector<std::string>& problems)
        : inputs_(inputs), resolver_(resolver), problems_(problems) {}

    void add_service(const k8s::Service& service) {
        const std::string id = service.metadata.namespace_ + "/" + service.metadata.name;
        const bool is_publish =
            service.metadata.namespace_ == inputs_.publish_namespace && service.metadata.name == inputs_.publish_name;
        if (is_publish && !inputs_.use_publish_service) return;
        if (!exposes_ports(service) && service.external_ips.empty()) return;

        std::vector<dataplane::IpAddress> lb_vips = vips(service, service.load_balancer_ips,
                                                         "status.loadBalancer.ingress[].ip", id);
        std::vector<dataplane::IpAddress> external = vips(service, service.external_ips, "spec.externalIPs", id);
        std::vector<dataplane::IpPrefix> ranges;
        for (std::size_t i = 0; i < service.load_balancer_source_ranges.size(); ++i) {
            const std::string& text = service.load_balancer_source_ranges[i];
            if (auto prefix = parse_ip_prefix(text)) ranges.push_back(*prefix);
            else problems_.push_back("Service " + id + ": spec.loadBalancerSourceRanges[" + std::to_string(i) +
                                     "]: \"" + text + "\" is not a CIDR prefix; entry ignored");
        }
        const bool local = service.external_traffic_policy == "Local" && !is_publish;
        if (local && inputs_.node_name.empty()) {
            problems_.push_back("Service " + id + ": externalTrafficPolicy Local but the agent has no --node-name; "
                                "using endpoints on every node");
        }
        const bool node_ports = service.type == "NodePort" ||
                                (service.type == "LoadBalancer" && service.allocate_load_balancer_node_ports);

        for (const k8s::ServicePort& port : service.ports) {
            const std::string name = id + ":" + (port.name.empty() ? std::to_string(port.port) : port.name);
            if (port.protocol != "TCP") {
                problems_.push_back("Service port " + name + ": protocol " + port.protocol.str() +
                                    " not supported yet; not served");
                continue;
            }
            snapshot::Frontend proxy;
            bool withheld = false;
            if (is_publish) {
                // ingress-nginx's convention: the publish Service's "https" port (or 443) serves TLS.
                proxy.protocol = port.name == "https" || port.port == 443 ? snapshot::FrontendProtocol::Https
                                                                          : snapshot::FrontendProtocol::Http;
            } else {
                proxy.protocol = snapshot::FrontendProtocol::Tcp;
                const std::string node = local ? inputs_.node_name : std::string();
                proxy.backend = resolver_ ? resolver_->resolve_port(service, port, node)
                                          : backend_name(service, port, node);
                // make_backend reports "no ready endpoints on node ...; its frontends refuse connections".
                withheld = local && !node.empty() && resolver_ && !resolver_->has_endpoints(proxy.backend);
            }
            if (node_ports && port.node_port != 0 && exposes_ports(service)) {
                add(node_port_spec(port.node_port, name), proxy, {}, withheld);
            }
            if (service.type == "LoadBalancer") {
                for (const auto& vip : lb_vips) add(vip_spec(vip, port.port, name), proxy, ranges, withheld);
            }
            for (const auto& vip : external) add(vip_spec(vip, port.port, name), proxy, {}, withheld);
        }
    }

    void add_class_listeners(const k8s::IngressClassParameters& params, const std::string& class_name) {
        for (std::size_t i = 0; i < params.listeners.size(); ++i) {
            const k8s::ClassListener& listener = params.listeners[i];
            const std::string name = "IngressClassParameters/" + params.metadata.name + ":" +
                                     (listener.name.empty() ? std::to_string(i) : listener.name);
            snapshot::Frontend proxy;  // Ingress routing, after TLS termination for HTTPS
            proxy.protocol = listener.protocol == "HTTPS" ? snapshot::FrontendProtocol::Https
                                                          : snapshot::FrontendProtocol::Http;
            proxy.ingress_class = class_name;  // requests here route with the class's own table
            if (listener.node_port != 0) add(node_port_spec(listener.node_port, name), proxy, {});
            if (listener.port == 0) continue;
            if (listener.addresses.empty()) {
                add(node_port_spec(listener.port, name), proxy, {});  // the port on every node address
                continue;
            }
            for (const std::string& text : listener.addresses) {
                if (auto address = parse_ip_address(text)) add(vip_spec(*address, listener.port, name), proxy, {});
                else problems_.push_back(name + ": address \"" + text + "\" is not an IP address");
            }
        }
    }

    Frontends finish() {
        std::stable_sort(candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& b) {
            return destination(a.spec) < destination(b.spec);
        });
        Frontends out;
        const Candidate* winner = nullptr;  // of the current destination
        for (const Candidate& candidate : candidates_) {
            if (winner && destination(candidate.spec) == destination(winner->spec)) {
                // The same IP listed twice for one Service is harmless; two
                // owners of one destination is a conflict: first one wins
                // (withheld or not, so ownership never follows endpoints).
                if (candidate.spec.name != winner->spec.name) {
                    problems_.push_back("conflict: " + candidate.spec.name + " and " + winner->spec.name +
                                        " claim the same frontend " + describe(candidate.spec) + "; " +
                                        winner->spec.name + " keeps it");
                }
                continue;
            }
            winner = &candidate;
            if (!candidate.withheld) out.specs.push_back(candidate.spec);
            out.for_proxy.push_back(candidate.proxy);
        }
        return out;
    }

private:
    static std::string describe(const dataplane::FrontendSpec& f) {
        return (f.node_port ? std::string("NodePort") : format_ip_address(f.address)) + ":" + std::to_string(f.port);
    }

    std::vector<dataplane::IpAddress> vips(const k8s::Service& service, const std::vector<std::string>& texts,
                                           const char* field, const std::string& id) {
        std::vector<dataplane::IpAddress> out;
        for (const std::string& text : texts) {
            auto address = parse_ip_address(text);
            if (!address) {
                problems_.push_back("Service " + id + ": " + field + ": \"" + text + "\" is not an IP address");
                continue;
            }
            const auto& families = service.ip_families;
            if (!families.empty() && std::find(families.begin(), families.end(), family_of(*address)) == families.end()) {
                problems_.push_back("Service " + id + ": " + field + ": " + text + " is " + family_of(*address) +
                                    " but spec.ipFamilies does not list it; not served");
                continue;
            }
            out.push_back(*address);
        }
        return out;
    }

    static dataplane::FrontendSpec node_port_spec(std::uint16_t port, const std::string& name) {
        dataplane::FrontendSpec f;
        f.node_port = true;
        f.port = port;
        f.listener_slot = control::kHttpListenerSlot;
        f.name = name;
        return f;
    }

    static dataplane::FrontendSpec vip_spec(const dataplane::IpAddress& address, std::uint16_t port,
                                            const std::string& name) {
        dataplane::FrontendSpec f;
        f.address = address;
        f.port = port;
        f.listener_slot = control::kHttpListenerSlot;
        f.name = name;
        return f;
    }

    void add(dataplane::FrontendSpec spec, snapshot::Frontend proxy, const std::vector<dataplane::IpPrefix>& ranges,
             bool withheld = false) {
        spec.source_ranges = ranges;
        std::sort(spec.source_ranges.begin(), spec.source_ranges.end());
        spec.source_ranges.erase(std::unique(spec.source_ranges.begin(), spec.source_ranges.end()),
                                 spec.source_ranges.end());
        proxy.address = spec.node_port ? std::string() : format_ip_address(spec.address);
        proxy.port = spec.port;
        candidates_.push_back(Candidate{std::move(spec), std::move(proxy), withheld});
    }

    const FrontendInputs& inputs_;
    BackendResolver* resolver_;
    std::vector<std::string>& problems_;
    std::vector<Candidate> candidates_;
};

}  // namespace

bool frontend_order(const dataplane::FrontendSpec& a, const dataplane::FrontendSpec& b) {
    return destination(a) < destination(b);
}

Frontends service_frontends(const k8s::Service& service, const FrontendInputs& inputs) {
    std::vector<std::string> problems;  // the whole model reported them already
    Builder builder(inputs, nullptr, problems);
    builder.add_service(service);
    return builder.finish();
}

Frontends build_frontends(const k8s::ObjectCache& objects, const FrontendInputs& inputs, BackendResolver& resolver,
                          std::vector<std::string>& problems) {
    Builder builder(inputs, &resolver, problems);
    for (std::size_t i = 0; i < inputs.class_parameters.size(); ++i)
        builder.add_class_listeners(*inputs.class_parameters[i],
                                    i < inputs.class_names.size() ? inputs.class_names[i] : std::string());
    for (const k8s::Service* service : objects.list<k8s::Service>()) builder.add_service(*service);
    Frontends out = builder.finish();

    if (inputs.use_publish_service) {
        const k8s::Service* publish = objects.find<k8s::Service>(inputs.publish_namespace, inputs.publish_name);
        const std::string id = inputs.publish_namespace + "/" + inputs.publish_name;
        if (!publish) {
            problems.push_back("publish Service " + id + " not found: no HTTP frontends from it");
        } else if (std::none_of(out.specs.begin(), out.specs.end(), [&](const dataplane::FrontendSpec& f) {
                       return f.name.starts_with(id + ":");
                   })) {
            problems.push_back("publish Service " + id +
                               " has no nodePort, LoadBalancer ingress IP or externalIP: no frontends");
        }
    }
    return out;
}

}  // namespace xgress::agent::model

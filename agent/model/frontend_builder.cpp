#include "model/frontend_builder.h"

#include <algorithm>
#include <tuple>

#include "model/ip_address.h"
#include "xgress/control.h"

namespace xgress::agent::model {
namespace {

auto order_key(const dataplane::FrontendSpec& f) {
    return std::tuple(!f.node_port, f.address, f.port, f.protocol, f.listener_slot, f.name);
}

bool exposes_ports(const k8s::Service& service) {
    return service.type == "NodePort" || service.type == "LoadBalancer";
}

}  // namespace

std::vector<dataplane::FrontendSpec> build_frontends(const k8s::ObjectCache& objects,
                                                     const std::string& publish_namespace,
                                                     const std::string& publish_name,
                                                     std::vector<std::string>& problems) {
    std::vector<dataplane::FrontendSpec> frontends;
    for (const k8s::Service* service : objects.list<k8s::Service>()) {
        const bool is_publish = service->metadata.namespace_ == publish_namespace &&
                                service->metadata.name == publish_name;
        if (!is_publish) {
            if (exposes_ports(*service)) {
                problems.push_back("Service " + service->metadata.namespace_ + "/" + service->metadata.name +
                                   " (type " + service->type +
                                   "): L4 passthrough not yet supported; its ports are not served");
            }
            continue;
        }
        const std::string prefix = service->metadata.namespace_ + "/" + service->metadata.name + ":";
        std::vector<dataplane::IpAddress> vips;
        auto add_vips = [&](const std::vector<std::string>& texts, const char* field) {
            for (const std::string& text : texts) {
                if (auto address = parse_ip_address(text)) {
                    vips.push_back(*address);
                } else {
                    problems.push_back("publish Service " + prefix.substr(0, prefix.size() - 1) + ": " + field +
                                       ": \"" + text + "\" is not an IP address");
                }
            }
        };
        add_vips(service->load_balancer_ips, "status.loadBalancer.ingress[].ip");
        add_vips(service->external_ips, "spec.externalIPs");

        for (const k8s::ServicePort& port : service->ports) {
            const std::string name = prefix + (port.name.empty() ? std::to_string(port.port) : port.name);
            if (port.protocol != "TCP") {
                problems.push_back("publish Service port " + name + ": protocol " + port.protocol +
                                   " not supported (HTTP needs TCP)");
                continue;
            }
            if (port.node_port != 0 && exposes_ports(*service)) {
                dataplane::FrontendSpec f;
                f.node_port = true;
                f.port = port.node_port;
                f.listener_slot = control::kHttpListenerSlot;
                f.name = name;
                frontends.push_back(std::move(f));
            }
            for (const dataplane::IpAddress& vip : vips) {
                dataplane::FrontendSpec f;
                f.address = vip;
                f.port = port.port;
                f.listener_slot = control::kHttpListenerSlot;
                f.name = name;
                frontends.push_back(std::move(f));
            }
        }
    }
    if (!objects.find<k8s::Service>(publish_namespace, publish_name)) {
        problems.push_back("publish Service " + publish_namespace + "/" + publish_name +
                           " not found: no frontends");
    } else if (frontends.empty()) {
        problems.push_back("publish Service " + publish_namespace + "/" + publish_name +
                           " has no nodePort, LoadBalancer ingress IP or externalIP: no frontends");
    }

    std::sort(frontends.begin(), frontends.end(),
              [](const auto& a, const auto& b) { return order_key(a) < order_key(b); });
    // Same destination twice (an IP both externalIP and LB ingress): keep the first.
    frontends.erase(std::unique(frontends.begin(), frontends.end(),
                                [](const auto& a, const auto& b) {
                                    return a.node_port == b.node_port && a.address == b.address &&
                                           a.port == b.port && a.protocol == b.protocol;
                                }),
                    frontends.end());
    return frontends;
}

}  // namespace xgress::agent::model

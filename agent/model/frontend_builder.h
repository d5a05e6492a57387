// The node's frontends, for the BPF maps (FrontendSpec) and for the proxy
// (snapshot::Frontend: which protocol each dialled address:port speaks).
//
//  - HTTP / HTTPS: the publish Service's TCP ports (NodePort on every node
//    address; VIPs = status.loadBalancer.ingress[].ip + spec.externalIPs on
//    the service port; the port named "https", or port 443, is HTTPS) and the
//    listeners of our classes' IngressClassParameters (protocol HTTP|HTTPS).
//  - L4 passthrough: every TCP port of every other NodePort / LoadBalancer
//    Service (and externalIPs of any Service) relays bytes to that Service's
//    endpoints ("ns/svc:port"). externalTrafficPolicy: Local uses only this
//    node's endpoints ("ns/svc:port@node"); with none here the frontend is
//    left out of the BPF specs, so the kernel refuses the connection (what
//    kube-proxy does too). The proxy's frontend and backend stay (the
//    backend has no endpoints; no traffic reaches it), so only the BPF side
//    follows endpoints and an endpoint change never reshapes the snapshot.
//  - UDP/SCTP ports are reported as not supported yet.
// Everything is steered to listener slot 0: the proxy tells frontends apart
// by the address the client dialled.
#pragma once

#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "k8s/object_cache.h"
#include "model/backend_resolver.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

struct FrontendInputs {
    std::string publish_namespace;
    std::string publish_name;
    bool use_publish_service = true;   // false when every class of ours has its own listeners
    std::string node_name;             // for externalTrafficPolicy: Local; "" = unknown
    std::vector<const k8s::IngressClassParameters*> class_parameters;  // of our classes
    // The class each of class_parameters belongs to (same order): its
    // listeners' frontends route with that class's table (Frontend::ingress_class).
    std::vector<std::string> class_names;
};

struct Frontends {
    std::vector<dataplane::FrontendSpec> specs;    // sorted by frontend_order, one per destination
    // Sorted the same way; every destination of specs plus the Local ones
    // withheld from specs for want of an endpoint on this node.
    std::vector<snapshot::Frontend> for_proxy;
};

Frontends build_frontends(const k8s::ObjectCache& objects, const FrontendInputs& inputs,
                          BackendResolver& resolver, std::vector<std::string>& problems);

// One Service's frontends alone, for the reconciler's endpoint fast path:
// nothing withheld (the caller knows which backends have endpoints), no
// conflicts with other Services resolved, no problems reported (the whole
// model did). specs and for_proxy are parallel here.
Frontends service_frontends(const k8s::Service& service, const FrontendInputs& inputs);

// The order of Frontends::specs (by destination).
bool frontend_order(const dataplane::FrontendSpec& a, const dataplane::FrontendSpec& b);

}  // namespace xgress::agent::model

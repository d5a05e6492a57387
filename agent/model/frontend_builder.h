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
//    node's endpoints; with none here the frontend is left out, so the
//    kernel refuses the connection (what kube-proxy does too).
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
    std::vector<dataplane::FrontendSpec> specs;    // sorted, one per destination
    std::vector<snapshot::Frontend> for_proxy;     // same order as specs
};

Frontends build_frontends(const k8s::ObjectCache& objects, const FrontendInputs& inputs,
                          BackendResolver& resolver, std::vector<std::string>& problems);

}  // namespace xgress::agent::model

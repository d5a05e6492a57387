// The model: a pure function from the objects we know (k8s::ObjectCache) and
// the agent's settings to the desired state of this node: the frontends the
// BPF maps must hold and the routing snapshot the proxy must serve (schema 2:
// per-route policies from annotations, backend affinity, HTTPS frontends,
// certificates, TLS passthrough; see agent/annotations.md).
//
// No I/O and no logging here: problems (bad references, conflicts, things not
// supported yet) come back as messages for the caller to log, so the same
// inputs always give the same outputs and tests need nothing but structs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "k8s/object_cache.h"
#include "model/backend_resolver.h"
#include "model/ingress_annotations.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

inline constexpr const char* kControllerName = "xgress.io/ingress-controller";

struct Settings {
    // The Service whose ports are this node's HTTP frontends (--publish-service).
    std::string publish_namespace = "xgress-system";
    std::string publish_name = "xgress";
    std::string controller = kControllerName;
    std::string node_name;  // this node (--node-name), for externalTrafficPolicy: Local
};

// Settings of one of our IngressClasses from its IngressClassParameters.
struct ClassPolicy {
    std::string class_name;
    std::string default_tls_secret;
    std::uint32_t connect_timeout_ms = 0;
    std::uint32_t read_timeout_ms = 0;
    std::uint32_t send_timeout_ms = 0;
    std::uint64_t max_body_bytes = 0;
    bool operator==(const ClassPolicy&) const = default;
};

struct NodePortPolicy {
    std::uint16_t min = 30000;
    std::uint16_t max = 32767;
    bool drop_unallocated = true;
    bool operator==(const NodePortPolicy&) const = default;
};

struct DesiredState {
    std::vector<dataplane::FrontendSpec> frontends;  // sorted, no duplicates
    snapshot::Snapshot snapshot;                     // version left at 0: the caller numbers it
    std::vector<ClassPolicy> classes;                // our classes that have parameters
    std::optional<NodePortPolicy> node_port_policy;  // from class parameters, when any set one
    std::vector<std::string> problems;               // for the log; never fatal
};

DesiredState compute_desired_state(const k8s::ObjectCache& objects, const Settings& settings);

}  // namespace xgress::agent::model

// The model: a pure function from the objects we know (k8s::ObjectCache) and
// the agent's settings to the desired state of this node: the frontends the
// BPF maps must hold and the routing snapshot the proxy must serve.
//
// No I/O and no logging here: problems (bad references, conflicts, things not
// supported yet) come back as messages for the caller to log, so the same
// inputs always give the same outputs and tests need nothing but structs.
#pragma once

#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "k8s/object_cache.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

inline constexpr const char* kControllerName = "xgress.io/ingress-controller";

struct Settings {
    // The Service whose ports are this node's HTTP frontends (--publish-service).
    std::string publish_namespace = "xgress-system";
    std::string publish_name = "xgress";
    std::string controller = kControllerName;
};

struct DesiredState {
    std::vector<dataplane::FrontendSpec> frontends;  // sorted, no duplicates
    snapshot::Snapshot snapshot;                     // version left at 0: the caller numbers it
    std::vector<std::string> problems;               // for the log; never fatal
};

DesiredState compute_desired_state(const k8s::ObjectCache& objects, const Settings& settings);

}  // namespace xgress::agent::model

// The node's frontends: the publish Service's ports as NodePort frontends
// (every node address) and as VIP frontends on its LoadBalancer ingress IPs
// and externalIPs, all steered to the proxy's HTTP listener (slot 0).
#pragma once

#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "k8s/object_cache.h"

namespace xgress::agent::model {

std::vector<dataplane::FrontendSpec> build_frontends(const k8s::ObjectCache& objects,
                                                     const std::string& publish_namespace,
                                                     const std::string& publish_name,
                                                     std::vector<std::string>& problems);

}  // namespace xgress::agent::model

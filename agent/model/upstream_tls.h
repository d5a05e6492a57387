// Upstream TLS settings of a route (backend-protocol HTTPS): the name the
// proxy sends as SNI and verifies (proxy-ssl-name, else the Service's DNS
// name "<service>.<namespace>.svc"), and with proxy-ssl-verify "on" the CAs
// of the proxy-ssl-secret's ca.crt. Pure: objects in, snapshot fields out.
//
// Verification asked for but impossible (Secret missing, no ca.crt) is
// reported and fails closed: the route keeps upstream_verify with no CA, so
// the proxy refuses every endpoint certificate (502) instead of silently
// talking to an unauthenticated upstream.
#pragma once

#include <string>
#include <vector>

#include "k8s/object_cache.h"
#include "model/ingress_annotations.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

// Sets route.upstream_* from `o` when o.backend_protocol is Https; no-op otherwise.
// `owner` ("ns/name" of the Ingress) names the referrer in problems.
void apply_upstream_tls(snapshot::Route& route, const RouteOptions& o, const std::string& namespace_,
                        const std::string& service_name, const k8s::ObjectCache& objects, const std::string& owner,
                        std::vector<std::string>& problems);

}  // namespace xgress::agent::model

// Turns an Ingress backend reference (Service + port number or name) into a
// snapshot backend: its name "namespace/service:port" and the endpoints
// (pod address, target port) taken from the Service's EndpointSlices.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8s/object_cache.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

class BackendResolver {
public:
    BackendResolver(const k8s::ObjectCache& objects, std::vector<std::string>& problems)
        : objects_(objects), problems_(problems) {}

    // Returns the backend name and records the backend once. `referrer`
    // ("Ingress demo/x: spec.rules[0].http.paths[1].backend") names the
    // reference in problem messages. A missing Service or port still yields a
    // backend (with no endpoints: the proxy answers 503), so a route never
    // silently falls through to another rule.
    std::string resolve(const std::string& namespace_, const k8s::IngressBackend& backend,
                        const std::string& referrer);

    // Every backend resolved so far, sorted by name.
    std::vector<snapshot::Backend> backends() const;

private:
    std::vector<snapshot::Endpoint> endpoints_for(const k8s::Service& service,
                                                  const k8s::ServicePort& port,
                                                  const std::string& backend_name);

    const k8s::ObjectCache& objects_;
    std::vector<std::string>& problems_;
    std::map<std::string, snapshot::Backend> backends_;
};

}  // namespace xgress::agent::model

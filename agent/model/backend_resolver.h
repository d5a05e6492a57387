// Turns a backend reference (an Ingress backend: Service + port number or
// name; or a Service port itself, for L4 passthrough) into a snapshot
// backend: its name "namespace/service:port" and the endpoints (pod address,
// target port) taken from every EndpointSlice of the Service.
//
// Endpoint choice: `ready` endpoints (unknown counts as ready); when none is
// ready, endpoints that are `serving` and `terminating` (graceful shutdown).
// Named target ports are resolved per slice, so slices of pods that name the
// port differently still resolve. IPv4 and IPv6 slices are both used.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8s/object_cache.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

using SlicesByService = std::map<std::pair<std::string, std::string>, std::vector<const k8s::EndpointSlice*>>;

// Every EndpointSlice of `objects` by (namespace, kubernetes.io/service-name).
SlicesByService index_slices(const k8s::ObjectCache& objects);

// The backend of one Service port from that Service's slices: name
// "ns/svc:port" (+ "@node" with `node_name`: externalTrafficPolicy Local,
// only that node's endpoints), endpoints, and affinity (sessionAffinity:
// ClientIP; the snapshot has no timeout, the proxy hashes on the client
// address). Problems about this backend start with "backend NAME: ".
snapshot::Backend make_backend(const k8s::Service& service, const k8s::ServicePort& port,
                               const std::vector<const k8s::EndpointSlice*>& slices, const std::string& node_name,
                               std::vector<std::string>& problems);

// The name make_backend gives the backend of `port` ("ns/svc:port", + "@node"
// when `node_name` is set).
std::string backend_name(const k8s::Service& service, const k8s::ServicePort& port, const std::string& node_name);

// What a backend name made by make_backend refers to.
struct BackendName {
    std::string namespace_;
    std::string service;
    std::uint16_t port = 0;
    bool node_local = false;  // "@node"
};
// nullopt for names that are not "ns/svc:number[@node]" (unresolved references).
std::optional<BackendName> parse_backend_name(const std::string& name);

class BackendResolver {
public:
    // Indexes the EndpointSlices by Service once: resolving every backend by
    // scanning every slice was quadratic (25 s for 10,000 Services).
    BackendResolver(const k8s::ObjectCache& objects, std::vector<std::string>& problems);

    // Returns the backend name and records the backend once. `referrer`
    // ("Ingress demo/x: spec.rules[0].http.paths[1].backend") names the
    // reference in problem messages. A missing Service or port still yields a
    // backend (with no endpoints: the proxy answers 503), so a route never
    // silently falls through to another rule.
    std::string resolve(const std::string& namespace_, const k8s::IngressBackend& backend,
                        const std::string& referrer);

    // The backend of one Service port. With `node_name` set, only endpoints
    // on that node are used (externalTrafficPolicy: Local) and the name gets
    // "@node" appended, so it never mixes with the cluster-wide backend.
    std::string resolve_port(const k8s::Service& service, const k8s::ServicePort& port,
                             const std::string& node_name = "");

    bool has_endpoints(const std::string& backend_name) const;

    // Every backend resolved so far, sorted by name.
    std::vector<snapshot::Backend> backends() const;
    // The same, moved out (the resolver is spent): copying 100,000 endpoint
    // addresses and freeing the originals left ~40 bytes per endpoint of
    // holes between the snapshot's live blocks.
    std::vector<snapshot::Backend> take_backends();
private:
    const k8s::ObjectCache& objects_;
    std::vector<std::string>& problems_;
    std::map<std::string, snapshot::Backend> backends_;
    SlicesByService slices_;
};

}  // namespace xgress::agent::model

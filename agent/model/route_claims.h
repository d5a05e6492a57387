// Collects the host + path rules of the Ingresses we serve and settles
// conflicts: when two Ingresses claim the same host, path and match, the one
// created first wins (then namespace/name order) and the conflict is reported.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "k8s/objects.h"
#include "xgress/snapshot.h"

namespace xgress::agent::model {

struct RouteClaim {
    std::string namespace_;     // of the Ingress, and so of the Service
    k8s::IngressBackend backend;
    std::string owner;          // "demo/shop"
    std::string field;          // "spec.rules[0].http.paths[1]"
};

struct RouteKey {
    std::string ingress_class;  // the routing table: "" = default, else a class with listeners of its own
    std::string host;           // lower-case, "" = any
    std::string path;
    snapshot::PathMatch match = snapshot::PathMatch::Prefix;
    auto operator<=>(const RouteKey&) const = default;
};

class RouteClaims {
public:
    explicit RouteClaims(std::vector<std::string>& problems) : problems_(problems) {}

    // Ingresses must be added oldest first (see order_by_age). `table_class`:
    // the class table the Ingress's rules go to ("" = the default table);
    // claims conflict only within one table.
    void add(const k8s::Ingress& ingress, const std::string& table_class = "");

    const std::map<RouteKey, RouteClaim>& routes() const { return routes_; }
    const std::optional<RouteClaim>& default_backend() const { return default_backend_; }
    // The defaultBackend of each class table (oldest Ingress of the class wins).
    const std::map<std::string, RouteClaim>& class_default_backends() const { return class_default_backends_; }

private:
    std::vector<std::string>& problems_;
    std::map<RouteKey, RouteClaim> routes_;
    std::map<std::string, std::string> created_;  // owner -> creationTimestamp, for messages
    std::optional<RouteClaim> default_backend_;
    std::map<std::string, RouteClaim> class_default_backends_;
};

// Oldest first; objects without a creationTimestamp (hand-written manifests)
// count as newest; ties go by namespace, then name.
void order_by_age(std::vector<const k8s::Ingress*>& ingresses);

// Prefix paths match element-wise, so "/api/" and "/api" are the same rule.
std::string normalize_path(const std::string& path, snapshot::PathMatch match);

}  // namespace xgress::agent::model

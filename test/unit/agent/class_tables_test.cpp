// Per-class routing tables in the model: a class whose IngressClassParameters
// have listeners gets its own table (hosts, frontends and default backend
// carry the class name); classes without listeners share the default table.
#include <gtest/gtest.h>

#include "model/desired_state.h"
#include "test_objects.h"

using namespace xgress;
using namespace xgress::agent;
using namespace xgress::agent::model;
using agent::test::objects_from_yaml;

namespace {

const char* kTwoClasses = R"(
kind: IngressClass
metadata: {name: public}
spec: {controller: xgress.io/ingress-controller}
---
kind: IngressClass
metadata: {name: internal}
spec:
  controller: xgress.io/ingress-controller
  parameters: {apiGroup: xgress.io, kind: IngressClassParameters, name: internal}
---
apiVersion: xgress.io/v1alpha1
kind: IngressClassParameters
metadata: {name: internal}
spec:
  listeners:
    - {name: web, protocol: HTTP, port: 80, addresses: [192.0.2.5]}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{name: http, port: 80}]}
---
kind: Service
metadata: {name: admin, namespace: demo}
spec: {ports: [{name: http, port: 80}]}
---
kind: Ingress
metadata: {name: shop-public, namespace: demo, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: public
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
    - host: shop.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
kind: Ingress
metadata: {name: shop-internal, namespace: demo, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  ingressClassName: internal
  defaultBackend: {service: {name: admin, port: {number: 80}}}
  rules:
    - host: shop.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: admin, port: {number: 80}}}}]}
)";

}  // namespace

TEST(ClassTables, ClassWithListenersGetsItsOwnTable) {
    const DesiredState state = compute_desired_state(objects_from_yaml(kTwoClasses), Settings{});
    for (const auto& p : state.problems) EXPECT_EQ(p.find("conflict"), std::string::npos) << p;
    // The same host in both classes: no conflict, one VirtualHost per table.
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 2u);
    EXPECT_EQ(state.snapshot.virtual_hosts[0].host, "shop.test");
    EXPECT_EQ(state.snapshot.virtual_hosts[0].ingress_class, "");
    EXPECT_EQ(state.snapshot.virtual_hosts[0].routes[0].backend, "demo/web:80");
    EXPECT_EQ(state.snapshot.virtual_hosts[1].host, "shop.test");
    EXPECT_EQ(state.snapshot.virtual_hosts[1].ingress_class, "internal");
    EXPECT_EQ(state.snapshot.virtual_hosts[1].routes[0].backend, "demo/admin:80");
    EXPECT_EQ(state.snapshot.default_backend, "demo/web:80");
    EXPECT_EQ(state.snapshot.class_default_backends,
              (std::vector<snapshot::ClassDefaultBackend>{{"internal", "demo/admin:80"}}));
    // The publish Service's NodePort routes with the default table, the class's VIP with its own.
    ASSERT_EQ(state.snapshot.frontends.size(), 2u);
    for (const auto& f : state.snapshot.frontends) {
        if (f.port == 30080) EXPECT_EQ(f.ingress_class, "");
        else EXPECT_EQ(f.ingress_class, "internal") << f.address << ":" << f.port;
    }
    // And the proxy's codec takes it.
    auto decoded = snapshot::decode(snapshot::encode(state.snapshot));
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(*decoded, state.snapshot);
}

TEST(ClassTables, WithoutClassListenersTheSnapshotHasNoClassFields) {
    // The classic setup: one default class served on the publish Service.
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: IngressClass
metadata: {name: public}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
---
kind: Ingress
metadata: {name: shop, namespace: demo}
spec:
  ingressClassName: public
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
    - host: shop.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)"),
                                                     Settings{});
    const std::string json = snapshot::encode(state.snapshot);
    EXPECT_EQ(json.find("ingress_class"), std::string::npos) << json;
    EXPECT_EQ(json.find("class_default_backends"), std::string::npos) << json;
    EXPECT_EQ(state.snapshot.default_backend, "demo/web:80");
}

TEST(ClassTables, ConflictsStayWithinOneTable) {
    std::string yaml = kTwoClasses;
    yaml += R"(---
kind: Ingress
metadata: {name: shop-internal-2, namespace: demo, creationTimestamp: "2024-01-03T00:00:00Z"}
spec:
  ingressClassName: internal
  rules:
    - host: shop.test
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)";
    const DesiredState state = compute_desired_state(objects_from_yaml(yaml), Settings{});
    EXPECT_TRUE(agent::test::contains_message(state.problems, "in class internal"));
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 2u);
    EXPECT_EQ(state.snapshot.virtual_hosts[1].routes[0].backend, "demo/admin:80");  // the older one wins
}

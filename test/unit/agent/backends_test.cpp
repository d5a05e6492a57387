#include <gtest/gtest.h>

#include "model/desired_state.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

using snapshot::Endpoint;
using test::contains_message;
using test::objects_from_yaml;

const std::string kClassAndIngress = R"(
kind: IngressClass
metadata:
  name: xgress
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: xgress.io/ingress-controller}
---
kind: Ingress
metadata: {name: i, namespace: demo}
spec:
  rules:
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: svc, port: {name: web}}}}
)";

const snapshot::Backend* backend(const DesiredState& state, const std::string& name) {
    for (const auto& b : state.snapshot.backends) {
        if (b.name == name) return &b;
    }
    return nullptr;
}

DesiredState compute(const std::string& yaml) {
    return compute_desired_state(objects_from_yaml(kClassAndIngress + yaml), Settings{});
}

TEST(Backends, NumericTargetPortAndReadyFiltering) {
    const DesiredState state = compute(R"(
---
kind: Service
metadata: {name: svc, namespace: demo}
spec: {ports: [{name: web, port: 80, targetPort: 8080}, {name: other, port: 81, targetPort: 8081}]}
---
kind: EndpointSlice
metadata: {name: svc-a, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: web, port: 8080}]
endpoints:
  - {addresses: [10.0.0.2], conditions: {ready: true}}
  - {addresses: [10.0.0.1]}
  - {addresses: [10.0.0.3], conditions: {ready: false}}
  - {addresses: [10.0.0.4], conditions: {ready: false, serving: true, terminating: true}}
---
kind: EndpointSlice
metadata: {name: svc-b, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: web, port: 8080}]
endpoints:
  - {addresses: [10.0.0.5]}
---
kind: EndpointSlice
metadata: {name: other-svc, namespace: demo, labels: {kubernetes.io/service-name: other}}
ports: [{name: web, port: 8080}]
endpoints: [{addresses: [10.9.9.9]}]
---
kind: EndpointSlice
metadata: {name: svc-elsewhere, namespace: prod, labels: {kubernetes.io/service-name: svc}}
ports: [{name: web, port: 8080}]
endpoints: [{addresses: [10.8.8.8]}]
)");
    const auto* b = backend(state, "demo/svc:80");
    ASSERT_NE(b, nullptr) << testing::PrintToString(state.problems);
    EXPECT_EQ(b->endpoints, (std::vector<Endpoint>{{"10.0.0.1", 8080}, {"10.0.0.2", 8080}, {"10.0.0.5", 8080}}));
}

TEST(Backends, NamedTargetPortResolvedThroughSlicePortNames) {
    const DesiredState state = compute(R"(
---
kind: Service
metadata: {name: svc, namespace: demo}
spec: {ports: [{name: web, port: 80, targetPort: http}]}
---
kind: EndpointSlice
metadata: {name: svc-a, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: web, port: 9090}]
endpoints: [{addresses: [10.0.0.1]}]
---
kind: EndpointSlice
metadata: {name: svc-b, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: http, port: 9191}]
endpoints: [{addresses: [10.0.0.2]}]
---
kind: EndpointSlice
metadata: {name: svc-c, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: metrics, port: 9999}]
endpoints: [{addresses: [10.0.0.3]}]
)");
    const auto* b = backend(state, "demo/svc:80");
    ASSERT_NE(b, nullptr);
    // svc-a names its port after the Service port (what Kubernetes does),
    // svc-b after the targetPort; svc-c has neither and is left out.
    EXPECT_EQ(b->endpoints, (std::vector<Endpoint>{{"10.0.0.1", 9090}, {"10.0.0.2", 9191}}));
    EXPECT_TRUE(contains_message(state.problems, "targetPort \"http\" not found"))
        << testing::PrintToString(state.problems);
}

TEST(Backends, TargetPortDefaultsToPort) {
    const DesiredState state = compute(R"(
---
kind: Service
metadata: {name: svc, namespace: demo}
spec: {ports: [{name: web, port: 8000}]}
---
kind: EndpointSlice
metadata: {name: svc-a, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: web, port: 8000}]
endpoints: [{addresses: ["fd00::1"]}]
addressType: IPv6
)");
    const auto* b = backend(state, "demo/svc:8000");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->endpoints, (std::vector<Endpoint>{{"fd00::1", 8000}}));
}

TEST(Backends, TerminatingButServingUsedOnlyWhenNothingIsReady) {
    const DesiredState state = compute(R"(
---
kind: Service
metadata: {name: svc, namespace: demo}
spec: {ports: [{name: web, port: 80, targetPort: 8080}]}
---
kind: EndpointSlice
metadata: {name: svc-a, namespace: demo, labels: {kubernetes.io/service-name: svc}}
ports: [{name: web, port: 8080}]
endpoints:
  - {addresses: [10.0.0.3], conditions: {ready: false}}
  - {addresses: [10.0.0.4], conditions: {ready: false, serving: true, terminating: true}}
)");
    const auto* b = backend(state, "demo/svc:80");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->endpoints, (std::vector<Endpoint>{{"10.0.0.4", 8080}}));
}

TEST(Backends, MissingServiceOrPortGivesAnEmptyBackendAndAProblem) {
    DesiredState state = compute("");
    const auto* b = backend(state, "demo/svc:web");
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->endpoints.empty());
    EXPECT_TRUE(contains_message(state.problems,
                                 "Ingress demo/i: spec.rules[0].http.paths[0]: Service demo/svc not found"))
        << testing::PrintToString(state.problems);

    state = compute("---\nkind: Service\nmetadata: {name: svc, namespace: demo}\nspec: {ports: [{port: 80}]}\n");
    ASSERT_NE(backend(state, "demo/svc:web"), nullptr);
    EXPECT_TRUE(contains_message(state.problems, "Service demo/svc has no port web"));
}

TEST(Backends, NoReadyEndpointsIsReported) {
    const DesiredState state = compute(
        "---\nkind: Service\nmetadata: {name: svc, namespace: demo}\nspec: {ports: [{name: web, port: 80}]}\n");
    const auto* b = backend(state, "demo/svc:80");
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->endpoints.empty());
    EXPECT_TRUE(contains_message(state.problems, "backend demo/svc:80: no ready endpoints"));
}

}  // namespace
}  // namespace xgress::agent::model

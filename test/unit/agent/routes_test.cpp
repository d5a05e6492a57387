#include <gtest/gtest.h>

#include <algorithm>

#include "model/desired_state.h"
#include "model/route_claims.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

using snapshot::PathMatch;
using snapshot::Route;
using test::contains_message;
using test::objects_from_yaml;

const std::string kBase = R"(
kind: IngressClass
metadata:
  name: xgress
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{name: http, port: 80}]}
---
kind: Service
metadata: {name: api, namespace: demo}
spec: {ports: [{name: http, port: 8000}]}
)";

TEST(Routes, HostAndHostlessRulesWithPathTypes) {
    const DesiredState state = compute_desired_state(objects_from_yaml(kBase + R"(
---
kind: Ingress
metadata: {name: shop, namespace: demo}
spec:
  rules:
    - host: Shop.Example.COM
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /api/, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
          - {path: /healthz, pathType: Exact, backend: {service: {name: api, port: {number: 8000}}}}
          - {path: /static, pathType: ImplementationSpecific, backend: {service: {name: web, port: {name: http}}}}
    - http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 2u);
    EXPECT_EQ(state.snapshot.virtual_hosts[0].host, "");
    EXPECT_EQ(state.snapshot.virtual_hosts[0].routes,
              (std::vector<Route>{{"/", PathMatch::Prefix, "demo/web:80"}}));
    EXPECT_EQ(state.snapshot.virtual_hosts[1].host, "shop.example.com");
    EXPECT_EQ(state.snapshot.virtual_hosts[1].routes,
              (std::vector<Route>{{"/healthz", PathMatch::Exact, "demo/api:8000"},
                                  {"/static", PathMatch::Prefix, "demo/web:80"},
                                  {"/api", PathMatch::Prefix, "demo/api:8000"},
                                  {"/", PathMatch::Prefix, "demo/web:80"}}));
    EXPECT_EQ(state.snapshot.default_backend, "");
    ASSERT_EQ(state.snapshot.backends.size(), 2u);
    EXPECT_EQ(state.snapshot.backends[0].name, "demo/api:8000");
    EXPECT_EQ(state.snapshot.backends[1].name, "demo/web:80");
}

TEST(Routes, DefaultBackend) {
    const DesiredState state = compute_desired_state(objects_from_yaml(kBase + R"(
---
kind: Ingress
metadata: {name: fallback, namespace: demo}
spec:
  defaultBackend: {service: {name: web, port: {name: http}}}
)"),
                                                     Settings{});
    EXPECT_TRUE(state.snapshot.virtual_hosts.empty());
    EXPECT_EQ(state.snapshot.default_backend, "demo/web:80");
    ASSERT_EQ(state.snapshot.backends.size(), 1u);
}

TEST(Routes, ConflictOldestWinsAndBothAreNamed) {
    const DesiredState state = compute_desired_state(objects_from_yaml(kBase + R"(
---
kind: Ingress
metadata: {name: aaa-newer, namespace: demo, creationTimestamp: "2024-05-01T00:00:00Z"}
spec:
  defaultBackend: {service: {name: api, port: {number: 8000}}}
  rules: [{host: a.example.com, http: {paths: [{path: /x, pathType: Prefix, backend: {service: {name: api, port: {number: 8000}}}}]}}]
---
kind: Ingress
metadata: {name: zzz-older, namespace: demo, creationTimestamp: "2023-01-01T00:00:00Z"}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules: [{host: a.example.com, http: {paths: [{path: /x/, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 1u);
    EXPECT_EQ(state.snapshot.virtual_hosts[0].routes,
              (std::vector<Route>{{"/x", PathMatch::Prefix, "demo/web:80"}}));
    EXPECT_EQ(state.snapshot.default_backend, "demo/web:80");
    // The losing backend is not referenced, so it is not in the snapshot.
    ASSERT_EQ(state.snapshot.backends.size(), 1u);
    EXPECT_TRUE(contains_message(state.problems,
                                 "conflict: host \"a.example.com\" Prefix path \"/x\": Ingress demo/zzz-older (created "
                                 "2023-01-01T00:00:00Z) spec.rules[0].http.paths[0] wins over Ingress demo/aaa-newer"))
        << testing::PrintToString(state.problems);
    EXPECT_TRUE(contains_message(state.problems, "conflict: default backend: Ingress demo/zzz-older"));
}

TEST(Routes, ConflictWithoutTimestampsGoesByName) {
    const DesiredState state = compute_desired_state(objects_from_yaml(kBase + R"(
---
kind: Ingress
metadata: {name: b, namespace: demo}
spec: {rules: [{http: {paths: [{path: /, pathType: Exact, backend: {service: {name: api, port: {number: 8000}}}}]}}]}
---
kind: Ingress
metadata: {name: a, namespace: demo}
spec: {rules: [{http: {paths: [{path: /, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}]}}]}
---
kind: Ingress
metadata: {name: c, namespace: demo, creationTimestamp: "2020-01-01T00:00:00Z"}
spec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 8000}}}}]}}]}
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 1u);
    // Exact "/" and Prefix "/" are different rules: no conflict between them.
    EXPECT_EQ(state.snapshot.virtual_hosts[0].routes,
              (std::vector<Route>{{"/", PathMatch::Exact, "demo/web:80"}, {"/", PathMatch::Prefix, "demo/api:8000"}}));
    EXPECT_EQ(std::count_if(state.problems.begin(), state.problems.end(),
                            [](const std::string& m) { return m.starts_with("conflict"); }),
              1)
        << testing::PrintToString(state.problems);
    EXPECT_TRUE(contains_message(state.problems, "Ingress demo/a (created unknown) spec.rules[0].http.paths[0] wins "
                                                 "over Ingress demo/b"));
}

TEST(Routes, OrderByAgePutsUnknownTimestampsLast) {
    k8s::Ingress a, b, c;
    a.metadata = {"a", "ns", {}, {}, ""};
    b.metadata = {"b", "ns", {}, {}, "2024-01-01T00:00:00Z"};
    c.metadata = {"c", "ns", {}, {}, "2023-01-01T00:00:00Z"};
    std::vector<const k8s::Ingress*> order{&a, &b, &c};
    order_by_age(order);
    EXPECT_EQ(order, (std::vector<const k8s::Ingress*>{&c, &b, &a}));
}

TEST(Routes, NormalizePath) {
    EXPECT_EQ(normalize_path("/api//", PathMatch::Prefix), "/api");
    EXPECT_EQ(normalize_path("/", PathMatch::Prefix), "/");
    EXPECT_EQ(normalize_path("/api/", PathMatch::Exact), "/api/");
}

}  // namespace
}  // namespace xgress::agent::model

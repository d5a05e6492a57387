// Schema-2 TLS in the model: certificates from spec.tls (oldest Ingress wins
// a contested host), the class's default certificate, HTTPS frontends of the
// publish Service, ssl-passthrough hosts, and class-parameter defaults on
// routes. Every resulting snapshot must pass the proxy's own decoder.
#include <gtest/gtest.h>

#include "model/desired_state.h"
#include "test_objects.h"
#include "tls_fixtures.h"

namespace xgress::agent::model {
namespace {

using test::contains_message;
using test::objects_from_yaml;

std::string secret(const char* name) {
    return std::string("kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: ") + name +
           ", namespace: demo}\ndata:\n  tls.crt: " + test::kTestCertBase64 + "\n  tls.key: " + test::kTestKeyBase64 +
           "\n---\n";
}

constexpr const char* kBase = R"(
kind: IngressClass
metadata: {name: xgress, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec:
  type: LoadBalancer
  ports: [{name: http, port: 80, nodePort: 30080}, {name: https, port: 443, nodePort: 30443}, {name: alt, port: 8443, nodePort: 30843}]
status: {loadBalancer: {ingress: [{ip: 192.0.2.10}]}}
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{port: 80}]}
---
kind: Service
metadata: {name: tls-app, namespace: demo}
spec: {ports: [{port: 8443}]}
---
)";

void expect_decodes(const DesiredState& state) {
    auto decoded = snapshot::decode(snapshot::encode(state.snapshot));
    ASSERT_TRUE(decoded.has_value()) << decoded.error();
    EXPECT_EQ(*decoded, state.snapshot);
}

TEST(TlsModel, PublishServiceHttpsPortBecomesHttpsFrontends) {
    const DesiredState state = compute_desired_state(objects_from_yaml(kBase), Settings{});
    struct Want {
        std::string address;
        std::uint16_t port;
        snapshot::FrontendProtocol protocol;
    };
    std::vector<Want> want = {
        {"", 30080, snapshot::FrontendProtocol::Http},   {"", 30443, snapshot::FrontendProtocol::Https},
        {"", 30843, snapshot::FrontendProtocol::Http},   {"192.0.2.10", 80, snapshot::FrontendProtocol::Http},
        {"192.0.2.10", 443, snapshot::FrontendProtocol::Https}, {"192.0.2.10", 8443, snapshot::FrontendProtocol::Http},
    };
    ASSERT_EQ(state.snapshot.frontends.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(state.snapshot.frontends[i].address, want[i].address) << i;
        EXPECT_EQ(state.snapshot.frontends[i].port, want[i].port) << i;
        EXPECT_EQ(state.snapshot.frontends[i].protocol, want[i].protocol) << i;
    }
    expect_decodes(state);
}

TEST(TlsModel, ContestedTlsHostGoesToTheOldestIngress) {
    const DesiredState state = compute_desired_state(
        objects_from_yaml(std::string(kBase) + secret("old-cert") + secret("new-cert") + R"(
kind: Ingress
metadata: {name: newer, namespace: demo, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  tls: [{hosts: [shop.example.com, Extra.Example.com], secretName: new-cert}]
  rules: [{host: shop.example.com, http: {paths: [{path: /new, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
kind: Ingress
metadata: {name: older, namespace: demo, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  tls: [{hosts: [shop.example.com], secretName: old-cert}]
  rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)"),
        Settings{});
    ASSERT_EQ(state.snapshot.certificates.size(), 2u);
    EXPECT_EQ(state.snapshot.certificates[0].name, "demo/new-cert");
    EXPECT_EQ(state.snapshot.certificates[0].hosts, (std::vector<std::string>{"extra.example.com"}));
    EXPECT_EQ(state.snapshot.certificates[1].name, "demo/old-cert");
    EXPECT_EQ(state.snapshot.certificates[1].hosts, (std::vector<std::string>{"shop.example.com"}));
    EXPECT_TRUE(contains_message(state.problems, "conflict: TLS host \"shop.example.com\": Ingress demo/older "
                                                 "(Secret demo/old-cert) wins over Ingress demo/newer (Secret demo/new-cert)"));
    // Both Ingresses' routes on the TLS host redirect plain HTTP by default.
    for (const auto& route : state.snapshot.virtual_hosts.at(0).routes) EXPECT_TRUE(route.ssl_redirect) << route.path;
    expect_decodes(state);
}

TEST(TlsModel, ClassParametersGiveTheDefaultCertificateAndRouteDefaults) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(R"(
kind: IngressClass
metadata: {name: edge}
spec:
  controller: xgress.io/ingress-controller
  parameters: {apiGroup: xgress.io, kind: IngressClassParameters, name: edge}
---
apiVersion: xgress.io/v1alpha1
kind: IngressClassParameters
metadata: {name: edge}
spec:
  listeners: [{name: web, protocol: HTTP, port: 8080}, {name: tls, protocol: HTTPS, port: 8443}]
  defaultTLSSecret: demo/fallback
  timeouts: {connect: 2s, read: 60s}
  maxBodySize: 16m
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{port: 80}]}
---
)") + secret("fallback") + R"(
kind: Ingress
metadata: {name: a, namespace: demo, annotations: {xgress.io/proxy-read-timeout: 5s}}
spec:
  ingressClassName: edge
  tls: [{hosts: [shop.example.com]}]
  rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)"),
                                                     Settings{});
    EXPECT_EQ(state.snapshot.default_certificate, "demo/fallback");
    ASSERT_EQ(state.snapshot.certificates.size(), 1u);
    EXPECT_TRUE(state.snapshot.certificates[0].hosts.empty());
    const snapshot::Route& route = state.snapshot.virtual_hosts.at(0).routes.at(0);
    EXPECT_EQ(route.connect_timeout_ms, 2000u);   // class default
    EXPECT_EQ(route.read_timeout_ms, 5000u);      // the annotation wins
    EXPECT_EQ(route.send_timeout_ms, 0u);         // neither: proxy default
    EXPECT_EQ(route.max_body_bytes, 16u << 20);
    EXPECT_TRUE(route.ssl_redirect);              // TLS host (default certificate)
    expect_decodes(state);
}

TEST(TlsModel, SslPassthroughNamesTheRulesBackend) {
    struct Case {
        const char* name;
        const char* annotation;
        const char* paths;
        const char* want;  // passthrough_backend of shop.example.com
    } cases[] = {
        {"xgress", "xgress.io/ssl-passthrough", "[{path: /, pathType: Prefix, backend: {service: {name: tls-app, port: {number: 8443}}}}]",
         "demo/tls-app:8443"},
        {"nginx", "nginx.ingress.kubernetes.io/ssl-passthrough",
         "[{path: /x, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}, "
         "{path: /, pathType: Prefix, backend: {service: {name: tls-app, port: {number: 8443}}}}]",
         "demo/tls-app:8443"},
        {"first path when no /", "xgress.io/ssl-passthrough",
         "[{path: /x, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]", "demo/web:80"},
        {"off", "xgress.io/other", "[{path: /, pathType: Prefix, backend: {service: {name: tls-app, port: {number: 8443}}}}]",
         ""},
    };
    for (const Case& c : cases) {
        const DesiredState state = compute_desired_state(
            objects_from_yaml(std::string(kBase) + "kind: Ingress\nmetadata: {name: p, namespace: demo, annotations: {" +
                              c.annotation + ": 'true'}}\nspec:\n  rules:\n    - {host: shop.example.com, http: {paths: " +
                              c.paths + "}}\n    - {http: {paths: [{path: /, pathType: Prefix, backend: {service: "
                                        "{name: web, port: {number: 80}}}}]}}\n"),
            Settings{});
        const snapshot::VirtualHost* shop = nullptr;
        for (const auto& vh : state.snapshot.virtual_hosts)
            if (vh.host == "shop.example.com") shop = &vh;
        ASSERT_NE(shop, nullptr) << c.name;
        EXPECT_EQ(shop->passthrough_backend, c.want) << c.name;
        if (*c.want) {
            EXPECT_TRUE(contains_message(state.problems, "Ingress demo/p: spec.rules[1]: ssl-passthrough needs an exact host"))
                << c.name;
        }
        expect_decodes(state);
    }
}

}  // namespace
}  // namespace xgress::agent::model

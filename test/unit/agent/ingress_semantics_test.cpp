// Ingress semantics beyond the basics in routes_test.cpp: wildcard and
// invalid hosts, ImplementationSpecific, annotations (table), class
// parameters, TLS Secrets.
#include <gtest/gtest.h>

#include <functional>

#include "model/desired_state.h"
#include "model/ip_address.h"
#include "test_objects.h"
#include "tls_fixtures.h"

namespace xgress::agent::model {
namespace {

using test::contains_message;
using test::objects_from_yaml;

constexpr const char* kClassAndService = R"(
kind: IngressClass
metadata: {name: xgress, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{port: 80}]}
---
)";

std::vector<std::string> hosts_of(const DesiredState& state) {
    std::vector<std::string> hosts;
    for (const auto& vh : state.snapshot.virtual_hosts) hosts.push_back(vh.host);
    return hosts;
}

TEST(IngressHosts, WildcardAndExactAndHostlessAreSeparateVirtualHosts) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(kClassAndService) + R"(
kind: Ingress
metadata: {name: a, namespace: demo}
spec:
  rules:
    - host: "*.example.com"
      http: {paths: [{path: /, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}]}
    - host: shop.example.com
      http: {paths: [{path: /api/, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
    - http: {paths: [{path: /x, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}]}
)"),
                                                     Settings{});
    EXPECT_EQ(hosts_of(state), (std::vector<std::string>{"", "*.example.com", "shop.example.com"}));
    // ImplementationSpecific is served as Prefix; "/api/" is the element-wise prefix "/api".
    EXPECT_EQ(state.snapshot.virtual_hosts[1].routes[0].match, snapshot::PathMatch::Prefix);
    EXPECT_EQ(state.snapshot.virtual_hosts[2].routes[0].path, "/api");
    EXPECT_EQ(state.snapshot.virtual_hosts[0].routes[0].match, snapshot::PathMatch::Exact);
}

TEST(IngressHosts, InvalidHostsNameTheField) {
    struct Case {
        const char* host;
        const char* error;
    } cases[] = {
        {"*.*.example.com", "a wildcard is only allowed as the whole first label"},
        {"foo*.example.com", "a wildcard is only allowed"},
        {"shop..example.com", "not a valid host name"},
        {"-shop.example.com", "not a valid host name"},
        {"*", "a wildcard is only allowed"},
    };
    for (const Case& c : cases) {
        k8s::LoadedManifests loaded;
        k8s::load_manifest_text(std::string("kind: Ingress\nmetadata: {name: bad, namespace: demo}\nspec:\n"
                                            "  rules: [{host: \"") +
                                    c.host + "\", http: {paths: [{path: /, pathType: Prefix, backend: {service: "
                                             "{name: web, port: {number: 80}}}}]}}]\n",
                                "ing.yaml", loaded);
        ASSERT_EQ(loaded.errors.size(), 1u) << c.host;
        EXPECT_NE(loaded.errors[0].find("Ingress demo/bad: spec.rules[0].host: "), std::string::npos) << loaded.errors[0];
        EXPECT_NE(loaded.errors[0].find(c.error), std::string::npos) << loaded.errors[0];
    }
}

struct AnnotationCase {
    const char* name;
    const char* annotations;  // YAML flow map
    std::function<void(const snapshot::Route&)> check;  // the route shop.example.com "/"
    const char* problem;      // "" = no problem expected
    const char* tls = "";     // spec.tls of the Ingress (YAML flow), "" = none
};

class Annotations : public testing::TestWithParam<AnnotationCase> {};

// Each annotation reaches the snapshot's route fields (schema 2).
TEST_P(Annotations, ReachTheSnapshotRoute) {
    const AnnotationCase& c = GetParam();
    const std::string tls = *c.tls ? std::string("  tls: ") + c.tls + "\n" : std::string();
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(kClassAndService) +
                                                                       "kind: Ingress\nmetadata: {name: a, namespace: "
                                                                       "demo, annotations: " +
                                                                       c.annotations + "}\nspec:\n" + tls + R"(  rules:
    - host: shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 1u);
    ASSERT_EQ(state.snapshot.virtual_hosts[0].routes.size(), 1u);
    const snapshot::Route& route = state.snapshot.virtual_hosts[0].routes[0];
    EXPECT_EQ(route.backend, "demo/web:80");
    c.check(route);
    if (*c.problem) {
        EXPECT_TRUE(contains_message(state.problems, c.problem)) << testing::PrintToString(state.problems);
    } else {
        for (const auto& p : state.problems) EXPECT_EQ(p.find("annotations"), std::string::npos) << p;
    }
    // Whatever the annotations, the proxy's codec accepts the result.
    auto decoded = snapshot::decode(snapshot::encode(state.snapshot));
    EXPECT_TRUE(decoded.has_value()) << (decoded ? "" : decoded.error());
}

snapshot::Route plain_route() {
    snapshot::Route r{"/", snapshot::PathMatch::Prefix, "demo/web:80"};
    return r;
}

INSTANTIATE_TEST_SUITE_P(
    Model, Annotations,
    testing::Values(
        AnnotationCase{"None", "{}", [](const snapshot::Route& r) { EXPECT_EQ(r, plain_route()); }, ""},
        AnnotationCase{"RewriteTarget", "{xgress.io/rewrite-target: /new}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.rewrite_target, "/new"); EXPECT_FALSE(r.regex); }, ""},
        AnnotationCase{"RewriteWithCaptureImpliesRegex", "{nginx.ingress.kubernetes.io/rewrite-target: /$2}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.rewrite_target, "/$2"); EXPECT_TRUE(r.regex); }, ""},
        AnnotationCase{"UseRegex", "{xgress.io/use-regex: 'true'}",
                       [](const snapshot::Route& r) { EXPECT_TRUE(r.regex); EXPECT_EQ(r.rewrite_target, ""); }, ""},
        AnnotationCase{"RewriteBad", "{xgress.io/rewrite-target: 'new$x'}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.rewrite_target, ""); },
                       "metadata.annotations[xgress.io/rewrite-target]: expected a path"},
        AnnotationCase{"XgressWinsOverNginx",
                       "{xgress.io/proxy-body-size: 1m, nginx.ingress.kubernetes.io/proxy-body-size: 2m}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.max_body_bytes, 1u << 20); }, ""},
        AnnotationCase{"BodySizeZeroIsUnlimited", "{xgress.io/proxy-body-size: '0'}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.max_body_bytes, ~std::uint64_t{0}); }, ""},
        AnnotationCase{"BodySizeBad", "{nginx.ingress.kubernetes.io/proxy-body-size: lots}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.max_body_bytes, 0u); }, "expected a size like 8m"},
        AnnotationCase{"Timeouts",
                       "{nginx.ingress.kubernetes.io/proxy-connect-timeout: '5', xgress.io/proxy-read-timeout: 250ms, "
                       "xgress.io/proxy-send-timeout: 2m}",
                       [](const snapshot::Route& r) {
                           EXPECT_EQ(r.connect_timeout_ms, 5000u);
                           EXPECT_EQ(r.read_timeout_ms, 250u);
                           EXPECT_EQ(r.send_timeout_ms, 120000u);
                       },
                       ""},
        AnnotationCase{"TimeoutBad", "{xgress.io/proxy-read-timeout: soon}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.read_timeout_ms, 0u); },
                       "proxy-read-timeout]: expected a duration"},
        AnnotationCase{"SslRedirectNeedsTls", "{xgress.io/ssl-redirect: 'true'}",
                       [](const snapshot::Route& r) { EXPECT_FALSE(r.ssl_redirect); }, ""},
        AnnotationCase{"SslRedirectDefaultOnForTlsHosts", "{}",
                       [](const snapshot::Route& r) { EXPECT_TRUE(r.ssl_redirect); }, "",
                       "[{hosts: [shop.example.com]}]"},
        AnnotationCase{"SslRedirectViaWildcardTlsHost", "{}",
                       [](const snapshot::Route& r) { EXPECT_TRUE(r.ssl_redirect); }, "",
                       "[{hosts: ['*.example.com']}]"},
        AnnotationCase{"SslRedirectOff", "{nginx.ingress.kubernetes.io/ssl-redirect: 'false'}",
                       [](const snapshot::Route& r) { EXPECT_FALSE(r.ssl_redirect); }, "",
                       "[{hosts: [shop.example.com]}]"},
        AnnotationCase{"ForceSslRedirectWithoutTls", "{xgress.io/force-ssl-redirect: 'true'}",
                       [](const snapshot::Route& r) { EXPECT_TRUE(r.ssl_redirect); }, ""},
        AnnotationCase{"BoolBad", "{xgress.io/force-ssl-redirect: 'yes please'}",
                       [](const snapshot::Route& r) { EXPECT_FALSE(r.ssl_redirect); }, "expected \"true\" or \"false\""},
        AnnotationCase{"BackendHttpsSniIsTheServiceDnsName", "{nginx.ingress.kubernetes.io/backend-protocol: HTTPS}",
                       [](const snapshot::Route& r) {
                           EXPECT_EQ(r.backend_protocol, snapshot::BackendProtocol::Https);
                           EXPECT_EQ(r.upstream_server_name, "web.demo.svc");
                           EXPECT_FALSE(r.upstream_verify);
                       },
                       ""},
        AnnotationCase{"BackendHttpsProxySslName",
                       "{xgress.io/backend-protocol: HTTPS, nginx.ingress.kubernetes.io/proxy-ssl-name: api.internal}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.upstream_server_name, "api.internal"); }, ""},
        AnnotationCase{"ProxySslNameIgnoredForHttp", "{xgress.io/proxy-ssl-name: api.internal}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r, plain_route()); }, ""},
        AnnotationCase{"ProxySslVerifyWithoutSecretFailsClosed",
                       "{xgress.io/backend-protocol: HTTPS, xgress.io/proxy-ssl-verify: 'on'}",
                       [](const snapshot::Route& r) {
                           EXPECT_TRUE(r.upstream_verify);
                           EXPECT_EQ(r.upstream_ca_pem, "");
                       },
                       "proxy-ssl-verify is on without proxy-ssl-secret"},
        AnnotationCase{"ProxySslVerifyMissingSecret",
                       "{xgress.io/backend-protocol: HTTPS, xgress.io/proxy-ssl-verify: 'on', "
                       "xgress.io/proxy-ssl-secret: demo/nope}",
                       [](const snapshot::Route& r) { EXPECT_TRUE(r.upstream_verify); },
                       "proxy-ssl-secret: Secret demo/nope not found"},
        AnnotationCase{"ProxySslVerifyBad", "{xgress.io/backend-protocol: HTTPS, xgress.io/proxy-ssl-verify: yes}",
                       [](const snapshot::Route& r) { EXPECT_FALSE(r.upstream_verify); },
                       "proxy-ssl-verify]: expected \"on\" or \"off\""},
        AnnotationCase{"ProxySslSecretBad", "{xgress.io/backend-protocol: HTTPS, xgress.io/proxy-ssl-secret: a/b/c}",
                       [](const snapshot::Route& r) { EXPECT_FALSE(r.upstream_verify); },
                       "proxy-ssl-secret]: expected \"namespace/name\""},
        AnnotationCase{"BackendGrpcUnsupported", "{nginx.ingress.kubernetes.io/backend-protocol: GRPC}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.backend_protocol, snapshot::BackendProtocol::Http); },
                       "GRPC is not supported until HTTP/2 lands"},
        AnnotationCase{"CookieAffinity",
                       "{nginx.ingress.kubernetes.io/affinity: cookie, nginx.ingress.kubernetes.io/session-cookie-name: route}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.affinity_cookie, "route"); }, ""},
        AnnotationCase{"CookieAffinityDefaultName", "{xgress.io/affinity: cookie}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.affinity_cookie, "INGRESSCOOKIE"); }, ""},
        AnnotationCase{"WhitelistSourceRange",
                       "{nginx.ingress.kubernetes.io/whitelist-source-range: '10.1.2.3/8, 2001:db8::/32,192.0.2.7,nope'}",
                       [](const snapshot::Route& r) {
                           EXPECT_EQ(r.allowed_sources,
                                     (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"}));
                       },
                       "\"nope\" is not an address or CIDR prefix"},
        AnnotationCase{"UpstreamHashBy", "{xgress.io/upstream-hash-by: $request_uri}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.hash_by, "$request_uri"); }, ""},
        AnnotationCase{"PermanentRedirectWithCode",
                       "{xgress.io/permanent-redirect: 'https://new.example.com/', xgress.io/permanent-redirect-code: '308'}",
                       [](const snapshot::Route& r) {
                           EXPECT_EQ(r.redirect, (snapshot::Redirect{"https://new.example.com/", 308}));
                       },
                       ""},
        AnnotationCase{"PermanentRedirectCodeOutsideTheSnapshotsSet",
                       "{xgress.io/permanent-redirect: /new, xgress.io/permanent-redirect-code: '303'}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.redirect, (snapshot::Redirect{"/new", 301})); },
                       "permanent-redirect-code]: expected 301, 302, 307 or 308"},
        AnnotationCase{"TemporalRedirect", "{nginx.ingress.kubernetes.io/temporal-redirect: /maintenance}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.redirect, (snapshot::Redirect{"/maintenance", 302})); },
                       ""},
        AnnotationCase{"RedirectHeaderInjectionRejected", "{xgress.io/permanent-redirect: \"https://x/\\r\\nSet-Cookie: a\"}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.redirect.status, 0); }, "expected an absolute http(s) URL"},
        AnnotationCase{"AppRoot", "{xgress.io/app-root: /app}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r.app_root, "/app"); }, ""},
        AnnotationCase{"ConfigurationSnippetRejected",
                       "{nginx.ingress.kubernetes.io/configuration-snippet: 'more_set_headers \"X: y\";'}",
                       [](const snapshot::Route& r) { EXPECT_EQ(r, plain_route()); },
                       "configuration-snippet]: rejected: raw proxy configuration is not supported"}),
    [](const testing::TestParamInfo<AnnotationCase>& info) { return std::string(info.param.name); });

TEST(ClassParameters, ListenersReplaceThePublishServiceAndPoliciesAreCarried) {
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
  listeners:
    - {name: web, protocol: HTTP, port: 8080, addresses: [192.0.2.1]}
    - {name: np, protocol: HTTP, nodePort: 31080}
    - {name: tls, protocol: HTTPS, port: 443}
  defaultTLSSecret: demo/cert
  timeouts: {connect: 2s, read: 60s, send: 500ms}
  maxBodySize: 16m
  nodePortRange: {min: 30000, max: 31000, unallocated: Pass}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
---
kind: Secret
type: kubernetes.io/tls
metadata: {name: cert, namespace: demo}
data:
  tls.crt: )") + test::kTestCertBase64 + "\n  tls.key: " + test::kTestKeyBase64 + "\n"),
                                                     Settings{});
    std::vector<std::string> names;
    for (const auto& f : state.frontends) names.push_back(f.name + "@" + std::to_string(f.port));
    EXPECT_EQ(names, (std::vector<std::string>{"IngressClassParameters/edge:tls@443",
                                               "IngressClassParameters/edge:np@31080",
                                               "IngressClassParameters/edge:web@8080"}));
    // The HTTPS listener is a TLS-terminating frontend for the proxy.
    ASSERT_EQ(state.snapshot.frontends.size(), 3u);
    EXPECT_EQ(state.snapshot.frontends[0].port, 443);
    EXPECT_EQ(state.snapshot.frontends[0].protocol, snapshot::FrontendProtocol::Https);
    EXPECT_EQ(state.snapshot.frontends[1].protocol, snapshot::FrontendProtocol::Http);
    ASSERT_EQ(state.classes.size(), 1u);
    EXPECT_EQ(state.classes[0], (ClassPolicy{"edge", "demo/cert", 2000, 60000, 500, 16u << 20}));
    ASSERT_TRUE(state.node_port_policy);
    EXPECT_EQ(*state.node_port_policy, (NodePortPolicy{30000, 31000, false}));
    ASSERT_EQ(state.snapshot.certificates.size(), 1u);
    EXPECT_EQ(state.snapshot.certificates[0].name, "demo/cert");
    EXPECT_TRUE(state.snapshot.certificates[0].hosts.empty());
    EXPECT_EQ(state.snapshot.default_certificate, "demo/cert");
}

TEST(ClassParameters, MissingParametersFallBackToThePublishService) {
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: IngressClass
metadata: {name: edge}
spec:
  controller: xgress.io/ingress-controller
  parameters: {apiGroup: xgress.io, kind: IngressClassParameters, name: nope}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
)"),
                                                     Settings{});
    ASSERT_EQ(state.frontends.size(), 1u);
    EXPECT_EQ(state.frontends[0].port, 30080);
    EXPECT_TRUE(contains_message(state.problems, "IngressClass edge: spec.parameters: xgress.io/IngressClassParameters nope not found"));
}

TEST(ClassParameters, BadFieldsAreNamed) {
    struct Case {
        const char* spec;
        const char* error;
    } cases[] = {
        {"{listeners: [{protocol: QUIC, port: 1}]}", "spec.listeners[0].protocol: expected HTTP or HTTPS"},
        {"{listeners: [{name: x}]}", "spec.listeners[0]: needs port or nodePort"},
        {"{timeouts: {read: forever}}", "spec.timeouts.read: expected a duration"},
        {"{maxBodySize: huge}", "spec.maxBodySize: expected a size"},
        {"{nodePortRange: {min: 32000, max: 31000}}", "spec.nodePortRange: min is above max"},
        {"{defaultTLSSecret: cert}", "spec.defaultTLSSecret: expected NAMESPACE/NAME"},
    };
    for (const Case& c : cases) {
        k8s::LoadedManifests loaded;
        k8s::load_manifest_text(std::string("apiVersion: xgress.io/v1alpha1\nkind: IngressClassParameters\n"
                                            "metadata: {name: p}\nspec: ") + c.spec, "p.yaml", loaded);
        ASSERT_EQ(loaded.errors.size(), 1u) << c.spec;
        EXPECT_NE(loaded.errors[0].find(std::string("IngressClassParameters p: ") + c.error), std::string::npos)
            << loaded.errors[0];
    }
}

std::string tls_secret(const char* name, const std::string& cert, const std::string& key) {
    return std::string("kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: ") + name +
           ", namespace: demo}\ndata:\n  tls.crt: " + cert + "\n  tls.key: " + key + "\n";
}

TEST(TlsSecrets, ValidPairIsCarriedWithTheIngressHosts) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(kClassAndService) +
                                                                       tls_secret("shop", test::kTestCertBase64,
                                                                                  test::kTestKeyBase64) + R"(---
kind: Ingress
metadata: {name: a, namespace: demo}
spec:
  tls: [{hosts: [shop.example.com], secretName: shop}, {hosts: [x.example.com], secretName: missing}]
  rules:
    - host: shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.certificates.size(), 1u);
    EXPECT_EQ(state.snapshot.certificates[0].name, "demo/shop");
    EXPECT_EQ(state.snapshot.certificates[0].hosts, (std::vector<std::string>{"shop.example.com"}));
    EXPECT_NE(state.snapshot.certificates[0].cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_NE(state.snapshot.certificates[0].key_pem.find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(state.snapshot.default_certificate, "");
    EXPECT_TRUE(contains_message(state.problems,
                                 "Ingress demo/a: spec.tls[1].secretName: Secret demo/missing not found or not a valid"));
}

// proxy-ssl-secret: the Secret's ca.crt reaches the route; a ca.crt that
// does not parse rejects the Secret naming the field.
TEST(TlsSecrets, ProxySslSecretCaReachesTheRoute) {
    const std::string secret = tls_secret("upstream-ca", test::kTestCertBase64, test::kTestKeyBase64) +
                               "  ca.crt: " + test::kTestCertBase64 + "\n";
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(kClassAndService) + secret + R"(---
kind: Ingress
metadata:
  name: a
  namespace: demo
  annotations: {nginx.ingress.kubernetes.io/backend-protocol: HTTPS, nginx.ingress.kubernetes.io/proxy-ssl-verify: 'on',
                nginx.ingress.kubernetes.io/proxy-ssl-secret: demo/upstream-ca}
spec:
  rules:
    - host: shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 1u);
    const snapshot::Route& r = state.snapshot.virtual_hosts[0].routes[0];
    EXPECT_EQ(r.backend_protocol, snapshot::BackendProtocol::Https);
    EXPECT_EQ(r.upstream_server_name, "web.demo.svc");
    EXPECT_TRUE(r.upstream_verify);
    EXPECT_NE(r.upstream_ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
    for (const auto& p : state.problems) EXPECT_EQ(p.find("proxy-ssl"), std::string::npos) << p;
    auto decoded = snapshot::decode(snapshot::encode(state.snapshot));
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(decoded->virtual_hosts[0].routes[0], r);

    k8s::LoadedManifests bad;
    k8s::load_manifest_text(tls_secret("bad-ca", test::kTestCertBase64, test::kTestKeyBase64) + "  ca.crt: aGVsbG8=\n",
                            "s.yaml", bad);
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_NE(bad.errors[0].find("Secret demo/bad-ca: data.ca.crt:"), std::string::npos) << bad.errors[0];
}

// tls.ocsp-staple travels as base64 text to the snapshot's certificate (the
// proxy checks it matches and staples it); text that is not base64 rejects
// the Secret naming the field.
TEST(TlsSecrets, OcspStapleReachesTheCertificate) {
    const DesiredState state = compute_desired_state(
        objects_from_yaml(std::string(kClassAndService) +
                          tls_secret("shop", test::kTestCertBase64, test::kTestKeyBase64) +
                          "  tls.ocsp-staple: MIIBCgoB\n    AA==\n" + R"(---
kind: Ingress
metadata: {name: a, namespace: demo}
spec:
  tls: [{hosts: [shop.example.com], secretName: shop}]
  rules:
    - host: shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
)"),
        Settings{});
    ASSERT_EQ(state.snapshot.certificates.size(), 1u);
    EXPECT_EQ(state.snapshot.certificates[0].ocsp_staple, "MIIBCgoBAA==");
    k8s::LoadedManifests bad;
    k8s::load_manifest_text(tls_secret("shop", test::kTestCertBase64, test::kTestKeyBase64) +
                                "  tls.ocsp-staple: '%%%'\n",
                            "s.yaml", bad);
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_NE(bad.errors[0].find("Secret demo/shop: data.tls.ocsp-staple: not valid base64"), std::string::npos)
        << bad.errors[0];
}

TEST(TlsSecrets, BadSecretsAreRejectedNamingTheField) {
    struct Case {
        std::string cert, key;
        const char* error;
    } cases[] = {
        {"\"a%b=\"", test::kTestKeyBase64, "data.tls.crt: not valid base64"},
        {"aGVsbG8=", test::kTestKeyBase64, "data.tls.crt: tls.crt:"},                 // "hello": no PEM
        {test::kTestCertBase64, "aGVsbG8=", "data.tls.key: tls.key:"},
        {test::kTestCertBase64, test::kOtherKeyBase64, "does not match the certificate"},
    };
    for (const Case& c : cases) {
        k8s::LoadedManifests loaded;
        k8s::load_manifest_text(tls_secret("shop", c.cert, c.key), "s.yaml", loaded);
        ASSERT_EQ(loaded.errors.size(), 1u) << c.error;
        EXPECT_NE(loaded.errors[0].find("Secret demo/shop: "), std::string::npos) << loaded.errors[0];
        EXPECT_NE(loaded.errors[0].find(c.error), std::string::npos) << loaded.errors[0];
    }
    k8s::LoadedManifests opaque;
    k8s::load_manifest_text("kind: Secret\ntype: Opaque\nmetadata: {name: s}\n", "o.yaml", opaque);
    EXPECT_TRUE(opaque.errors.empty());
    EXPECT_TRUE(opaque.objects.empty());
}

}  // namespace
}  // namespace xgress::agent::model

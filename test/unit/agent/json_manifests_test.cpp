// JSON manifests decode through simdjson (k8s/json_node.h) with the same
// decoder source as YAML: the same objects, the same error messages.
#include <gtest/gtest.h>

#include "k8s/manifests_source.h"
#include "tls_fixtures.h"

namespace xgress::agent::k8s {
namespace {

k8s::LoadedManifests load(const std::string& text, const std::string& source) {
    k8s::LoadedManifests loaded;
    k8s::load_manifest_text(text, source, loaded);
    return loaded;
}

struct Pair {
    const char* name;
    std::string yaml;
    std::string json;
};

std::vector<Pair> pairs() {
    return {
        {"Service", R"(kind: Service
metadata: {name: web, namespace: demo, labels: {app: web}, annotations: {a: b}}
spec:
  type: LoadBalancer
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  externalTrafficPolicy: Local
  allocateLoadBalancerNodePorts: false
  ipFamilies: [IPv4]
  loadBalancerSourceRanges: [10.0.0.0/8]
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}, {port: 81, targetPort: 8081, protocol: UDP}]
status: {loadBalancer: {ingress: [{ip: 192.0.2.1}]}}
)",
         R"({"kind": "Service", "metadata": {"name": "web", "namespace": "demo", "labels": {"app": "web"}, "annotations": {"a": "b"}},
 "spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
  "externalTrafficPolicy": "Local", "allocateLoadBalancerNodePorts": false, "ipFamilies": ["IPv4"],
  "loadBalancerSourceRanges": ["10.0.0.0/8"],
  "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}, {"port": 81, "targetPort": 8081, "protocol": "UDP"}]},
 "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}})"},
        {"EndpointSlice", R"(kind: EndpointSlice
metadata: {name: web-a, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - {addresses: ["2001:db8::1"], conditions: {ready: false, serving: true, terminating: true}, nodeName: n1,
     targetRef: {kind: Pod, name: web-1}}
  - {addresses: ["2001:db8::2"]}
)",
         R"({"kind": "EndpointSlice", "metadata": {"name": "web-a", "namespace": "demo", "labels": {"kubernetes.io/service-name": "web"}},
 "addressType": "IPv6", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
 "endpoints": [{"addresses": ["2001:db8::1"], "conditions": {"ready": false, "serving": true, "terminating": true}, "nodeName": "n1",
   "targetRef": {"kind": "Pod", "name": "web-1"}}, {"addresses": ["2001:db8::2"]}]})"},
        {"Ingress", R"(kind: Ingress
metadata: {name: shop, namespace: demo, creationTimestamp: "2026-01-01T00:00:00Z", annotations: {xgress.io/ssl-redirect: "false"}}
spec:
  ingressClassName: xgress
  defaultBackend: {service: {name: web, port: {number: 80}}}
  tls: [{hosts: [shop.example.com], secretName: shop}]
  rules:
    - host: shop.example.com
      http: {paths: [{path: /api, pathType: Exact, backend: {service: {name: api, port: {name: http}}}}]}
)",
         R"({"kind": "Ingress", "metadata": {"name": "shop", "namespace": "demo", "creationTimestamp": "2026-01-01T00:00:00Z",
  "annotations": {"xgress.io/ssl-redirect": "false"}},
 "spec": {"ingressClassName": "xgress", "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}},
  "tls": [{"hosts": ["shop.example.com"], "secretName": "shop"}],
  "rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/api", "pathType": "Exact",
    "backend": {"service": {"name": "api", "port": {"name": "http"}}}}]}}]}})"},
        {"IngressClassAndParameters", R"(kind: IngressClass
metadata: {name: edge}
spec: {controller: xgress.io/ingress-controller, parameters: {apiGroup: xgress.io, kind: IngressClassParameters, name: edge}}
---
apiVersion: xgress.io/v1alpha1
kind: IngressClassParameters
metadata: {name: edge}
spec:
  listeners: [{name: tls, protocol: HTTPS, port: 443, addresses: [192.0.2.9]}]
  timeouts: {connect: 2s, read: 60}
  maxBodySize: 16m
  nodePortRange: {min: 30000, max: 31000, unallocated: Pass}
)",
         R"({"kind": "List", "items": [
 {"kind": "IngressClass", "metadata": {"name": "edge"},
  "spec": {"controller": "xgress.io/ingress-controller", "parameters": {"apiGroup": "xgress.io", "kind": "IngressClassParameters", "name": "edge"}}},
 {"apiVersion": "xgress.io/v1alpha1", "kind": "IngressClassParameters", "metadata": {"name": "edge"},
  "spec": {"listeners": [{"name": "tls", "protocol": "HTTPS", "port": 443, "addresses": ["192.0.2.9"]}],
   "timeouts": {"connect": "2s", "read": 60}, "maxBodySize": "16m",
   "nodePortRange": {"min": 30000, "max": 31000, "unallocated": "Pass"}}}]})"},
        {"TlsSecret", std::string("kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: shop, namespace: demo}\ndata:\n  tls.crt: ") +
                          test::kTestCertBase64 + "\n  tls.key: " + test::kTestKeyBase64 + "\n",
         std::string(R"({"kind": "Secret", "type": "kubernetes.io/tls", "metadata": {"name": "shop", "namespace": "demo"}, "data": {"tls.crt": ")") +
             test::kTestCertBase64 + R"(", "tls.key": ")" + test::kTestKeyBase64 + "\"}}"},
        // Errors read the same in both formats.
        {"BadPort", "kind: Service\nmetadata: {name: web, namespace: demo}\nspec: {ports: [{port: 70000}]}\n",
         R"({"kind": "Service", "metadata": {"name": "web", "namespace": "demo"}, "spec": {"ports": [{"port": 70000}]}})"},
        {"BadBool", "kind: Service\nmetadata: {name: web, namespace: demo}\nspec: {allocateLoadBalancerNodePorts: maybe}\n",
         R"({"kind": "Service", "metadata": {"name": "web", "namespace": "demo"}, "spec": {"allocateLoadBalancerNodePorts": "maybe"}})"},
        {"NotAList", "kind: Service\nmetadata: {name: web, namespace: demo}\nspec: {ports: 3}\n",
         R"({"kind": "Service", "metadata": {"name": "web", "namespace": "demo"}, "spec": {"ports": 3}})"},
        {"UnknownKind", "kind: ConfigMap\nmetadata: {name: c, namespace: demo}\n",
         R"({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "demo"}})"},
    };
}

TEST(JsonManifests, DecodeLikeTheirYamlTwins) {
    for (const Pair& pair : pairs()) {
        SCOPED_TRACE(pair.name);
        const LoadedManifests yaml = load(pair.yaml, "m.yaml");
        const LoadedManifests json = load(pair.json, "m.json");
        ASSERT_EQ(json.objects.size(), yaml.objects.size());
        for (std::size_t i = 0; i < yaml.objects.size(); ++i) EXPECT_TRUE(*json.objects[i] == *yaml.objects[i]) << i;
        ASSERT_EQ(json.errors.size(), yaml.errors.size()) << testing::PrintToString(json.errors);
        for (std::size_t i = 0; i < yaml.errors.size(); ++i) {
            // The same object, field and message; only "m.yaml: document N" differs.
            const auto tail = [](const std::string& e) { return e.substr(e.find(": ", e.find("document")) + 2); };
            const std::string yaml_tail = tail(yaml.errors[i]);
            EXPECT_NE(json.errors[i].find(yaml_tail), std::string::npos) << json.errors[i] << " vs " << yaml.errors[i];
        }
        EXPECT_EQ(json.skipped.size(), yaml.skipped.size());
    }
}

TEST(JsonManifests, ContentDecidesWithoutTheExtensionAndArraysWork) {
    const LoadedManifests loaded = load(R"(  [{"kind": "Service", "metadata": {"name": "a", "namespace": "x"}},
        {"kind": "Service", "metadata": {"name": "b", "namespace": "x"}}])", "list.yaml");
    EXPECT_TRUE(loaded.errors.empty()) << testing::PrintToString(loaded.errors);
    EXPECT_EQ(loaded.objects.size(), 2u);
}

TEST(JsonManifests, BrokenJsonIsReportedAndTheFileSkipped) {
    const LoadedManifests loaded = load(R"({"kind": "Service", "metadata": {"name": "a")", "bad.json");
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_NE(loaded.errors[0].find("bad.json: invalid JSON: "), std::string::npos) << loaded.errors[0];
    EXPECT_TRUE(loaded.objects.empty());
    EXPECT_TRUE(loaded.files_with_errors.contains("bad.json"));
}

}  // namespace
}  // namespace xgress::agent::k8s

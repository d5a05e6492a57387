#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "k8s/manifests_source.h"

namespace xgress::agent::k8s {
namespace {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "xgress-manifests-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name) << text;
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

const char* kService = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
)";

TEST(ManifestsSource, MultiDocumentYaml) {
    LoadedManifests out;
    load_manifest_text(std::string(kService) + R"(
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: xgress}
spec: {controller: xgress.io/ingress-controller}
---
)",
                       "a.yaml", out);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.objects.size(), 2u);
    const auto& service = std::get<Service>(*out.objects[0]);
    EXPECT_EQ(service.metadata.namespace_, "demo");
    ASSERT_EQ(service.ports.size(), 1u);
    EXPECT_EQ(service.ports[0].port, 80);
    ASSERT_TRUE(service.ports[0].target_port);
    EXPECT_EQ(service.ports[0].target_port->number, 8080);
    EXPECT_EQ(std::get<IngressClass>(*out.objects[1]).controller, "xgress.io/ingress-controller");
    EXPECT_EQ(std::get<IngressClass>(*out.objects[1]).metadata.namespace_, "");  // cluster-scoped
}

TEST(ManifestsSource, EachObjectNamesTheFileItCameFrom) {
    LoadedManifests out;
    load_manifest_text(std::string(kService) + "---\n" + kService, "a.yaml", out);
    load_manifest_text(kService, "b.yaml", out);
    load_manifest_text(kService, "a.yaml", out);  // a name seen before, not last
    ASSERT_EQ(out.objects.size(), 4u);
    EXPECT_EQ(out.object_source(0), "a.yaml");
    EXPECT_EQ(out.object_source(1), "a.yaml");
    EXPECT_EQ(out.object_source(2), "b.yaml");
    EXPECT_EQ(out.object_source(3), "a.yaml");
    EXPECT_EQ(out.object_source(4), "");  // past the end
    EXPECT_EQ(out.source_names.size(), 3u);  // one name per run of objects, not per object
}

TEST(ManifestsSource, JsonListWithItems) {
    LoadedManifests out;
    load_manifest_text(R"({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
         "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http", "nodePort": 30081}]}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "api-1", "labels": {"kubernetes.io/service-name": "api"}},
         "ports": [{"name": "http", "port": 9090}],
         "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": false}}]}]})",
                       "list.json", out);
    ASSERT_TRUE(out.errors.empty()) << out.errors[0];
    ASSERT_EQ(out.objects.size(), 2u);
    const auto& service = std::get<Service>(*out.objects[0]);
    EXPECT_EQ(service.metadata.namespace_, "default");
    EXPECT_EQ(service.type, "NodePort");
    EXPECT_EQ(service.ports[0].node_port, 30081);
    EXPECT_EQ(service.ports[0].target_port->name, "http");
    const auto& slice = std::get<EndpointSlice>(*out.objects[1]);
    EXPECT_EQ(slice.ports[0].port, 9090);
    ASSERT_EQ(slice.endpoints.size(), 1u);
    EXPECT_EQ(slice.endpoints[0].ready(), std::optional<bool>(false));
    EXPECT_FALSE(slice.endpoints[0].serving().has_value());
}

// An endpoint keeps its pod name and every address (packed in one block);
// a slice keeps only the label the model reads.
TEST(ManifestsSource, EndpointKeepsPodNameAndEveryAddress) {
    LoadedManifests out;
    load_manifest_text(R"(kind: EndpointSlice
metadata:
  name: web-x
  namespace: d
  labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}
  annotations: {endpoints.kubernetes.io/last-change-trigger-time: "2026-01-01T00:00:00Z"}
ports: [{port: 80}]
endpoints:
  - addresses: ["10.0.0.1", "10.0.0.2"]
    targetRef: {kind: Pod, name: web-5d8c7f9b6d-x2k4q, namespace: d, uid: 0f0e}
    nodeName: node-a
  - addresses: ["10.0.0.3"]
)",
                       "s.yaml", out);
    ASSERT_TRUE(out.errors.empty()) << out.errors[0];
    const auto& slice = std::get<EndpointSlice>(*out.objects.at(0));
    ASSERT_EQ(slice.endpoints.size(), 2u);
    const Endpoint& first = slice.endpoints[0];
    EXPECT_EQ(first.target_ref_name(), "web-5d8c7f9b6d-x2k4q");
    EXPECT_EQ(first.address(), "10.0.0.1");
    EXPECT_EQ(first.address_count(), 2u);
    std::vector<std::string> addresses;
    first.for_each_address([&](std::string_view a) { addresses.emplace_back(a); });
    EXPECT_EQ(addresses, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    EXPECT_EQ(first.node_name, "node-a");
    EXPECT_EQ(slice.endpoints[1].target_ref_name(), "");
    EXPECT_EQ(slice.endpoints[1].address(), "10.0.0.3");
    // Copies compare equal and own their text.
    Endpoint copy = first;
    EXPECT_TRUE(copy == first);
    EXPECT_FALSE(copy == slice.endpoints[1]);
    copy = slice.endpoints[1];
    EXPECT_EQ(copy.address(), "10.0.0.3");
    EXPECT_EQ(first.address(), "10.0.0.1");
    EXPECT_EQ(slice.service_name, "web");  // the label, kept as a field
    EXPECT_TRUE(slice.metadata.labels.empty());
    EXPECT_TRUE(slice.metadata.annotations.empty());
}

TEST(ManifestsSource, UnknownKindIsSkippedWithALogLine) {
    LoadedManifests out;
    load_manifest_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n" +
                           std::string(kService),
                       "mixed.yaml", out);
    EXPECT_TRUE(out.errors.empty());
    EXPECT_EQ(out.objects.size(), 1u);
    ASSERT_EQ(out.skipped.size(), 1u);
    EXPECT_NE(out.skipped[0].find("mixed.yaml: document 1"), std::string::npos) << out.skipped[0];
    EXPECT_NE(out.skipped[0].find("Deployment"), std::string::npos) << out.skipped[0];
}

TEST(ManifestsSource, MissingFieldNamesFileDocumentObjectAndField) {
    LoadedManifests out;
    load_manifest_text(std::string(kService) + R"(
---
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: demo}
spec:
  ports:
    - name: http
      targetPort: 8080
)",
                       "svc.yaml", out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], "svc.yaml: document 2: Service demo/broken: spec.ports[0].port: required field missing");
    EXPECT_EQ(out.objects.size(), 1u);  // the good document still loads
}

TEST(ManifestsSource, BadValueInIngressPath) {
    LoadedManifests out;
    load_manifest_text(R"(
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: demo}
spec:
  rules:
    - host: a.example.com
      http:
        paths:
          - path: /
            pathType: Regex
            backend: {service: {name: web, port: {number: 80}}}
)",
                       "ing.yaml", out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("ing.yaml: document 1: Ingress demo/shop: spec.rules[0].http.paths[0].pathType"),
              std::string::npos)
        << out.errors[0];
}

TEST(ManifestsSource, BadPortNumber) {
    LoadedManifests out;
    load_manifest_text("kind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 70000}]}\n", "p.yaml", out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_NE(out.errors[0].find("spec.ports[0].port: expected a port number 1-65535, got \"70000\""),
              std::string::npos)
        << out.errors[0];
}

TEST(ManifestsSource, DocumentWithoutKindOrNotAMap) {
    LoadedManifests out;
    load_manifest_text("metadata: {name: x}\n---\n- just\n- a list\n", "k.yaml", out);
    ASSERT_EQ(out.errors.size(), 2u);
    EXPECT_EQ(out.errors[0], "k.yaml: document 1: document: kind: required field missing");
    EXPECT_EQ(out.errors[1], "k.yaml: document 2: document: expected a map (an object)");
}

TEST(ManifestsSource, ListItemErrorsNameTheItem) {
    LoadedManifests out;
    load_manifest_text(R"({"kind": "List", "items": [{"kind": "IngressClass", "metadata": {"name": "c"}}]})", "l.json",
                       out);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0], "l.json: document 1 items[0]: IngressClass c: spec.controller: required field missing");
}

TEST(ManifestsSource, DirectoryLoadsSortedAndReportsUnparseableFile) {
    TempDir dir;
    dir.write("20-class.yml", "kind: IngressClass\nmetadata: {name: b}\nspec: {controller: x}\n");
    dir.write("10-class.json", R"({"kind": "IngressClass", "metadata": {"name": "a"}, "spec": {"controller": "x"}})");
    dir.write("15-broken.yaml", "kind: Service\nmetadata: {name: [unclosed\n");
    dir.write("notes.txt", "not a manifest");
    dir.write(".hidden.yaml", "kind: IngressClass\nmetadata: {name: hidden}\nspec: {controller: x}\n");

    auto loaded = load_manifests_directory(dir.path());
    ASSERT_TRUE(loaded.has_value()) << loaded.error();
    ASSERT_EQ(loaded->files.size(), 3u);
    ASSERT_EQ(loaded->objects.size(), 2u);
    EXPECT_EQ(std::get<IngressClass>(*loaded->objects[0]).metadata.name, "a");
    EXPECT_EQ(std::get<IngressClass>(*loaded->objects[1]).metadata.name, "b");
    ASSERT_EQ(loaded->errors.size(), 1u);
    EXPECT_NE(loaded->errors[0].find("15-broken.yaml: line "), std::string::npos) << loaded->errors[0];
}

TEST(ManifestsSource, MissingDirectoryIsAnError) {
    auto loaded = load_manifests_directory("/nonexistent/xgress-manifests");
    ASSERT_FALSE(loaded.has_value());
    EXPECT_NE(loaded.error().find("/nonexistent/xgress-manifests"), std::string::npos);
}

TEST(ManifestsSource, DuplicateObjectsLaterWins) {
    LoadedManifests out;
    load_manifest_text("kind: IngressClass\nmetadata: {name: a}\nspec: {controller: one}\n---\n"
                       "kind: IngressClass\nmetadata: {name: a}\nspec: {controller: two}\n",
                       "d.yaml", out);
    std::vector<std::string> messages;
    ObjectCache cache = build_cache(out, messages);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.find<IngressClass>("", "a")->controller, "two");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_NE(messages[0].find("IngressClass a"), std::string::npos);
}

}  // namespace
}  // namespace xgress::agent::k8s

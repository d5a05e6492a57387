// Reconciler: applies frontends only when they change, publishes a new
// snapshot version only when routing changes, keeps last good objects, and
// reports each problem once.
#include <gtest/gtest.h>

#include "reconcile/reconciler.h"
#include "xgress/snapshot.h"
#include "tls_fixtures.h"

namespace xgress::agent::reconcile {
namespace {

class RecordingTarget : public ApplyTarget {
public:
    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& f) override {
        ++applies;
        if (fail_next) {
            fail_next = false;
            return std::unexpected(std::string("map full"));
        }
        frontends = f;
        return {};
    }
    void publish(std::uint64_t version, std::string payload, std::function<std::string()>) override {
        versions.push_back(version);
        last_payload = std::move(payload);
    }
    std::expected<void, std::string> apply_node_port_policy(const std::optional<model::NodePortPolicy>& p) override {
        policies.push_back(p);
        if (applies > 0) order_ok = false;  // the first policy must come before the first frontends
        return {};
    }
    std::vector<std::optional<model::NodePortPolicy>> policies;
    bool order_ok = true;
    int applies = 0;
    bool fail_next = false;
    std::vector<dataplane::FrontendSpec> frontends;
    std::vector<std::uint64_t> versions;
    std::string last_payload;
};

k8s::LoadedManifests load(const std::string& text) {
    k8s::LoadedManifests loaded;
    loaded.files.push_back("m.yaml");
    k8s::load_manifest_text(text, "m.yaml", loaded);
    return loaded;
}

const std::string kBase = R"(
kind: IngressClass
metadata: {name: xgress, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
---
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{port: 80, targetPort: 8080}]}
---
kind: Ingress
metadata: {name: web, namespace: demo}
spec:
  rules:
    - host: shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
---
kind: EndpointSlice
metadata: {name: web-1, namespace: demo, labels: {kubernetes.io/service-name: web}}
ports: [{port: 8080}]
)";

TEST(Reconciler, AppliesAndPublishesOnlyWhatChanged) {
    RecordingTarget target;
    Reconciler reconciler(model::Settings{}, target, 1000);

    auto first = reconciler.reconcile(load(kBase + "endpoints: [{addresses: [10.0.0.1]}]\n"));
    EXPECT_TRUE(first.frontends_applied);
    EXPECT_TRUE(first.snapshot_published);
    EXPECT_EQ(first.version, 1000u);
    ASSERT_EQ(target.frontends.size(), 1u);
    auto decoded = snapshot::decode(target.last_payload);
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(decoded->version, 1000u);

    // Same input: nothing written, nothing published.
    auto same = reconciler.reconcile(load(kBase + "endpoints: [{addresses: [10.0.0.1]}]\n"));
    EXPECT_FALSE(same.frontends_applied);
    EXPECT_FALSE(same.snapshot_published);
    EXPECT_EQ(same.version, 1000u);
    EXPECT_TRUE(same.new_problems.empty());

    // An endpoint change: routing changed, frontends did not.
    auto scaled = reconciler.reconcile(load(kBase + "endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]\n"));
    EXPECT_FALSE(scaled.frontends_applied);
    EXPECT_TRUE(scaled.snapshot_published);
    EXPECT_EQ(scaled.version, 1001u);
    EXPECT_EQ(target.applies, 1);
    EXPECT_EQ(target.versions, (std::vector<std::uint64_t>{1000, 1001}));
}

TEST(Reconciler, BrokenEditKeepsServingTheLastGoodObjectAndReportsOnce) {
    RecordingTarget target;
    Reconciler reconciler(model::Settings{}, target, 1);
    reconciler.reconcile(load(kBase + "endpoints: [{addresses: [10.0.0.1]}]\n"));

    // The slice becomes invalid: the old one stays, the snapshot does not change.
    const std::string broken = kBase + "endpoints: [{addresses: [10.0.0.1], conditions: {ready: maybe}}]\n";
    auto pass = reconciler.reconcile(load(broken));
    EXPECT_FALSE(pass.snapshot_published);
    ASSERT_EQ(pass.new_problems.size(), 2u) << testing::PrintToString(pass.new_problems);
    EXPECT_NE(pass.new_problems[0].find("m.yaml: document 5: EndpointSlice demo/web-1: "
                                        "endpoints[0].conditions.ready: expected true or false"),
              std::string::npos)
        << pass.new_problems[0];
    EXPECT_NE(pass.new_problems[1].find("keeping its last good version"), std::string::npos);
    EXPECT_EQ(reconciler.state().snapshot.backends.at(0).endpoints.size(), 1u);

    // The same broken file again: nothing new to report.
    EXPECT_TRUE(reconciler.reconcile(load(broken)).new_problems.empty());
}

TEST(Reconciler, FailedDatapathWriteIsRetriedNextPass) {
    RecordingTarget target;
    Reconciler reconciler(model::Settings{}, target, 1);
    target.fail_next = true;
    auto pass = reconciler.reconcile(load(kBase));
    EXPECT_FALSE(pass.frontends_applied);
    EXPECT_TRUE(reconciler.state().frontends.empty());
    auto retry = reconciler.reconcile(load(kBase));
    EXPECT_TRUE(retry.frontends_applied);
    EXPECT_EQ(target.frontends.size(), 1u);
}

TEST(Reconciler, NodePortPolicyGoesToTheTargetFirstAndOnChange) {
    RecordingTarget target;
    Reconciler reconciler(model::Settings{}, target, 1);
    reconciler.reconcile(load(kBase));
    ASSERT_EQ(target.policies.size(), 1u);
    EXPECT_FALSE(target.policies[0].has_value());  // no class parameters: the flags' defaults stay
    EXPECT_TRUE(target.order_ok);
    reconciler.reconcile(load(kBase));
    EXPECT_EQ(target.policies.size(), 1u);  // unchanged: not applied again

    // Class parameters with a NodePort range: they override.
    const std::string with_params = kBase + R"(---
kind: IngressClass
metadata: {name: xgress, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec:
  controller: xgress.io/ingress-controller
  parameters: {apiGroup: xgress.io, kind: IngressClassParameters, name: edge}
---
apiVersion: xgress.io/v1alpha1
kind: IngressClassParameters
metadata: {name: edge}
spec:
  nodePortRange: {min: 30000, max: 31000, unallocated: Pass}
)";
    reconciler.reconcile(load(with_params));
    ASSERT_EQ(target.policies.size(), 2u);
    ASSERT_TRUE(target.policies[1].has_value());
    EXPECT_EQ(*target.policies[1], (model::NodePortPolicy{30000, 31000, false}));
    reconciler.reconcile(load(kBase));
    ASSERT_EQ(target.policies.size(), 3u);
    EXPECT_FALSE(target.policies[2].has_value());
}

TEST(Reconciler, PartialLoadReplacesOnlyTheNamedFile) {
    RecordingTarget target;
    Reconciler reconciler(model::Settings{}, target, 1);
    k8s::LoadedManifests full;
    full.files = {"a.yaml", "b.yaml"};
    k8s::load_manifest_text(kBase + "endpoints: [{addresses: [10.0.0.1]}]\n", "a.yaml", full);
    k8s::load_manifest_text("kind: Service\nmetadata: {name: other, namespace: demo}\nspec: {ports: [{port: 81}]}\n",
                            "b.yaml", full);
    reconciler.reconcile(full);
    EXPECT_EQ(reconciler.objects().size(), 6u);

    // Only b.yaml changes (it is deleted): a.yaml's objects stay, the routing is unchanged.
    k8s::LoadedManifests partial;
    partial.partial = true;
    partial.removed = {"b.yaml"};
    auto pass = reconciler.reconcile(partial);
    EXPECT_EQ(reconciler.objects().size(), 5u);
    EXPECT_FALSE(pass.snapshot_published);
    EXPECT_EQ(reconciler.state().snapshot.backends.at(0).endpoints.size(), 1u);

    // a.yaml scales up: one more endpoint, a new version.
    k8s::LoadedManifests scaled;
    scaled.partial = true;
    scaled.files = {"a.yaml"};
    k8s::load_manifest_text(kBase + "endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]\n", "a.yaml",
                            scaled);
    EXPECT_TRUE(reconciler.reconcile(scaled).snapshot_published);
    EXPECT_EQ(reconciler.state().snapshot.backends.at(0).endpoints.size(), 2u);
}

// A Secret edited into something invalid is reported naming it, and its
// hosts keep the last good certificate in the snapshot.
TEST(Reconciler, BadSecretEditKeepsTheLastGoodCertificate) {
    RecordingTarget target;
    Reconciler reconciler(model::Settings{}, target, 1);
    const std::string ingress = kBase + R"(endpoints: [{addresses: [10.0.0.1]}]
---
kind: Ingress
metadata: {name: shop, namespace: demo}
spec:
  tls: [{hosts: [shop.example.com], secretName: shop}]
  rules: [{host: shop.example.com, http: {paths: [{path: /shop, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
)";
    auto secret = [](const char* key) {
        return std::string("kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: shop, namespace: demo}\ndata:\n  tls.crt: ") +
               test::kTestCertBase64 + "\n  tls.key: " + key + "\n";
    };
    k8s::LoadedManifests full;
    full.files = {"ingress.yaml", "secret.yaml"};
    k8s::load_manifest_text(ingress, "ingress.yaml", full);
    k8s::load_manifest_text(secret(test::kTestKeyBase64), "secret.yaml", full);
    reconciler.reconcile(full);
    ASSERT_EQ(reconciler.state().snapshot.certificates.size(), 1u);
    const snapshot::Certificate good = reconciler.state().snapshot.certificates[0];
    EXPECT_EQ(good.hosts, (std::vector<std::string>{"shop.example.com"}));

    k8s::LoadedManifests broken;
    broken.partial = true;
    broken.files = {"secret.yaml"};
    k8s::load_manifest_text(secret(test::kOtherKeyBase64), "secret.yaml", broken);  // key does not match
    const PassResult pass = reconciler.reconcile(broken);
    EXPECT_FALSE(pass.snapshot_published);
    ASSERT_EQ(reconciler.state().snapshot.certificates.size(), 1u);
    EXPECT_EQ(reconciler.state().snapshot.certificates[0], good);
    bool named = false;
    for (const auto& line : pass.new_problems) named = named || line.find("Secret demo/shop") != std::string::npos;
    EXPECT_TRUE(named) << testing::PrintToString(pass.new_problems);
}

}  // namespace
}  // namespace xgress::agent::reconcile

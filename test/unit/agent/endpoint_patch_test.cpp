// The endpoint fast path of the Reconciler: a load that changes only
// EndpointSlices is published as an EndpointsPatch of the affected backends,
// and after every step the proxy's view (whole snapshots and patches applied
// with the proxy's own codec) equals what the whole model computes from the
// same objects. A Local-policy backend gaining its first or losing its last
// endpoint here is a patch too, plus that Service's BPF frontends spliced in
// or out (the datapath then equals the whole model's frontends). Steps that
// must run the whole model (a Service change) publish whole snapshots.
#include <gtest/gtest.h>

#include <algorithm>

#include "reconcile/reconciler.h"
#include "xgress/snapshot.h"

namespace xgress::agent::reconcile {
namespace {

// Decodes what it is sent like a proxy would.
class ProxyTarget : public ApplyTarget {
public:
    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& frontends) override {
        ++frontend_applies;
        datapath = frontends;
        return {};
    }
    void publish(std::uint64_t version, std::string payload, std::function<std::string()>) override {
        auto decoded = snapshot::decode(payload);
        ASSERT_TRUE(decoded.has_value()) << decoded.error();
        EXPECT_EQ(decoded->version, version);
        serving = *decoded;
        ++full;
    }
    void publish_patch(std::uint64_t version, std::uint64_t base_version, std::string patch_payload,
                       std::function<std::string()> full_payload) override {
        auto patch = snapshot::decode_patch(patch_payload);
        ASSERT_TRUE(patch.has_value()) << patch.error();
        EXPECT_EQ(patch->version, version);
        EXPECT_EQ(patch->base_version, base_version);
        auto applied = snapshot::apply_patch(serving, *patch);
        ASSERT_TRUE(applied.has_value()) << applied.error();
        serving = *applied;
        ++patches;
        patched_backends = patch->backends.size();
        // The lazily encoded whole snapshot is the same state.
        auto whole = snapshot::decode(full_payload());
        ASSERT_TRUE(whole.has_value()) << whole.error();
        EXPECT_EQ(*whole, serving);
    }
    snapshot::Snapshot serving;
    std::vector<dataplane::FrontendSpec> datapath;
    int full = 0;
    int patches = 0;
    int frontend_applies = 0;
    std::size_t patched_backends = 0;
};

k8s::LoadedManifests file_load(const std::string& file, const char* text) {
    k8s::LoadedManifests loaded;
    loaded.partial = true;
    if (!text) {
        loaded.removed.push_back(file);
        return loaded;
    }
    loaded.files.push_back(file);
    k8s::load_manifest_text(text, file, loaded);
    EXPECT_TRUE(loaded.errors.empty()) << testing::PrintToString(loaded.errors);
    return loaded;
}

constexpr const char* kBase = R"(
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
spec: {sessionAffinity: ClientIP, ports: [{name: http, port: 80, targetPort: http}, {name: admin, port: 9000}]}
---
kind: Service
metadata: {name: api, namespace: demo}
spec: {ports: [{port: 80, targetPort: 8080}]}
---
kind: Service
metadata: {name: db, namespace: demo}
spec: {type: NodePort, externalTrafficPolicy: Local, ports: [{port: 5432, nodePort: 30432}]}
---
kind: Service
metadata: {name: db-shadow, namespace: demo}
spec: {type: NodePort, externalTrafficPolicy: Local, ports: [{port: 5432, nodePort: 30432}]}
---
kind: Ingress
metadata: {name: shop, namespace: demo}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
          - {path: /admin, pathType: Prefix, backend: {service: {name: web, port: {number: 9000}}}}
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
)";

enum class Expect { Patch, Full, Nothing };

struct Step {
    const char* name;
    const char* file;
    const char* text;  // nullptr: the file is removed
    Expect expect;
    std::size_t patched_backends = 0;  // for Expect::Patch
    bool frontends_applied = false;
};

const Step kSteps[] = {
    {"web slice appears", "web-a.yaml", R"(
kind: EndpointSlice
metadata: {name: web-a, namespace: demo, labels: {kubernetes.io/service-name: web}}
ports: [{name: http, port: 8080}, {name: admin, port: 9000}]
endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]
)", Expect::Patch, 2},
    {"a second web slice, named port differs", "web-b.yaml", R"(
kind: EndpointSlice
metadata: {name: web-b, namespace: demo, labels: {kubernetes.io/service-name: web}}
ports: [{name: http, port: 8081}]
endpoints: [{addresses: [10.0.1.1]}]
)", Expect::Patch, 2},  // numeric targetPort 9000 applies to every slice
    {"an endpoint turns not ready", "web-a.yaml", R"(
kind: EndpointSlice
metadata: {name: web-a, namespace: demo, labels: {kubernetes.io/service-name: web}}
ports: [{name: http, port: 8080}, {name: admin, port: 9000}]
endpoints: [{addresses: [10.0.0.1], conditions: {ready: false}}, {addresses: [10.0.0.2]}]
)", Expect::Patch, 2},
    {"same content again", "web-a.yaml", R"(
kind: EndpointSlice
metadata: {name: web-a, namespace: demo, labels: {kubernetes.io/service-name: web}}
ports: [{name: http, port: 8080}, {name: admin, port: 9000}]
endpoints: [{addresses: [10.0.0.1], conditions: {ready: false}}, {addresses: [10.0.0.2]}]
)", Expect::Nothing},
    {"slice of a Service nobody routes to", "other.yaml", R"(
kind: EndpointSlice
metadata: {name: other-a, namespace: demo, labels: {kubernetes.io/service-name: other}}
endpoints: [{addresses: [10.9.0.1]}]
)", Expect::Nothing},
    {"slice moves from web to api", "web-b.yaml", R"(
kind: EndpointSlice
metadata: {name: web-b, namespace: demo, labels: {kubernetes.io/service-name: api}}
ports: [{port: 8080}]
endpoints: [{addresses: [10.0.1.1]}]
)", Expect::Patch, 3},  // web:80, web:9000, api:80
    {"Local Service gets an endpoint on another node: still none here", "db.yaml", R"(
kind: EndpointSlice
metadata: {name: db-a, namespace: demo, labels: {kubernetes.io/service-name: db}}
endpoints: [{addresses: [10.2.0.1], nodeName: node-b}]
)", Expect::Nothing},
    {"Local Service gets its first endpoint here: its frontend appears", "db.yaml", R"(
kind: EndpointSlice
metadata: {name: db-a, namespace: demo, labels: {kubernetes.io/service-name: db}}
endpoints: [{addresses: [10.2.0.1], nodeName: node-b}, {addresses: [10.2.0.2], nodeName: node-a}]
)", Expect::Patch, 1, true},
    {"a second endpoint here: a patch", "db.yaml", R"(
kind: EndpointSlice
metadata: {name: db-a, namespace: demo, labels: {kubernetes.io/service-name: db}}
endpoints: [{addresses: [10.2.0.3], nodeName: node-a}, {addresses: [10.2.0.2], nodeName: node-a}]
)", Expect::Patch, 1},
    {"the last endpoint here leaves: its frontend goes", "db.yaml", R"(
kind: EndpointSlice
metadata: {name: db-a, namespace: demo, labels: {kubernetes.io/service-name: db}}
endpoints: [{addresses: [10.2.0.3], nodeName: node-b}, {addresses: [10.2.0.2], nodeName: node-b}]
)", Expect::Patch, 1, true},
    {"the Local Service that lost the NodePort conflict gets an endpoint here while db has none: still refused", "shadow.yaml", R"(
kind: EndpointSlice
metadata: {name: db-shadow-a, namespace: demo, labels: {kubernetes.io/service-name: db-shadow}}
endpoints: [{addresses: [10.3.0.1], nodeName: node-a}]
)", Expect::Patch, 1},
    {"an endpoint here turns ready again: its frontend is back", "db.yaml", R"(
kind: EndpointSlice
metadata: {name: db-a, namespace: demo, labels: {kubernetes.io/service-name: db}}
endpoints: [{addresses: [10.2.0.3], nodeName: node-b}, {addresses: [10.2.0.2], nodeName: node-a}]
)", Expect::Patch, 1, true},
    {"its slice is removed: the frontend goes", "db.yaml", nullptr, Expect::Patch, 1, true},
    {"a Service changes: the whole model", "svc.yaml", R"(
kind: Service
metadata: {name: extra, namespace: demo}
spec: {type: NodePort, ports: [{port: 81, nodePort: 30081}]}
)", Expect::Full},
    {"a slice file is removed", "web-a.yaml", nullptr, Expect::Patch, 2},
};

TEST(EndpointPatches, FastPathMatchesTheWholeModel) {
    ProxyTarget target;
    model::Settings settings;
    settings.node_name = "node-a";
    Reconciler reconciler(settings, target, 100);
    reconciler.reconcile(file_load("base.yaml", kBase));
    ASSERT_EQ(target.full, 1);

    for (const Step& step : kSteps) {
        SCOPED_TRACE(step.name);
        const int full_before = target.full, patches_before = target.patches;
        const int applies_before = target.frontend_applies;
        const PassResult pass = reconciler.reconcile(file_load(step.file, step.text));
        EXPECT_EQ(target.full - full_before, step.expect == Expect::Full ? 1 : 0);
        EXPECT_EQ(target.patches - patches_before, step.expect == Expect::Patch ? 1 : 0);
        EXPECT_EQ(pass.patch, step.expect == Expect::Patch);
        if (step.expect == Expect::Patch) {
            EXPECT_EQ(target.patched_backends, step.patched_backends);
            EXPECT_EQ(target.frontend_applies - applies_before, step.frontends_applied ? 1 : 0);
            EXPECT_EQ(pass.frontends_applied, step.frontends_applied);
        }

        // The proxy's view, the reconciler's state and the whole model agree.
        EXPECT_EQ(target.serving, reconciler.state().snapshot);
        model::DesiredState whole = model::compute_desired_state(reconciler.objects(), settings);
        whole.snapshot.version = reconciler.state().snapshot.version;
        EXPECT_EQ(whole.snapshot, reconciler.state().snapshot);
        EXPECT_EQ(whole.frontends, reconciler.state().frontends);
        EXPECT_EQ(whole.frontends, target.datapath);
        auto sorted = [](std::vector<std::string> v) {
            std::sort(v.begin(), v.end());
            return v;
        };
        EXPECT_EQ(sorted(whole.problems), sorted(reconciler.state().problems));
    }
    // Affinity survives patches.
    for (const auto& backend : target.serving.backends) {
        if (backend.name.starts_with("demo/web:")) {
            EXPECT_EQ(backend.affinity, snapshot::Affinity::ClientIp);
        }
    }
}

TEST(EndpointPatches, NoReadyEndpointsIsReportedOnTheFastPathToo) {
    ProxyTarget target;
    Reconciler reconciler(model::Settings{}, target, 1);
    reconciler.reconcile(file_load("base.yaml", kBase));
    reconciler.reconcile(file_load("api.yaml", R"(
kind: EndpointSlice
metadata: {name: api-a, namespace: demo, labels: {kubernetes.io/service-name: api}}
endpoints: [{addresses: [10.1.0.1]}]
)"));
    const PassResult pass = reconciler.reconcile(file_load("api.yaml", R"(
kind: EndpointSlice
metadata: {name: api-a, namespace: demo, labels: {kubernetes.io/service-name: api}}
endpoints: [{addresses: [10.1.0.1], conditions: {ready: false}}]
)"));
    EXPECT_TRUE(pass.patch);
    ASSERT_EQ(pass.new_problems.size(), 1u) << testing::PrintToString(pass.new_problems);
    EXPECT_EQ(pass.new_problems[0], "backend demo/api:80: no ready endpoints; requests get 503");
}

}  // namespace
}  // namespace xgress::agent::reconcile

// The demo's manifests (examples/manifests) must load cleanly and give the
// routing the demo and examples/README.md promise.
#include <gtest/gtest.h>

#include "k8s/manifests_source.h"
#include "model/desired_state.h"
#include "model/endpoint_dump.h"
#include "tls_fixtures.h"

namespace xgress::agent::model {
namespace {

using snapshot::Endpoint;
using snapshot::PathMatch;
using snapshot::Route;

k8s::ObjectCache load_examples(k8s::LoadedManifests& loaded) {
    auto result = k8s::load_manifests_directory(XGRESS_EXAMPLES_DIR);
    EXPECT_TRUE(result.has_value());
    if (result) loaded = std::move(*result);
    std::vector<std::string> messages;
    auto cache = k8s::build_cache(loaded, messages);
    EXPECT_TRUE(messages.empty());
    return cache;
}

TEST(Examples, LoadCleanly) {
    k8s::LoadedManifests loaded;
    const auto cache = load_examples(loaded);
    EXPECT_TRUE(loaded.errors.empty()) << testing::PrintToString(loaded.errors);
    EXPECT_EQ(loaded.skipped.size(), 2u);  // the two Namespaces
    EXPECT_EQ(cache.size(), 7u);  // 1 class, 3 Services, 2 slices, 1 Ingress
    EXPECT_EQ(cache.list<k8s::Service>().size(), 3u);
    EXPECT_EQ(cache.list<k8s::EndpointSlice>().size(), 2u);
    EXPECT_EQ(cache.list<k8s::Ingress>().size(), 1u);
    EXPECT_EQ(cache.list<k8s::IngressClass>().size(), 1u);
}

TEST(Examples, DesiredState) {
    k8s::LoadedManifests loaded;
    const DesiredState state = compute_desired_state(load_examples(loaded), Settings{});
    EXPECT_TRUE(state.problems.empty()) << testing::PrintToString(state.problems);

    ASSERT_EQ(state.frontends.size(), 1u);
    EXPECT_TRUE(state.frontends[0].node_port);
    EXPECT_EQ(state.frontends[0].port, 30080);
    EXPECT_EQ(state.frontends[0].listener_slot, 0u);
    EXPECT_EQ(state.frontends[0].name, "xgress-system/xgress:http");

    snapshot::Snapshot expected;
    expected.virtual_hosts = {
        {"api.example.com", {{"/", PathMatch::Prefix, "demo/api:80"}}},
        {"shop.example.com", {{"/api", PathMatch::Prefix, "demo/api:80"}, {"/", PathMatch::Prefix, "demo/web:80"}}},
    };
    expected.frontends = {{"", 30080, snapshot::FrontendProtocol::Http, ""}};
    expected.backends = {
        {"demo/api:80", {{"10.244.2.21", 9090}, {"10.244.2.22", 9090}}},
        {"demo/web:80", {{"10.244.1.11", 8080}, {"10.244.1.12", 8080}, {"10.244.1.13", 8080}}},
    };
    EXPECT_EQ(state.snapshot, expected);
}

TEST(Examples, DumpEndpoints) {
    k8s::LoadedManifests loaded;
    EXPECT_EQ(format_endpoint_dump(load_examples(loaded)),
              "10.244.2.21\tdemo\tapi-0\tapi\t9090\n"
              "10.244.2.22\tdemo\tapi-1\tapi\t9090\n"
              "10.244.1.11\tdemo\tweb-0\tweb\t8080\n"
              "10.244.1.12\tdemo\tweb-1\tweb\t8080\n"
              "10.244.1.13\tdemo\tweb-2\tweb\t8080\n");
}

}  // namespace
}  // namespace xgress::agent::model

namespace xgress::agent::model {
namespace {

// deploy/ must decode cleanly with the agent's own decoder: the class points
// at its parameters and the parameters parse.
TEST(Deploy, ManifestsDecodeAndTheClassParametersResolve) {
    auto loaded = k8s::load_manifests_directory(XGRESS_DEPLOY_DIR);
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_TRUE(loaded->errors.empty()) << testing::PrintToString(loaded->errors);
    std::vector<std::string> messages;
    const k8s::ObjectCache objects = k8s::build_cache(*loaded, messages);
    ASSERT_NE(objects.find<k8s::IngressClassParameters>("", "xgress"), nullptr);
    const DesiredState state = compute_desired_state(objects, Settings{});
    ASSERT_EQ(state.classes.size(), 1u);
    EXPECT_EQ(state.classes[0].max_body_bytes, 8u << 20);
    ASSERT_EQ(state.snapshot.frontends.size(), 2u);
    EXPECT_EQ(state.snapshot.frontends[0].port, 30080);
    EXPECT_EQ(state.snapshot.frontends[0].protocol, snapshot::FrontendProtocol::Http);
    EXPECT_EQ(state.snapshot.frontends[1].port, 30443);
    EXPECT_EQ(state.snapshot.frontends[1].protocol, snapshot::FrontendProtocol::Https);
}

}  // namespace
}  // namespace xgress::agent::model

namespace xgress::agent::model {
namespace {

// examples/tls plus the test certificate: HTTPS frontends, the certificate
// for the TLS host, the redirect on plain HTTP, the passthrough host; the
// proxy's codec accepts it.
TEST(ExamplesTls, HttpsCertificatePassthroughAndRedirect) {
    auto loaded = k8s::load_manifests_directory(XGRESS_EXAMPLES_TLS_DIR);
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_TRUE(loaded->errors.empty()) << testing::PrintToString(loaded->errors);
    k8s::load_manifest_text(std::string("kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: shop-tls, namespace: "
                                        "demo}\ndata:\n  tls.crt: ") +
                                test::kTestCertBase64 + "\n  tls.key: " + test::kTestKeyBase64 + "\n",
                            "secret.yaml", *loaded);
    std::vector<std::string> messages;
    const DesiredState state = compute_desired_state(k8s::build_cache(*loaded, messages), Settings{});
    EXPECT_TRUE(state.problems.empty()) << testing::PrintToString(state.problems);
    ASSERT_EQ(state.snapshot.frontends.size(), 2u);
    EXPECT_EQ(state.snapshot.frontends[1].port, 30443);
    EXPECT_EQ(state.snapshot.frontends[1].protocol, snapshot::FrontendProtocol::Https);
    ASSERT_EQ(state.snapshot.certificates.size(), 1u);
    EXPECT_EQ(state.snapshot.certificates[0].name, "demo/shop-tls");
    EXPECT_EQ(state.snapshot.certificates[0].hosts, (std::vector<std::string>{"shop.example.com"}));
    ASSERT_EQ(state.snapshot.virtual_hosts.size(), 2u);
    EXPECT_TRUE(state.snapshot.virtual_hosts[0].routes.at(0).ssl_redirect);
    EXPECT_EQ(state.snapshot.virtual_hosts[1].host, "vault.example.com");
    EXPECT_EQ(state.snapshot.virtual_hosts[1].passthrough_backend, "demo/vault:8443");
    auto decoded = snapshot::decode(snapshot::encode(state.snapshot));
    EXPECT_TRUE(decoded.has_value()) << (decoded ? "" : decoded.error());
}

}  // namespace
}  // namespace xgress::agent::model

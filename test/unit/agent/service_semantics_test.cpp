// Service semantics: L4 passthrough, Local policy, affinity, source ranges,
// allocateLoadBalancerNodePorts, ipFamilies, UDP, frontend conflicts.
#include <gtest/gtest.h>

#include <algorithm>

#include "model/desired_state.h"
#include "model/ingress_annotations.h"
#include "model/ip_address.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

using test::contains_message;
using test::objects_from_yaml;

// Two pods of demo/db: one on node-a, one on node-b.
constexpr const char* kDbSlice = R"(
---
kind: EndpointSlice
metadata: {name: db-1, namespace: demo, labels: {kubernetes.io/service-name: db}}
ports: [{name: pg, port: 5432}]
endpoints:
  - {addresses: [10.0.0.1], nodeName: node-a}
  - {addresses: [10.0.0.2], nodeName: node-b}
)";

// The proxy's frontends in order; " (refused)" marks one withheld from the
// BPF frontends (Local policy, no endpoint here).
std::string frontend_list(const DesiredState& state) {
    std::string out;
    std::size_t bpf = 0;
    for (const auto& p : state.snapshot.frontends) {
        const bool steered = bpf < state.frontends.size() && state.frontends[bpf].port == p.port &&
                             (state.frontends[bpf].node_port ? p.address.empty()
                                                              : format_ip_address(state.frontends[bpf].address) == p.address);
        if (steered) ++bpf;
        out += (p.address.empty() ? std::string("node") : p.address) + ":" + std::to_string(p.port) +
               (p.protocol == snapshot::FrontendProtocol::Tcp ? " tcp->" + p.backend : " http") +
               (steered ? "" : " (refused)") + ";";
    }
    EXPECT_EQ(bpf, state.frontends.size()) << "a BPF frontend the proxy does not know";
    return out;
}

const snapshot::Backend* find_backend(const DesiredState& state, const std::string& name) {
    for (const auto& b : state.snapshot.backends) {
        if (b.name == name) return &b;
    }
    return nullptr;
}

struct ServiceCase {
    const char* name;
    const char* service_spec;  // YAML of spec (+ status) for demo/db
    const char* node_name;
    const char* frontends;     // expected frontend_list()
    const char* problem;       // a problem expected in the log ("" = none checked)
};

class ServiceTable : public testing::TestWithParam<ServiceCase> {};

TEST_P(ServiceTable, Frontends) {
    const ServiceCase& c = GetParam();
    Settings settings;
    settings.node_name = c.node_name;
    const std::string yaml = std::string("kind: Service\nmetadata: {name: db, namespace: demo}\n") + c.service_spec +
                             kDbSlice;
    const DesiredState state = compute_desired_state(objects_from_yaml(yaml), settings);
    EXPECT_EQ(frontend_list(state), c.frontends);
    if (*c.problem) {
        EXPECT_TRUE(contains_message(state.problems, c.problem)) << testing::PrintToString(state.problems);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Model, ServiceTable,
    testing::Values(
        ServiceCase{"ClusterIpIsNotExposed", "spec: {ports: [{port: 5432}]}", "", "", ""},
        ServiceCase{"NodePortIsL4", "spec: {type: NodePort, ports: [{port: 5432, nodePort: 30432}]}", "",
                    "node:30432 tcp->demo/db:5432;", ""},
        ServiceCase{"LoadBalancerNodePortAndIngressIp",
                    "spec: {type: LoadBalancer, ports: [{port: 5432, nodePort: 30432}]}\n"
                    "status: {loadBalancer: {ingress: [{ip: 203.0.113.9}]}}",
                    "", "node:30432 tcp->demo/db:5432;203.0.113.9:5432 tcp->demo/db:5432;", ""},
        ServiceCase{"NoNodePortsWhenNotAllocated",
                    "spec: {type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 5432, nodePort: 30432}]}\n"
                    "status: {loadBalancer: {ingress: [{ip: 203.0.113.9}]}}",
                    "", "203.0.113.9:5432 tcp->demo/db:5432;", ""},
        ServiceCase{"ExternalIpsOfClusterIp", "spec: {externalIPs: [192.0.2.5], ports: [{port: 5432}]}", "",
                    "192.0.2.5:5432 tcp->demo/db:5432;", ""},
        ServiceCase{"UdpReported", "spec: {type: NodePort, ports: [{name: dns, port: 53, protocol: UDP, nodePort: 30053}]}",
                    "", "", "Service port demo/db:dns: protocol UDP not supported yet"},
        ServiceCase{"LocalWithEndpointHere",
                    "spec: {type: NodePort, externalTrafficPolicy: Local, ports: [{port: 5432, nodePort: 30432}]}",
                    "node-a", "node:30432 tcp->demo/db:5432@node;", ""},
        ServiceCase{"LocalWithoutEndpointHereRefuses",
                    "spec: {type: NodePort, externalTrafficPolicy: Local, ports: [{port: 5432, nodePort: 30432}]}",
                    "node-c", "node:30432 tcp->demo/db:5432@node (refused);",
                    "backend demo/db:5432@node: no ready endpoints on node node-c; its frontends refuse connections"},
        ServiceCase{"LocalWithoutNodeNameUsesAll",
                    "spec: {type: NodePort, externalTrafficPolicy: Local, ports: [{port: 5432, nodePort: 30432}]}",
                    "", "node:30432 tcp->demo/db:5432;", "has no --node-name"},
        ServiceCase{"IpFamiliesFilterVips",
                    "spec: {ipFamilies: [IPv6], externalIPs: [192.0.2.5, '2001:db8::5'], ports: [{port: 5432}]}", "",
                    "2001:db8::5:5432 tcp->demo/db:5432;", "192.0.2.5 is IPv4 but spec.ipFamilies does not list it"}),
    [](const testing::TestParamInfo<ServiceCase>& info) { return std::string(info.param.name); });

TEST(ServiceSemantics, LocalPolicyKeepsOnlyThisNodesEndpoints) {
    Settings settings;
    settings.node_name = "node-b";
    const DesiredState state = compute_desired_state(
        objects_from_yaml(std::string("kind: Service\nmetadata: {name: db, namespace: demo}\n"
                                      "spec: {type: NodePort, externalTrafficPolicy: Local, "
                                      "ports: [{port: 5432, nodePort: 30432}]}\n") +
                          kDbSlice),
        settings);
    const snapshot::Backend* backend = find_backend(state, "demo/db:5432@node");
    ASSERT_NE(backend, nullptr);
    EXPECT_EQ(backend->endpoints, (std::vector<snapshot::Endpoint>{{"10.0.0.2", 5432}}));
}

TEST(ServiceSemantics, SourceRangesOnLoadBalancerVipsOnly) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(R"(
kind: Service
metadata: {name: db, namespace: demo}
spec:
  type: LoadBalancer
  loadBalancerSourceRanges: [10.1.2.3/8, 192.0.2.0/24, bogus]
  ports: [{port: 5432, nodePort: 30432}]
status: {loadBalancer: {ingress: [{ip: 203.0.113.9}]}}
)") + kDbSlice),
                                                     Settings{});
    ASSERT_EQ(state.frontends.size(), 2u);
    EXPECT_TRUE(state.frontends[0].source_ranges.empty());  // the NodePort
    ASSERT_EQ(state.frontends[1].source_ranges.size(), 2u);
    EXPECT_EQ(format_ip_address(state.frontends[1].source_ranges[0].address), "10.0.0.0");  // host bits cleared
    EXPECT_EQ(state.frontends[1].source_ranges[0].length, 8);
    EXPECT_EQ(state.frontends[1].source_ranges[1].length, 24);
    EXPECT_TRUE(contains_message(state.problems, "spec.loadBalancerSourceRanges[2]: \"bogus\" is not a CIDR prefix"));
}

TEST(ServiceSemantics, ClientIpAffinityTravelsWithTheBackend) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(R"(
kind: Service
metadata: {name: db, namespace: demo}
spec:
  type: NodePort
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}
  ports: [{port: 5432, nodePort: 30432}]
)") + kDbSlice),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.backends.size(), 1u);
    EXPECT_EQ(state.snapshot.backends[0].name, "demo/db:5432");
    EXPECT_EQ(state.snapshot.backends[0].affinity, snapshot::Affinity::ClientIp);
    EXPECT_EQ(state.snapshot.backends[0].affinity_timeout_s, 600u);
}

TEST(ServiceSemantics, ClientIpAffinityTimeoutDefaultsToThreeHoursAndIsAbsentWithoutAffinity) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(R"(
kind: Service
metadata: {name: db, namespace: demo}
spec: {type: NodePort, sessionAffinity: ClientIP, ports: [{port: 5432, nodePort: 30432}]}
---
kind: Service
metadata: {name: plain, namespace: demo}
spec: {type: NodePort, ports: [{port: 5432, nodePort: 30433}]}
)") + kDbSlice),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.backends.size(), 2u);
    EXPECT_EQ(state.snapshot.backends[0].name, "demo/db:5432");
    EXPECT_EQ(state.snapshot.backends[0].affinity_timeout_s, 10800u);  // Kubernetes' default
    EXPECT_EQ(state.snapshot.backends[1].affinity_timeout_s, 0u);
}

TEST(ServiceSemantics, TwoServicesOnOneNodePortConflict) {
    const DesiredState state = compute_desired_state(objects_from_yaml(std::string(R"(
kind: Service
metadata: {name: a, namespace: demo}
spec: {type: NodePort, ports: [{port: 1, nodePort: 30001}]}
---
kind: Service
metadata: {name: b, namespace: demo}
spec: {type: NodePort, ports: [{port: 2, nodePort: 30001}]}
)")),
                                                     Settings{});
    ASSERT_EQ(state.frontends.size(), 1u);
    EXPECT_EQ(state.frontends[0].name, "demo/a:1");
    EXPECT_TRUE(contains_message(state.problems, "conflict: demo/b:2 and demo/a:1 claim the same frontend NodePort:30001"));
}

TEST(ServiceSemantics, PublishServiceIsHttpNotPassthrough) {
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, externalTrafficPolicy: Local, ports: [{name: http, port: 80, nodePort: 30080}]}
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.frontends.size(), 1u);
    EXPECT_EQ(state.snapshot.frontends[0].protocol, snapshot::FrontendProtocol::Http);
    EXPECT_EQ(state.snapshot.frontends[0].backend, "");
}

TEST(ServiceSemantics, DecoderRejectsBadServiceFields) {
    struct Case {
        const char* spec;
        const char* error;
    } cases[] = {
        {"{externalTrafficPolicy: Nowhere}", "spec.externalTrafficPolicy: expected Cluster or Local"},
        {"{sessionAffinity: Cookie}", "spec.sessionAffinity: expected None or ClientIP"},
        {"{sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}}",
         "spec.sessionAffinityConfig.clientIP.timeoutSeconds"},
        {"{ipFamilies: [IPv5]}", "spec.ipFamilies[0]: expected IPv4 or IPv6"},
    };
    for (const Case& c : cases) {
        k8s::LoadedManifests loaded;
        k8s::load_manifest_text(std::string("kind: Service\nmetadata: {name: s}\nspec: ") + c.spec, "f.yaml", loaded);
        ASSERT_EQ(loaded.errors.size(), 1u) << c.spec;
        EXPECT_NE(loaded.errors[0].find(c.error), std::string::npos) << loaded.errors[0];
        EXPECT_NE(loaded.errors[0].find("f.yaml: document 1: Service default/s"), std::string::npos);
    }
}

}  // namespace
}  // namespace xgress::agent::model

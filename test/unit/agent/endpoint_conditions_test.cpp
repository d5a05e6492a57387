// EndpointSlice semantics, table-driven: conditions, several slices per
// Service, both address families, named ports resolved per slice.
#include <gtest/gtest.h>

#include "model/desired_state.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

using test::objects_from_yaml;

struct ConditionCase {
    const char* name;
    const char* endpoints;  // YAML flow list for the slice's endpoints
    std::vector<snapshot::Endpoint> expected;
};

class EndpointConditions : public testing::TestWithParam<ConditionCase> {};

TEST_P(EndpointConditions, Chosen) {
    const std::string yaml = std::string(R"(
kind: Service
metadata: {name: db, namespace: demo}
spec: {type: NodePort, ports: [{port: 80, targetPort: 8080, nodePort: 30001}]}
---
kind: EndpointSlice
metadata: {name: db-1, namespace: demo, labels: {kubernetes.io/service-name: db}}
ports: [{port: 8080}]
endpoints: )") + GetParam().endpoints + "\n";
    const DesiredState state = compute_desired_state(objects_from_yaml(yaml), Settings{});
    ASSERT_EQ(state.snapshot.backends.size(), 1u);
    EXPECT_EQ(state.snapshot.backends[0].endpoints, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Model, EndpointConditions,
    testing::Values(
        ConditionCase{"UnknownReadyCountsAsReady", "[{addresses: [10.0.0.1]}]", {{"10.0.0.1", 8080}}},
        // The API allows several addresses per endpoint (the first is stored
        // inline, the rest aside): every one is served, and conditions apply to all.
        ConditionCase{"SeveralAddressesPerEndpoint",
                      "[{addresses: [10.0.0.3, 10.0.0.1, 10.0.0.2]}, {addresses: [10.0.0.9, 10.0.0.8], "
                      "conditions: {ready: false}}]",
                      {{"10.0.0.1", 8080}, {"10.0.0.2", 8080}, {"10.0.0.3", 8080}}},
        ConditionCase{"NotReadyDropped",
                      "[{addresses: [10.0.0.1], conditions: {ready: false}}, {addresses: [10.0.0.2]}]",
                      {{"10.0.0.2", 8080}}},
        ConditionCase{"TerminatingIgnoredWhileOthersReady",
                      "[{addresses: [10.0.0.1], conditions: {ready: false, serving: true, terminating: true}},"
                      " {addresses: [10.0.0.2], conditions: {ready: true}}]",
                      {{"10.0.0.2", 8080}}},
        ConditionCase{"TerminatingServingFallback",
                      "[{addresses: [10.0.0.1], conditions: {ready: false, serving: true, terminating: true}},"
                      " {addresses: [10.0.0.2], conditions: {ready: false, serving: false, terminating: true}}]",
                      {{"10.0.0.1", 8080}}},
        ConditionCase{"NothingServing", "[{addresses: [10.0.0.1], conditions: {ready: false, serving: false}}]", {}}),
    [](const testing::TestParamInfo<ConditionCase>& info) { return std::string(info.param.name); });

TEST(EndpointSlices, SeveralSlicesBothFamiliesNamedPortsPerSlice) {
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: Service
metadata: {name: web, namespace: demo}
spec: {type: NodePort, ipFamilies: [IPv4, IPv6], ports: [{name: http, port: 80, targetPort: web, nodePort: 30002}]}
---
kind: EndpointSlice
metadata: {name: web-v4-a, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [10.0.0.1]}]
---
kind: EndpointSlice
metadata: {name: web-v4-b, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 9090}]
endpoints: [{addresses: [10.0.0.2]}, {addresses: [10.0.0.1]}]
---
kind: EndpointSlice
metadata: {name: web-v6, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
ports: [{name: http, port: 8080}]
endpoints: [{addresses: ['fd00::1']}]
---
kind: EndpointSlice
metadata: {name: web-fqdn, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: FQDN
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [pod.example.com]}]
)"),
                                                     Settings{});
    ASSERT_EQ(state.snapshot.backends.size(), 1u);
    // The same pod address on two ports (two slices) is two endpoints; FQDN is skipped.
    EXPECT_EQ(state.snapshot.backends[0].endpoints,
              (std::vector<snapshot::Endpoint>{{"10.0.0.1", 8080}, {"10.0.0.1", 9090}, {"10.0.0.2", 9090},
                                               {"fd00::1", 8080}}));
}

}  // namespace
}  // namespace xgress::agent::model

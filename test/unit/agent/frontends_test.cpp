#include <gtest/gtest.h>

#include "model/desired_state.h"
#include "model/ip_address.h"
#include "test_objects.h"

namespace xgress::agent::model {
namespace {

using dataplane::FrontendSpec;
using test::contains_message;
using test::objects_from_yaml;

FrontendSpec node_port(std::uint16_t port, const std::string& name) {
    FrontendSpec f;
    f.node_port = true;
    f.port = port;
    f.name = name;
    return f;
}

FrontendSpec vip(const std::string& address, std::uint16_t port, const std::string& name) {
    FrontendSpec f;
    f.address = *parse_ip_address(address);
    f.port = port;
    f.name = name;
    return f;
}

TEST(Frontends, PublishServiceNodePortsAndVips) {
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec:
  type: LoadBalancer
  externalIPs: [192.0.2.10, "2001:db8::10"]
  ports:
    - {name: http, port: 80, targetPort: 80, nodePort: 30080}
    - {port: 443, nodePort: 30443}
    - {name: dns, port: 53, protocol: UDP, nodePort: 30053}
status:
  loadBalancer:
    ingress: [{ip: 203.0.113.7}, {hostname: lb.example.com}, {ip: 192.0.2.10}]
---
kind: Service
metadata: {name: db, namespace: demo}
spec: {type: NodePort, ports: [{port: 5432, nodePort: 30432}]}
---
kind: Service
metadata: {name: internal, namespace: demo}
spec: {ports: [{port: 80}]}
)"),
                                                     Settings{});
    EXPECT_EQ(state.frontends, (std::vector<FrontendSpec>{
                                   node_port(30080, "xgress-system/xgress:http"),
                                   node_port(30432, "demo/db:5432"),
                                   node_port(30443, "xgress-system/xgress:443"),
                                   vip("192.0.2.10", 80, "xgress-system/xgress:http"),
                                   vip("192.0.2.10", 443, "xgress-system/xgress:443"),
                                   vip("203.0.113.7", 80, "xgress-system/xgress:http"),
                                   vip("203.0.113.7", 443, "xgress-system/xgress:443"),
                                   vip("2001:db8::10", 80, "xgress-system/xgress:http"),
                                   vip("2001:db8::10", 443, "xgress-system/xgress:443"),
                               }));
    for (const auto& f : state.frontends) {
        EXPECT_EQ(f.listener_slot, 0u);
        EXPECT_EQ(f.protocol, dataplane::Protocol::Tcp);
    }
    EXPECT_TRUE(contains_message(state.problems, "protocol UDP not supported"));
    // demo/db is L4 passthrough to its endpoints; the publish ports speak HTTP.
    ASSERT_EQ(state.snapshot.frontends.size(), state.frontends.size());
    EXPECT_EQ(state.snapshot.frontends[1].protocol, snapshot::FrontendProtocol::Tcp);
    EXPECT_EQ(state.snapshot.frontends[1].backend, "demo/db:5432");
    EXPECT_EQ(state.snapshot.frontends[0].protocol, snapshot::FrontendProtocol::Http);
    EXPECT_EQ(state.snapshot.frontends[0].address, "");
    EXPECT_EQ(state.snapshot.frontends[3].address, "192.0.2.10");
    EXPECT_FALSE(contains_message(state.problems, "demo/internal"));
}

TEST(Frontends, PublishServiceIsASetting) {
    Settings settings;
    settings.publish_namespace = "edge";
    settings.publish_name = "gw";
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: Service
metadata: {name: gw, namespace: edge}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 31000}]}
)"),
                                                     settings);
    EXPECT_EQ(state.frontends, (std::vector<FrontendSpec>{node_port(31000, "edge/gw:http")}));
}

TEST(Frontends, MissingPublishServiceIsReported) {
    const DesiredState state = compute_desired_state(objects_from_yaml("kind: IngressClass\nmetadata: {name: x}\n"
                                                                       "spec: {controller: y}\n"),
                                                     Settings{});
    EXPECT_TRUE(state.frontends.empty());
    EXPECT_TRUE(contains_message(state.problems, "publish Service xgress-system/xgress not found"));
}

TEST(Frontends, BadVipIsReported) {
    const DesiredState state = compute_desired_state(objects_from_yaml(R"(
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: ClusterIP, externalIPs: [not-an-ip], ports: [{port: 80}]}
)"),
                                                     Settings{});
    EXPECT_TRUE(state.frontends.empty());
    EXPECT_TRUE(contains_message(state.problems, "spec.externalIPs: \"not-an-ip\" is not an IP address"));
}

TEST(IpAddress, ParsesBothFamiliesInNetworkOrder) {
    auto v4 = parse_ip_address("10.1.2.3");
    ASSERT_TRUE(v4);
    EXPECT_FALSE(v4->v6);
    EXPECT_EQ(v4->bytes[0], 10);
    EXPECT_EQ(v4->bytes[3], 3);
    EXPECT_EQ(format_ip_address(*v4), "10.1.2.3");
    auto v6 = parse_ip_address("2001:db8::1");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->v6);
    EXPECT_EQ(format_ip_address(*v6), "2001:db8::1");
    EXPECT_FALSE(parse_ip_address("10.1.2"));
}

}  // namespace
}  // namespace xgress::agent::model

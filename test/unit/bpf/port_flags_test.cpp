// The pure port_flags table computations the Dataplane applies in two steps
// (widen before frontend writes, exact target after deletes). No root.
#include "port_flags.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "xgress/bpf_abi.h"

namespace xgress::test {
namespace {

namespace dp = xgress::agent::dataplane;

dp::FrontendSpec spec(bool node_port, const char* address, std::uint16_t port, dp::Protocol protocol) {
    dp::FrontendSpec s;
    s.node_port = node_port;
    if (address) inet_pton(AF_INET, address, s.address.bytes.data());
    s.port = port;
    s.protocol = protocol;
    s.name = "ns/svc:p";
    return s;
}

TEST(PortFlags, EachKindSetsItsOwnBit) {
    const auto table = dp::port_flags_for({
        dp::frontend_key(spec(false, "203.0.113.10", 80, dp::Protocol::Tcp)),
        dp::frontend_key(spec(false, "203.0.113.11", 80, dp::Protocol::Tcp)),
        dp::frontend_key(spec(true, nullptr, 80, dp::Protocol::Udp)),
        dp::frontend_key(spec(true, nullptr, 30080, dp::Protocol::Tcp)),
        dp::frontend_key(spec(false, "203.0.113.10", 53, dp::Protocol::Udp)),
    });
    ASSERT_EQ(table.size(), 65536u);
    EXPECT_EQ(table[80], XGRESS_PORT_TCP_VIP | XGRESS_PORT_UDP_NODEPORT);
    EXPECT_EQ(table[30080], XGRESS_PORT_TCP_NODEPORT);
    EXPECT_EQ(table[53], XGRESS_PORT_UDP_VIP);
    EXPECT_EQ(table[20480], 0) << "port read in network order by mistake";
    EXPECT_EQ(table[22], 0);
}

TEST(PortFlags, WidenOnlySetsAndChangedPortsListsDifferences) {
    auto current = dp::empty_port_flags();
    current[80] = XGRESS_PORT_TCP_VIP;
    current[443] = XGRESS_PORT_TCP_VIP;
    auto target = dp::empty_port_flags();
    target[80] = XGRESS_PORT_TCP_NODEPORT;
    target[8080] = XGRESS_PORT_UDP_VIP;

    const auto widened = dp::widen(current, target);
    EXPECT_EQ(widened[80], XGRESS_PORT_TCP_VIP | XGRESS_PORT_TCP_NODEPORT);
    EXPECT_EQ(widened[443], XGRESS_PORT_TCP_VIP) << "widening never clears";
    EXPECT_EQ(widened[8080], XGRESS_PORT_UDP_VIP);
    EXPECT_EQ(dp::changed_ports(current, widened), (std::vector<std::uint32_t>{80, 8080}));
    EXPECT_EQ(dp::changed_ports(widened, target), (std::vector<std::uint32_t>{80, 443}));
    EXPECT_TRUE(dp::changed_ports(target, target).empty());
}

}  // namespace
}  // namespace xgress::test

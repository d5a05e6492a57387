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

TEST(PortFlags, NodePortRangeBitsCoverExactlyTheRangeAndKeepFrontendBits) {
    dp::PortFlagTable table = dp::empty_port_flags();
    table[30080] = XGRESS_PORT_TCP_NODEPORT;
    table[80] = XGRESS_PORT_TCP_VIP;
    auto ranged = dp::with_node_port_range(table, 30000, 32767, true);
    const std::uint8_t both = XGRESS_PORT_NODEPORT_RANGE | XGRESS_PORT_DROP_UNALLOCATED;
    EXPECT_EQ(ranged[29999], 0);
    EXPECT_EQ(ranged[30000], both);
    EXPECT_EQ(ranged[32767], both);
    EXPECT_EQ(ranged[32768], 0);
    EXPECT_EQ(ranged[30080], both | XGRESS_PORT_TCP_NODEPORT);
    EXPECT_EQ(ranged[80], XGRESS_PORT_TCP_VIP);
    // A new range (and policy) moves the bits; frontend bits stay.
    auto moved = dp::with_node_port_range(ranged, 31000, 31001, false);
    EXPECT_EQ(moved[30000], 0);
    EXPECT_EQ(moved[30080], XGRESS_PORT_TCP_NODEPORT);
    EXPECT_EQ(moved[31000], XGRESS_PORT_NODEPORT_RANGE);
    EXPECT_EQ(moved[31001], XGRESS_PORT_NODEPORT_RANGE);
    EXPECT_EQ(moved[31002], 0);
    EXPECT_EQ(dp::changed_ports(ranged, moved).size(), 2768u);  // 30000-32767 changed
    // No range (0-0): no port carries the bits.
    auto none = dp::with_node_port_range(ranged, 0, 0, true);
    EXPECT_EQ(none, table);
}

}  // namespace
}  // namespace xgress::test


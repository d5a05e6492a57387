// XDP classifier through BPF_PROG_TEST_RUN on crafted frames: every frame
// passes; frames for a frontend are counted on it, others are not.
#include <gtest/gtest.h>

#include "map_helpers.h"
#include "packet_builder.h"
#include "xdp_ingress.skel.h"

namespace xgress::test {
namespace {

constexpr std::uint32_t kVipId = 1;
constexpr std::uint32_t kNodePortId = 2;
constexpr std::uint32_t kV6VipId = 3;
constexpr std::uint32_t kUdpId = 4;

class XdpIngressTest : public ::testing::Test {
protected:
    void SetUp() override {
        skel_ = xdp_ingress_bpf__open();
        ASSERT_NE(skel_, nullptr);
        unpin_all_maps(skel_->obj);
        ASSERT_EQ(xdp_ingress_bpf__load(skel_), 0) << "needs CAP_BPF";

        add_frontend(exact_key("203.0.113.10", 80), kVipId);
        add_frontend(nodeport_key(30080), kNodePortId);
        add_frontend(exact_key("2001:db8::10", 443), kV6VipId);
        add_frontend(exact_key("203.0.113.10", 53, IPPROTO_UDP), kUdpId);
        add_node_address("198.18.0.1");
        add_node_address("2001:db8::1");
    }
    void TearDown() override { xdp_ingress_bpf__destroy(skel_); }

    void add_frontend(const xgress_frontend_key& key, std::uint32_t id) {
        xgress_frontend_value value{id, 0, 0};
        ASSERT_EQ(bpf_map__update_elem(skel_->maps.frontends, &key, sizeof(key), &value,
                                       sizeof(value), BPF_ANY),
                  0);
    }
    void add_node_address(const std::string& address) {
        auto key = node_key(address);
        xgress_node_addr_value value{};
        ASSERT_EQ(bpf_map__update_elem(skel_->maps.node_addrs, &key, sizeof(key), &value,
                                       sizeof(value), BPF_ANY),
                  0);
    }

    // Returns the XDP verdict.
    int run(const std::vector<std::uint8_t>& frame) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                    .data_size_in = static_cast<__u32>(frame.size()), .repeat = 1);
        int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.xgress_xdp), &opts);
        EXPECT_EQ(err, 0);
        return static_cast<int>(opts.retval);
    }
    xgress_frontend_stats stats(std::uint32_t id) {
        return sum_frontend_stats(bpf_map__fd(skel_->maps.frontend_stats), id);
    }
    xgress_global_stats global() { return sum_global_stats(bpf_map__fd(skel_->maps.global_stats)); }

    xdp_ingress_bpf* skel_ = nullptr;
};

TEST_F(XdpIngressTest, SynToVipIsPassedAndCounted) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    auto frame = build_packet(spec);
    EXPECT_EQ(run(frame), XDP_PASS);
    EXPECT_EQ(run(frame), XDP_PASS);
    auto s = stats(kVipId);
    EXPECT_EQ(s.packets, 2u);
    EXPECT_EQ(s.bytes, 2 * frame.size());
    EXPECT_EQ(s.syns, 2u);
    EXPECT_EQ(global().xdp_matched, 2u);
}

TEST_F(XdpIngressTest, AckIsCountedButNotAsSyn) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.syn = false;
    spec.ack = true;
    spec.payload = 100;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    PacketSpec synack;
    synack.dst = "203.0.113.10";
    synack.dport = 80;
    synack.syn = true;
    synack.ack = true;
    EXPECT_EQ(run(build_packet(synack)), XDP_PASS);
    auto s = stats(kVipId);
    EXPECT_EQ(s.packets, 2u);
    EXPECT_EQ(s.syns, 0u);
}

TEST_F(XdpIngressTest, UnknownPortIsPassedAndNotCounted) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 81;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    for (auto id : {kVipId, kNodePortId, kV6VipId, kUdpId}) EXPECT_EQ(stats(id).packets, 0u);
    EXPECT_EQ(global().xdp_not_ours, 1u);
    EXPECT_EQ(global().xdp_matched, 0u);
}

TEST_F(XdpIngressTest, NodePortOnNodeAddressIsCounted) {
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 1u);
    EXPECT_EQ(stats(kNodePortId).syns, 1u);
}

TEST_F(XdpIngressTest, NodePortOnForeignAddressIsNotOurs) {
    // Routed through the node to some other host: must not match the wildcard.
    PacketSpec spec;
    spec.dst = "10.244.1.7";
    spec.dport = 30080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 0u);
    EXPECT_EQ(global().xdp_not_ours, 1u);
}

TEST_F(XdpIngressTest, NodePortOnIpv6NodeAddressIsCounted) {
    PacketSpec spec;
    spec.v6 = true;
    spec.src = "2001:db8::2";
    spec.dst = "2001:db8::1";
    spec.dport = 30080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 1u);
}

TEST_F(XdpIngressTest, Ipv6VipIsCounted) {
    PacketSpec spec;
    spec.v6 = true;
    spec.src = "2001:db8::2";
    spec.dst = "2001:db8::10";
    spec.dport = 443;
    auto frame = build_packet(spec);
    EXPECT_EQ(run(frame), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 1u);
    EXPECT_EQ(stats(kV6VipId).bytes, frame.size());
    EXPECT_EQ(stats(kV6VipId).syns, 1u);
}

TEST_F(XdpIngressTest, Ipv4AddressBytesInIpv6PacketDoNotMatchIpv4Vip) {
    // 203.0.113.10 as the first 4 bytes of an IPv6 address: the family flag
    // keeps it apart from the IPv4 VIP.
    PacketSpec spec;
    spec.v6 = true;
    spec.src = "2001:db8::2";
    spec.dst = "cb00:710a::";
    spec.dport = 80;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 0u);
}

TEST_F(XdpIngressTest, SingleVlanTagIsParsed) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.vlan_tpids = {0x8100};
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 1u);
}

TEST_F(XdpIngressTest, DoubleVlanTagIsParsed) {
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30080;
    spec.vlan_tpids = {0x88a8, 0x8100};
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 1u);
}

TEST_F(XdpIngressTest, TripleVlanTagIsNotParsed) {
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30080;
    spec.vlan_tpids = {0x88a8, 0x8100, 0x8100};
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 0u);
    EXPECT_EQ(global().xdp_non_ip, 1u);
}

TEST_F(XdpIngressTest, Ipv4OptionsAreSkippedThroughIhl) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.ipv4_options = 12;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 1u);
}

TEST_F(XdpIngressTest, UdpFrontendIsCounted) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 53;
    spec.proto = IPPROTO_UDP;
    spec.payload = 30;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kUdpId).packets, 1u);
    EXPECT_EQ(stats(kUdpId).syns, 0u);
    // TCP to the UDP frontend's port is a different frontend (none).
    PacketSpec tcp;
    tcp.dst = "203.0.113.10";
    tcp.dport = 53;
    EXPECT_EQ(run(build_packet(tcp)), XDP_PASS);
    EXPECT_EQ(stats(kUdpId).packets, 1u);
}

TEST_F(XdpIngressTest, TruncatedFramesPassUncounted) {
    PacketSpec base;
    base.dst = "203.0.113.10";
    base.dport = 80;
    const std::size_t full = build_packet(base).size();
    // Cut inside the IPv4 header, inside the TCP header, and one byte short.
    for (std::size_t len : {std::size_t{20}, std::size_t{40}, full - 1}) {
        PacketSpec spec = base;
        spec.truncate_to = len;
        EXPECT_EQ(run(build_packet(spec)), XDP_PASS) << len;
    }
    EXPECT_EQ(stats(kVipId).packets, 0u);
    EXPECT_EQ(global().xdp_unparsed, 3u);
}

TEST_F(XdpIngressTest, NonIpFramePasses) {
    auto frame = build_packet(PacketSpec{});
    frame[12] = 0x08;  // ARP
    frame[13] = 0x06;
    EXPECT_EQ(run(frame), XDP_PASS);
    EXPECT_EQ(global().xdp_non_ip, 1u);
    EXPECT_EQ(global().xdp_packets, 1u);
}

}  // namespace
}  // namespace xgress::test

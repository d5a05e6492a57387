// XDP classifier through BPF_PROG_TEST_RUN on crafted frames: one test per
// branch of the program. Frames for a frontend are counted on it and passed;
// denied sources and unallocated NodePorts on node addresses are dropped;
// everything else (not ours, fragments, unparseable) is passed and counted
// globally.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "map_helpers.h"
#include "packet_builder.h"
#include "xdp_ingress.skel.h"

namespace xgress::test {
namespace {

constexpr std::uint32_t kVipId = 1;
constexpr std::uint32_t kNodePortId = 2;
constexpr std::uint32_t kV6VipId = 3;
constexpr std::uint32_t kUdpId = 4;
constexpr std::uint32_t kRangedVipId = 5;       // 203.0.113.20:443, sources 198.18.0.0/24 only
constexpr std::uint32_t kRangedNodePortId = 6;  // NodePort 30443, sources 10.0.0.0/8, 2001:db8::/64
constexpr std::uint32_t kUnrelatedId = 7;       // no frontend; its range must not leak to others

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
        add_frontend(exact_key("203.0.113.20", 443), kRangedVipId, XGRESS_FRONTEND_SOURCE_RANGES);
        add_frontend(nodeport_key(30443), kRangedNodePortId, XGRESS_FRONTEND_SOURCE_RANGES);
        add_range(range_key(kRangedVipId, "198.18.0.0/24"));
        add_range(range_key(kRangedNodePortId, "10.0.0.0/8"));
        add_range(range_key(kRangedNodePortId, "2001:db8::/64"));
        add_range(range_key(kUnrelatedId, "192.0.2.0/24"));
        set_settings(30000, 32767, XGRESS_SETTINGS_DROP_UNALLOCATED);
    }
    void TearDown() override { xdp_ingress_bpf__destroy(skel_); }

    void add_frontend(const xgress_frontend_key& key, std::uint32_t id, std::uint32_t flags = 0) {
        xgress_frontend_value value{id, 0, flags};
        ASSERT_EQ(bpf_map__update_elem(skel_->maps.frontends, &key, sizeof(key), &value,
                                       sizeof(value), BPF_ANY),
                  0);
        mark_port(skel_->bss->xgress_tables, key);
        if (!(key.flags & XGRESS_FRONTEND_KEY_NODEPORT)) {
            place_vip(skel_->bss->xgress_tables, key, value);
        }
    }
    void remove_from_hash(const xgress_frontend_key& key) {
        ASSERT_EQ(bpf_map__delete_elem(skel_->maps.frontends, &key, sizeof(key), 0), 0);
    }
    xgress_vip_slot vip_slot(const xgress_frontend_key& key) {
        return skel_->bss->xgress_tables.vip_frontends[xgress_vip_slot_index(&key)];
    }
    void set_vip_slot(const xgress_frontend_key& key, const xgress_vip_slot& slot) {
        skel_->bss->xgress_tables.vip_frontends[xgress_vip_slot_index(&key)] = slot;
    }
    void add_node_address(const std::string& address) {
        auto key = node_key(address);
        xgress_node_addr_value value{};
        ASSERT_EQ(bpf_map__update_elem(skel_->maps.node_addrs, &key, sizeof(key), &value,
                                       sizeof(value), BPF_ANY),
                  0);
    }

    void add_range(const xgress_source_range_key& key) {
        xgress_source_range_value value{};
        ASSERT_EQ(bpf_map__update_elem(skel_->maps.source_ranges, &key, sizeof(key), &value, sizeof(value),
                                       BPF_ANY),
                  0);
    }
    // As the agent does: settings (the record) and the range bits on
    // port_flags (what the XDP program reads).
    void set_settings(std::uint16_t min, std::uint16_t max, std::uint32_t flags) {
        std::uint32_t key = XGRESS_SETTINGS_KEY;
        xgress_settings value{min, max, flags};
        ASSERT_EQ(bpf_map__update_elem(skel_->maps.settings, &key, sizeof(key), &value, sizeof(value), BPF_ANY),
                  0);
        set_port_range_bits(skel_->bss->xgress_tables, range_min_, range_max_, min, max,
                            (flags & XGRESS_SETTINGS_DROP_UNALLOCATED) != 0);
        range_min_ = min;
        range_max_ = max;
    }
    std::uint16_t range_min_ = 0, range_max_ = 0;

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
    // xdp_matched derived from the frontend counters, as xgressctl does.
    xgress_global_stats global() {
        return sum_global_stats(bpf_map__fd(skel_->maps.global_stats), bpf_map__fd(skel_->maps.frontend_stats));
    }

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

// --- IPv4 fragments, header oddities ---------------------------------------

TEST_F(XdpIngressTest, Ipv4NonFirstFragmentIsPassedAndCountedAsFragment) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;  // the bytes where a port would be are payload here
    spec.ipv4_frag_off = 0x0010;  // offset 16 * 8 bytes, no flags
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.ipv4_frag_off = 0x2010;  // MF too: still not first
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    // The offset's high bits (in the field's first byte, next to the
    // flags), with DF set: the fast path's one-word check must see them.
    spec.ipv4_frag_off = 0x5f00;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.ipv4_frag_off = 0x0001;  // the lowest offset bit alone
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 0u);
    EXPECT_EQ(global().xdp_fragments, 4u);
    EXPECT_EQ(global().xdp_matched, 0u);
}

TEST_F(XdpIngressTest, NonFirstFragmentToUnallocatedNodePortIsNotDropped) {
    // No L4 header: we cannot know the port, so never drop.
    PacketSpec spec;
    spec.dport = 30999;
    spec.ipv4_frag_off = 0x0020;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_fragments, 1u);
    EXPECT_EQ(global().xdp_nodeport_dropped, 0u);
}

TEST_F(XdpIngressTest, Ipv4FirstFragmentIsClassified) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.ipv4_frag_off = 0x2000;  // MF, offset 0: carries the TCP header
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 1u);
    EXPECT_EQ(global().xdp_fragments, 0u);
}

TEST_F(XdpIngressTest, Ipv4IhlBelowFiveIsUnparsed) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.ipv4_ihl_override = 4;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_unparsed, 1u);
    EXPECT_EQ(stats(kVipId).packets, 0u);
}

TEST_F(XdpIngressTest, Ipv4IhlBeyondFrameIsUnparsed) {
    // IHL 15 (60 bytes) on a frame that ends 10 bytes after a plain header.
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.ipv4_ihl_override = 15;
    spec.truncate_to = 14 + 20 + 10;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_unparsed, 1u);
}

TEST_F(XdpIngressTest, MaximalIpv4OptionsAreSkipped) {
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30080;
    spec.ipv4_options = 40;  // IHL 15
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 1u);
}

TEST_F(XdpIngressTest, OtherL4IsPassedAndCounted) {
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.proto = IPPROTO_ICMP;
    auto frame = build_packet(spec);
    EXPECT_EQ(run(frame), XDP_PASS);
    PacketSpec v6 = spec;
    v6.v6 = true;
    v6.src = "2001:db8::2";
    v6.dst = "2001:db8::1";
    v6.proto = IPPROTO_ICMPV6;
    EXPECT_EQ(run(build_packet(v6)), XDP_PASS);
    EXPECT_EQ(global().xdp_other_l4, 2u);
}

// --- IPv6 extension headers ---------------------------------------------------

PacketSpec v6_to_vip() {
    PacketSpec spec;
    spec.v6 = true;
    spec.src = "2001:db8::2";
    spec.dst = "2001:db8::10";
    spec.dport = 443;
    return spec;
}

TEST_F(XdpIngressTest, Ipv6ExtensionHeadersAreWalked) {
    auto spec = v6_to_vip();
    spec.ipv6_ext = {{0, 8}, {60, 24}, {43, 16}, {51, 12}};  // hop-by-hop, dest opts, routing, AH
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 1u);
    EXPECT_EQ(stats(kV6VipId).syns, 1u);
}

TEST_F(XdpIngressTest, Ipv6FirstFragmentIsClassified) {
    auto spec = v6_to_vip();
    spec.ipv6_ext = {{44, 8}};
    spec.ipv6_frag_off = 0x0001;  // offset 0, M flag
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 1u);
}

TEST_F(XdpIngressTest, Ipv6NonFirstFragmentIsPassedAndCounted) {
    auto spec = v6_to_vip();
    spec.ipv6_ext = {{0, 8}, {44, 8}};
    spec.ipv6_frag_off = 0x00a8;  // offset 21 * 8
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 0u);
    EXPECT_EQ(global().xdp_fragments, 1u);
}

TEST_F(XdpIngressTest, Ipv6ExtensionChainAtTheBoundIsWalked) {
    auto spec = v6_to_vip();
    for (int i = 0; i < XGRESS_MAX_IPV6_EXT_HEADERS; ++i) spec.ipv6_ext.push_back({60, 8});
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 1u);
}

TEST_F(XdpIngressTest, Ipv6ExtensionChainBeyondTheBoundIsUnparsed) {
    auto spec = v6_to_vip();
    for (int i = 0; i < XGRESS_MAX_IPV6_EXT_HEADERS + 1; ++i) spec.ipv6_ext.push_back({60, 8});
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 0u);
    EXPECT_EQ(global().xdp_unparsed, 1u);
}

TEST_F(XdpIngressTest, Ipv6EspEndsTheWalkAsOtherL4) {
    auto spec = v6_to_vip();
    spec.proto = 50;  // ESP: the ports are encrypted
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_other_l4, 1u);
}

// --- truncation at every layer --------------------------------------------------

TEST_F(XdpIngressTest, TruncationAtEveryLayerIsPassedAsUnparsed) {
    struct Case {
        const char* what;
        PacketSpec spec;
        std::size_t cut;
    };
    PacketSpec v4;
    v4.dst = "203.0.113.10";
    v4.dport = 80;
    PacketSpec vlan = v4;
    vlan.vlan_tpids = {0x88a8, 0x8100};
    PacketSpec options = v4;
    options.ipv4_options = 8;
    PacketSpec udp = v4;
    udp.proto = IPPROTO_UDP;
    udp.dport = 53;
    auto v6 = v6_to_vip();
    auto v6ext = v6_to_vip();
    v6ext.ipv6_ext = {{0, 8}, {60, 16}};
    auto v6frag = v6_to_vip();
    v6frag.ipv6_ext = {{44, 8}};
    const std::vector<Case> cases{
        // (A frame shorter than the Ethernet header never reaches XDP: the
        // driver and BPF_PROG_TEST_RUN (EINVAL) both refuse it.)
        {"first vlan tag", vlan, 14 + 3},
        {"second vlan tag", vlan, 14 + 4 + 2},
        {"ipv4 header", v4, 14 + 19},
        {"ipv4 options", options, 14 + 24},
        {"tcp header", v4, 14 + 20 + 19},
        {"udp header", udp, 14 + 20 + 7},
        {"ipv6 header", v6, 14 + 39},
        {"ipv6 ext header start", v6ext, 14 + 40 + 1},
        {"ipv6 second ext header", v6ext, 14 + 40 + 8 + 3},
        {"tcp after ipv6 ext", v6ext, 14 + 40 + 24 + 10},
        {"ipv6 fragment header", v6frag, 14 + 40 + 3},
    };
    std::uint64_t expected = 0;
    for (const auto& c : cases) {
        PacketSpec spec = c.spec;
        spec.truncate_to = c.cut;
        auto frame = build_packet(spec);
        ASSERT_EQ(frame.size(), c.cut) << c.what;
        EXPECT_EQ(run(frame), XDP_PASS) << c.what;
        EXPECT_EQ(global().xdp_unparsed, ++expected) << c.what;
    }
    EXPECT_EQ(global().xdp_matched, 0u);
    EXPECT_EQ(global().xdp_packets, cases.size());
}

// --- unallocated NodePorts --------------------------------------------------------

TEST_F(XdpIngressTest, UnallocatedNodePortOnNodeAddressIsDroppedAndCounted) {
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30999;
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    auto g = global();
    EXPECT_EQ(g.xdp_nodeport_unallocated, 1u);
    EXPECT_EQ(g.xdp_nodeport_dropped, 1u);
    EXPECT_EQ(g.xdp_not_ours, 0u);
}

TEST_F(XdpIngressTest, UnallocatedNodePortRangeEdges) {
    for (std::uint16_t port : {30000, 32767}) {
        PacketSpec spec;
        spec.dport = port;
        EXPECT_EQ(run(build_packet(spec)), XDP_DROP) << port;
    }
    for (std::uint16_t port : {29999, 32768, 22}) {
        PacketSpec spec;
        spec.dport = port;
        EXPECT_EQ(run(build_packet(spec)), XDP_PASS) << port;
    }
    EXPECT_EQ(global().xdp_nodeport_dropped, 2u);
    EXPECT_EQ(global().xdp_not_ours, 3u);
}

TEST_F(XdpIngressTest, UnallocatedNodePortOnIpv6NodeAddressAndUdpIsDropped) {
    PacketSpec v6;
    v6.v6 = true;
    v6.src = "2001:db8::2";
    v6.dst = "2001:db8::1";
    v6.dport = 31000;
    EXPECT_EQ(run(build_packet(v6)), XDP_DROP);
    PacketSpec udp;
    udp.proto = IPPROTO_UDP;
    udp.dport = 31000;
    EXPECT_EQ(run(build_packet(udp)), XDP_DROP);
    EXPECT_EQ(global().xdp_nodeport_dropped, 2u);
}

TEST_F(XdpIngressTest, NodePortRangeOnForeignAddressIsPassed) {
    PacketSpec spec;
    spec.dst = "10.244.1.7";  // a pod behind the node
    spec.dport = 30999;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_nodeport_unallocated, 0u);
    EXPECT_EQ(global().xdp_not_ours, 1u);
}

TEST_F(XdpIngressTest, UnallocatedNodePortIsPassedWhenSettingsSayPass) {
    set_settings(30000, 32767, 0);
    PacketSpec spec;
    spec.dport = 30999;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_nodeport_unallocated, 1u);
    EXPECT_EQ(global().xdp_nodeport_dropped, 0u);
}

TEST_F(XdpIngressTest, NoSettingsMeansNoNodePortRange) {
    set_settings(0, 0, XGRESS_SETTINGS_DROP_UNALLOCATED);
    PacketSpec spec;
    spec.dport = 30999;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_nodeport_unallocated, 0u);
}

// ABI 6: the program reads the range from port_flags only; settings is the
// agent's record. A port flagged in range is judged as a NodePort even when
// settings disagree, and one not flagged is not.
TEST_F(XdpIngressTest, NodePortRangeComesFromPortFlagsNotSettings) {
    set_port_range_bits(skel_->bss->xgress_tables, 0, 0, 40000, 40000, true);
    set_port_range_bits(skel_->bss->xgress_tables, 30999, 30999, 0, 0, true);
    PacketSpec flagged;
    flagged.dport = 40000;
    EXPECT_EQ(run(build_packet(flagged)), XDP_DROP);
    PacketSpec unflagged;
    unflagged.dport = 30999;
    EXPECT_EQ(run(build_packet(unflagged)), XDP_PASS);
    // Range bit without the drop bit: counted, passed.
    set_port_range_bits(skel_->bss->xgress_tables, 0, 0, 40001, 40001, false);
    PacketSpec pass;
    pass.dport = 40001;
    EXPECT_EQ(run(build_packet(pass)), XDP_PASS);
    auto g = global();
    EXPECT_EQ(g.xdp_nodeport_unallocated, 2u);
    EXPECT_EQ(g.xdp_nodeport_dropped, 1u);
    EXPECT_EQ(g.xdp_not_ours, 1u);
    EXPECT_EQ(g.xdp_packets, 3u);
}

// A frontend on a port inside the range keeps both kinds of bits: served.
TEST_F(XdpIngressTest, ServedNodePortInsideRangeIsNotDropped) {
    PacketSpec spec;
    spec.dport = 30080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_nodeport_unallocated, 0u);
    EXPECT_EQ(stats(kNodePortId).packets, 1u);
}

// --- per-port fast path -------------------------------------------------------------

// The classifier trusts port_flags: an entry whose port carries no flag is never
// looked up (the agent sets the flag before writing the entry).
TEST_F(XdpIngressTest, EntryWithoutPortFlagIsNotLookedUp) {
    auto key = exact_key("203.0.113.40", 8080);
    xgress_frontend_value value{9, 0, 0};
    ASSERT_EQ(bpf_map__update_elem(skel_->maps.frontends, &key, sizeof(key), &value, sizeof(value), BPF_ANY), 0);
    place_vip(skel_->bss->xgress_tables, key, value);
    PacketSpec spec;
    spec.dst = "203.0.113.40";
    spec.dport = 8080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(9).packets, 0u);
    EXPECT_EQ(global().xdp_not_ours, 1u);
    mark_port(skel_->bss->xgress_tables, key);
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(9).packets, 1u);
}

// A port in the NodePort range used only by a VIP: the VIP is served, and the
// same port on a node address is still an unallocated NodePort (dropped).
TEST_F(XdpIngressTest, VipOnlyPortInsideRangeLeavesNodeAddressUnallocated) {
    add_frontend(exact_key("203.0.113.30", 30500), 10);
    PacketSpec spec;
    spec.dst = "203.0.113.30";
    spec.dport = 30500;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(10).packets, 1u);
    spec.dst = "198.18.0.1";
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    EXPECT_EQ(global().xdp_nodeport_dropped, 1u);
}

// The UDP bits do not open the port for TCP and vice versa.
TEST_F(XdpIngressTest, PortFlagsAreKeptPerProtocol) {
    add_frontend(nodeport_key(30600, IPPROTO_UDP), 11);
    PacketSpec spec;
    spec.dport = 30600;
    spec.proto = IPPROTO_UDP;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(11).packets, 1u);
    spec.proto = IPPROTO_TCP;
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);  // no TCP NodePort 30600
    EXPECT_EQ(global().xdp_nodeport_unallocated, 1u);
}

// A VIP and a NodePort sharing a port: both kinds are tried.
TEST_F(XdpIngressTest, VipAndNodePortOnOnePortBothMatch) {
    add_frontend(exact_key("203.0.113.10", 30080), 12);
    PacketSpec spec;
    spec.dport = 30080;
    spec.dst = "203.0.113.10";
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.dst = "198.18.0.1";
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(12).packets, 1u);
    EXPECT_EQ(stats(kNodePortId).packets, 1u);
}

// --- source ranges -----------------------------------------------------------------

TEST_F(XdpIngressTest, AllowedSourceIsPassedAndCounted) {
    PacketSpec spec;
    spec.src = "198.18.0.77";
    spec.dst = "203.0.113.20";
    spec.dport = 443;
    auto frame = build_packet(spec);
    EXPECT_EQ(run(frame), XDP_PASS);
    auto s = stats(kRangedVipId);
    EXPECT_EQ(s.packets, 1u);
    EXPECT_EQ(s.bytes, frame.size());
    EXPECT_EQ(s.syns, 1u);
    EXPECT_EQ(s.source_range_drops, 0u);
}

TEST_F(XdpIngressTest, DeniedSourceIsDroppedAndCounted) {
    PacketSpec spec;
    spec.src = "198.18.1.2";  // just outside 198.18.0.0/24
    spec.dst = "203.0.113.20";
    spec.dport = 443;
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    spec.syn = false;
    spec.ack = true;
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    auto s = stats(kRangedVipId);
    EXPECT_EQ(s.source_range_drops, 2u);
    EXPECT_EQ(s.packets, 0u);
    EXPECT_EQ(s.syns, 0u);
    EXPECT_EQ(global().xdp_source_denied, 2u);
}

TEST_F(XdpIngressTest, AnotherFrontendsRangeDoesNotAllow) {
    PacketSpec spec;
    spec.src = "192.0.2.9";  // allowed for id 7 only
    spec.dst = "203.0.113.20";
    spec.dport = 443;
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
}

TEST_F(XdpIngressTest, SourceRangesOnNodePortApplyToBothFamilies) {
    PacketSpec v4;
    v4.src = "10.9.8.7";
    v4.dport = 30443;
    EXPECT_EQ(run(build_packet(v4)), XDP_PASS);
    v4.src = "11.0.0.1";
    EXPECT_EQ(run(build_packet(v4)), XDP_DROP);
    PacketSpec v6;
    v6.v6 = true;
    v6.src = "2001:db8::99";
    v6.dst = "2001:db8::1";
    v6.dport = 30443;
    EXPECT_EQ(run(build_packet(v6)), XDP_PASS);
    v6.src = "2001:db8:0:1::99";  // outside the /64
    EXPECT_EQ(run(build_packet(v6)), XDP_DROP);
    // An IPv4-mapped IPv6 source is the same as the IPv4 one: 10/8 allows it.
    v6.src = "::ffff:10.1.1.1";
    EXPECT_EQ(run(build_packet(v6)), XDP_PASS);
    auto s = stats(kRangedNodePortId);
    EXPECT_EQ(s.packets, 3u);
    EXPECT_EQ(s.source_range_drops, 2u);
}

TEST_F(XdpIngressTest, FrontendWithoutRangesAllowsEverySource) {
    PacketSpec spec;
    spec.src = "192.0.2.200";
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 1u);
    EXPECT_EQ(global().xdp_source_denied, 0u);
}

TEST_F(XdpIngressTest, DeniedSourceBehindDoubleVlanIsDropped) {
    PacketSpec spec;
    spec.src = "172.16.0.1";
    spec.dport = 30443;
    spec.vlan_tpids = {0x88a8, 0x8100};
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    EXPECT_EQ(stats(kRangedNodePortId).source_range_drops, 1u);
}

TEST_F(XdpIngressTest, GlobalCountersAddUp) {
    PacketSpec served;
    served.dport = 30080;
    PacketSpec unrelated;
    unrelated.dport = 22;
    PacketSpec unallocated;
    unallocated.dport = 31000;
    for (const auto& spec : {served, unrelated, unallocated}) run(build_packet(spec));
    auto g = global();
    EXPECT_EQ(g.xdp_packets, 3u);
    EXPECT_EQ(g.xdp_matched + g.xdp_not_ours + g.xdp_nodeport_unallocated, 3u);
}


// node_addr_list: the inline copy of the node addresses the classifier checks
// before node_addrs. The fixture leaves it all zero (not complete), so every
// test above exercises the hash fallback; these exercise the list itself.
TEST_F(XdpIngressTest, NodeAddressInInlineListServesNodePortWithoutTheHash) {
    // 198.18.0.9 and 2001:db8::9 are in the list only, not in node_addrs.
    set_node_addr_list(skel_->bss->xgress_tables.node_addr_list, {"198.18.0.9", "2001:db8::9"},
                                 XGRESS_NODE_ADDR_LIST_V4_COMPLETE | XGRESS_NODE_ADDR_LIST_V6_COMPLETE);
    PacketSpec v4;
    v4.dst = "198.18.0.9";
    v4.dport = 30080;
    EXPECT_EQ(run(build_packet(v4)), XDP_PASS);
    PacketSpec v6;
    v6.v6 = true;
    v6.src = "2001:db8::2";
    v6.dst = "2001:db8::9";
    v6.dport = 30080;
    EXPECT_EQ(run(build_packet(v6)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 2u);
    v4.dport = 30999;
    EXPECT_EQ(run(build_packet(v4)), XDP_DROP) << "unallocated NodePort on a listed address";
}

TEST_F(XdpIngressTest, CompleteInlineListIsTrustedOverTheHash) {
    // 198.18.0.1 is in node_addrs (fixture) but a complete IPv4 list without
    // it says it is no longer a node address; IPv6 is not complete: hash.
    set_node_addr_list(skel_->bss->xgress_tables.node_addr_list, {"198.18.0.9"},
                                 XGRESS_NODE_ADDR_LIST_V4_COMPLETE);
    PacketSpec v4;
    v4.dst = "198.18.0.1";
    v4.dport = 30999;
    EXPECT_EQ(run(build_packet(v4)), XDP_PASS);
    EXPECT_EQ(global().xdp_nodeport_unallocated, 0u);
    PacketSpec v6;
    v6.v6 = true;
    v6.src = "2001:db8::2";
    v6.dst = "2001:db8::1";
    v6.dport = 30999;
    EXPECT_EQ(run(build_packet(v6)), XDP_DROP) << "IPv6 list incomplete: node_addrs decides";
}

TEST_F(XdpIngressTest, IncompleteInlineListFallsBackToTheHashOnAMiss) {
    // A full IPv4 list (the agent's capacity overflow case) without 198.18.0.1.
    std::vector<std::string> full;
    for (int i = 0; i < XGRESS_NODE_ADDR_INLINE_V4; ++i) full.push_back("192.0.2." + std::to_string(i + 1));
    set_node_addr_list(skel_->bss->xgress_tables.node_addr_list, full, XGRESS_NODE_ADDR_LIST_V6_COMPLETE);
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 1u) << "served through node_addrs";
    spec.dst = "192.0.2.8";  // the last inline slot
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 2u);
    spec.dst = "192.0.2.9";  // in neither
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kNodePortId).packets, 2u);
}

// The NodePort copies in port_flags (ABI 8). The fixture leaves them zero,
// so the tests above use the wildcard hash entries.
TEST_F(XdpIngressTest, NodePortCopyIsUsedBeforeTheHash) {
    constexpr std::uint32_t kCopyId = 9;  // differs from the hash entry's id: shows which one matched
    set_nodeport_copy(skel_->bss->xgress_tables, 30080, IPPROTO_TCP, {kCopyId, 0, 0});
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30080;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kCopyId).packets, 1u);
    EXPECT_EQ(stats(kNodePortId).packets, 0u);
    spec.dst = "198.18.0.77";  // not a node address: the copy is never reached
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kCopyId).packets, 1u);
    EXPECT_EQ(global().xdp_not_ours, 1u);
    // Through the general parser (a VLAN tag) the same copy answers.
    spec.dst = "198.18.0.1";
    spec.vlan_tpids = {0x8100};
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kCopyId).packets, 2u);
}

// Each protocol has its own copy in the entry: a UDP copy answers UDP only,
// and a TCP copy on the same port does not leak into it.
TEST_F(XdpIngressTest, NodePortCopiesArePerProtocol) {
    add_frontend(nodeport_key(30600, IPPROTO_UDP), 11);
    add_frontend(nodeport_key(30600, IPPROTO_TCP), 13);
    xgress_tables& tables = skel_->bss->xgress_tables;
    set_nodeport_copy(tables, 30600, IPPROTO_UDP, {21, 0, 0});
    set_nodeport_copy(tables, 30600, IPPROTO_TCP, {23, 0, 0});
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30600;
    spec.proto = IPPROTO_UDP;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.proto = IPPROTO_TCP;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(21).packets, 1u);
    EXPECT_EQ(stats(23).packets, 1u);
    EXPECT_EQ(stats(11).packets + stats(13).packets, 0u);
    // Without its copy, UDP falls back to the hash entry; TCP keeps its copy.
    set_nodeport_copy(tables, 30600, IPPROTO_UDP, {0, 0, 0});
    spec.proto = IPPROTO_UDP;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(11).packets, 1u);
    spec.proto = IPPROTO_TCP;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(23).packets, 2u);
}

TEST_F(XdpIngressTest, NodePortCopyCarriesSourceRanges) {
    // The ranged NodePort's copy: same id and flags as its hash entry.
    set_nodeport_copy(skel_->bss->xgress_tables, 30443, IPPROTO_TCP,
                      {kRangedNodePortId, 0, XGRESS_FRONTEND_SOURCE_RANGES});
    PacketSpec spec;
    spec.dst = "198.18.0.1";
    spec.dport = 30443;
    spec.src = "10.1.2.3";
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.src = "198.18.0.2";
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    EXPECT_EQ(stats(kRangedNodePortId).packets, 1u);
    EXPECT_EQ(stats(kRangedNodePortId).source_range_drops, 1u);
}

// vip_frontends: the direct-mapped copy of the VIP entries. The fixture
// places every VIP there, as the agent does.
TEST_F(XdpIngressTest, VipSlotHitNeedsNoHashEntry) {
    remove_from_hash(exact_key("203.0.113.10", 80));
    remove_from_hash(exact_key("2001:db8::10", 443));
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 1u);
    spec.v6 = true;
    spec.src = "2001:db8::2";
    spec.dst = "2001:db8::10";
    spec.dport = 443;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kV6VipId).packets, 1u);
    spec.dport = 444;  // same address, other port: the key compare says no
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(global().xdp_matched, 2u);
}

TEST_F(XdpIngressTest, VipSlotCopyWinsOverTheHash) {
    auto key = exact_key("203.0.113.10", 80);
    auto slot = vip_slot(key);
    ASSERT_EQ(slot.value.id, kVipId);
    slot.value.id = 9;  // differs from the hash entry's id: shows which one matched
    set_vip_slot(key, slot);
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(9).packets, 1u);
    EXPECT_EQ(stats(kVipId).packets, 0u);
}

TEST_F(XdpIngressTest, VipCollisionGoesToTheHashOnlyWithOverflow) {
    const auto owner = exact_key("203.0.113.10", 80);
    const auto other = vip_colliding_with(owner);
    ASSERT_NE(std::memcmp(&other, &owner, sizeof(owner)), 0) << "no colliding key found";
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, other.addr, text, sizeof(text));
    // In the hash only, the slot owned by another VIP, OVERFLOW clear: absent.
    xgress_frontend_value value{20, 0, 0};
    ASSERT_EQ(bpf_map__update_elem(skel_->maps.frontends, &other, sizeof(other), &value, sizeof(value), BPF_ANY),
              0);
    PacketSpec spec;
    spec.dst = text;
    spec.dport = 80;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(20).packets, 0u);
    EXPECT_EQ(global().xdp_not_ours, 1u);
    // OVERFLOW set (what place_vip does for the second VIP of a slot): found.
    place_vip(skel_->bss->xgress_tables, other, value);
    EXPECT_EQ(vip_slot(owner).flags, static_cast<std::uint32_t>(XGRESS_VIP_SLOT_OVERFLOW));
    EXPECT_EQ(vip_slot(owner).value.id, kVipId);
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(20).packets, 1u);
    spec.dst = "203.0.113.10";  // the owner still served from the slot
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 1u);
}

TEST_F(XdpIngressTest, EmptyVipSlotWithoutOverflowMeansAbsent) {
    // A hash entry whose slot is empty and not flagged is not looked up: the
    // slot array is authoritative for "no VIP here".
    const auto key = exact_key("203.0.113.50", 80);
    xgress_frontend_value value{21, 0, 0};
    ASSERT_EQ(bpf_map__update_elem(skel_->maps.frontends, &key, sizeof(key), &value, sizeof(value), BPF_ANY), 0);
    ASSERT_EQ(vip_slot(key).value.id, 0u);
    PacketSpec spec;
    spec.dst = "203.0.113.50";
    spec.dport = 80;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(21).packets, 0u);
    xgress_vip_slot flagged{};
    flagged.flags = XGRESS_VIP_SLOT_OVERFLOW;
    set_vip_slot(key, flagged);
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(21).packets, 1u);
}

TEST_F(XdpIngressTest, VipSlotCarriesSourceRanges) {
    remove_from_hash(exact_key("203.0.113.20", 443));  // only the copy is left
    PacketSpec spec;
    spec.dst = "203.0.113.20";
    spec.dport = 443;
    spec.src = "198.18.0.2";  // inside 198.18.0.0/24
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.src = "10.1.2.3";
    EXPECT_EQ(run(build_packet(spec)), XDP_DROP);
    EXPECT_EQ(stats(kRangedVipId).packets, 1u);
    EXPECT_EQ(stats(kRangedVipId).source_range_drops, 1u);
}

// Untagged IPv4 TCP without options takes the program's fast path; with an
// option word or a VLAN tag the same packet goes through the general parser.
// Both must reach the same decision and move the same counters, for every
// outcome: served VIP / NodePort (SYN, ACK, SYN+ACK), allowed and denied
// sources (the fast path reads the source itself), unallocated NodePort,
// foreign address, unrelated port, a first fragment.
TEST_F(XdpIngressTest, Ipv4TcpFastPathAndGeneralParserAgree) {
    struct Case {
        const char* name;
        std::string src, dst;
        std::uint16_t dport;
        bool syn, ack;
        std::uint16_t frag_off = 0x4000;
    };
    const Case cases[] = {
        {"vip syn", "198.18.0.2", "203.0.113.10", 80, true, false},
        {"vip ack", "198.18.0.2", "203.0.113.10", 80, false, true},
        {"vip syn+ack", "198.18.0.2", "203.0.113.10", 80, true, true},
        {"nodeport syn", "198.18.0.2", "198.18.0.1", 30080, true, false},
        {"ranged vip allowed", "198.18.0.77", "203.0.113.20", 443, true, false},
        {"ranged vip denied", "198.18.1.2", "203.0.113.20", 443, true, false},
        {"ranged nodeport allowed", "10.1.2.3", "198.18.0.1", 30443, false, true},
        {"ranged nodeport denied", "11.1.2.3", "198.18.0.1", 30443, true, false},
        {"unallocated nodeport", "198.18.0.2", "198.18.0.1", 30999, true, false},
        {"nodeport on foreign address", "198.18.0.2", "198.18.0.9", 30080, true, false},
        {"unrelated port", "198.18.0.2", "198.18.0.1", 22, true, false},
        {"first fragment (MF)", "198.18.0.2", "203.0.113.10", 80, true, false, 0x2000},
        {"no DF, offset 0", "198.18.0.2", "203.0.113.10", 80, true, false, 0x0000},
        {"MF and DF, offset 0", "198.18.0.2", "198.18.0.1", 30080, true, false, 0x6000},
    };
    struct Outcome {
        int verdict;
        xgress_global_stats global;
        std::map<std::uint32_t, xgress_frontend_stats> frontends;
    };
    const std::uint32_t ids[] = {kVipId, kNodePortId, kRangedVipId, kRangedNodePortId};
    auto delta = [&](const std::vector<std::uint8_t>& frame) {
        const auto g0 = global();
        std::map<std::uint32_t, xgress_frontend_stats> f0;
        for (auto id : ids) f0[id] = stats(id);
        Outcome o{run(frame), global(), {}};
#define XGRESS_SUBTRACT(field) o.global.field -= g0.field;
        XGRESS_GLOBAL_STATS_FIELDS(XGRESS_SUBTRACT)
#undef XGRESS_SUBTRACT
        for (auto id : ids) {
            auto s = stats(id);
            s.packets -= f0[id].packets;
            s.bytes -= f0[id].bytes;
            s.syns -= f0[id].syns;
            s.source_range_drops -= f0[id].source_range_drops;
            o.frontends[id] = s;
        }
        return o;
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        PacketSpec spec;
        spec.src = c.src;
        spec.dst = c.dst;
        spec.dport = c.dport;
        spec.syn = c.syn;
        spec.ack = c.ack;
        spec.ipv4_frag_off = c.frag_off;
        const auto plain_frame = build_packet(spec);
        const Outcome plain = delta(plain_frame);
        std::uint64_t counted = 0;
        for (auto id : ids) counted += plain.frontends.at(id).packets + plain.frontends.at(id).source_range_drops;
        EXPECT_EQ(plain.global.xdp_matched, counted);
        EXPECT_EQ(plain.global.xdp_unparsed + plain.global.xdp_fragments, 0u) << "classified, not given up on";
        PacketSpec with_options = spec;
        with_options.ipv4_options = 4;
        PacketSpec tagged = spec;
        tagged.vlan_tpids = {0x8100};
        for (const PacketSpec& other : {with_options, tagged}) {
            const auto frame = build_packet(other);
            const Outcome o = delta(frame);
            EXPECT_EQ(o.verdict, plain.verdict);
            EXPECT_EQ(0, std::memcmp(&o.global, &plain.global, sizeof(o.global)));
            for (auto id : ids) {
                SCOPED_TRACE(id);
                const auto& a = o.frontends.at(id);
                const auto& b = plain.frontends.at(id);
                EXPECT_EQ(a.packets, b.packets);
                EXPECT_EQ(a.syns, b.syns);
                EXPECT_EQ(a.source_range_drops, b.source_range_drops);
                // bytes: the whole frame, so each framing its own length
                EXPECT_EQ(a.bytes, b.packets ? frame.size() : 0u);
                EXPECT_EQ(b.bytes, b.packets ? plain_frame.size() : 0u);
            }
        }
    }
}

TEST_F(XdpIngressTest, OnlyASynWithoutAckIsCountedAsSyn) {
    PacketSpec spec;
    spec.dst = "203.0.113.10";
    spec.dport = 80;
    spec.syn = true;
    spec.ack = true;  // the server's answer, or a spoofed one: not a new connection
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.ack = false;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    spec.syn = false;
    EXPECT_EQ(run(build_packet(spec)), XDP_PASS);
    EXPECT_EQ(stats(kVipId).packets, 3u);
    EXPECT_EQ(stats(kVipId).syns, 1u);
}

}  // namespace
}  // namespace xgress::test

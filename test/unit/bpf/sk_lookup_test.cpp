// sk_lookup steering through BPF_PROG_TEST_RUN (kernel >= 5.13): the kernel
// reports the cookie of the socket the program selected, so a real listening
// socket in the SOCKMAP can be checked without moving any packet.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "map_helpers.h"
#include "sk_lookup.skel.h"

namespace xgress::test {
namespace {

constexpr std::uint32_t kSlot = 3;

class SkLookupTest : public ::testing::Test {
protected:
    void SetUp() override {
        skel_ = sk_lookup_bpf__open();
        ASSERT_NE(skel_, nullptr);
        unpin_all_maps(skel_->obj);
        ASSERT_EQ(sk_lookup_bpf__load(skel_), 0) << "needs CAP_BPF";

        add_frontend(nodeport_key(30080), {1, kSlot, 0});
        add_frontend(exact_key("203.0.113.10", 80), {2, kSlot + 1, 0});  // slot left empty
        auto node = node_key("198.18.0.1");
        xgress_node_addr_value nv{};
        ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.node_addrs), &node, &nv, BPF_ANY), 0);

        listener_ = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_GE(listener_, 0);
        // No SO_REUSEPORT here: test runs refuse to select a reuseport socket
        // (-EOPNOTSUPP); the reuseport case is covered by the dataplane test.
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        ASSERT_EQ(listen(listener_, 16), 0);
        socklen_t len = sizeof(cookie_);
        ASSERT_EQ(getsockopt(listener_, SOL_SOCKET, SO_COOKIE, &cookie_, &len), 0);

        std::uint32_t slot = kSlot;
        std::uint64_t fd = static_cast<std::uint64_t>(listener_);  // SOCKMAP value is 8 bytes
        ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.listeners), &slot, &fd, BPF_ANY), 0);
    }
    void TearDown() override {
        sk_lookup_bpf__destroy(skel_);
        if (listener_ >= 0) close(listener_);
        for (int fd : extra_) close(fd);
    }

    // Returns the selected socket's cookie (0 = none selected).
    std::uint64_t run(const char* local_ip4, std::uint16_t local_port, std::uint32_t proto = IPPROTO_TCP,
                      const char* remote_ip4 = "198.18.0.2") {
        bpf_sk_lookup ctx{};
        ctx.family = AF_INET;
        ctx.protocol = proto;
        inet_pton(AF_INET, remote_ip4, &ctx.remote_ip4);
        ctx.remote_port = htons(40000);
        inet_pton(AF_INET, local_ip4, &ctx.local_ip4);
        ctx.local_port = local_port;
        bpf_sk_lookup out{};
        LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_out = &out, .ctx_size_in = sizeof(ctx),
                    .ctx_size_out = sizeof(out), .repeat = 1);
        int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.xgress_sk_lookup), &opts);
        EXPECT_EQ(err, 0) << "sk_lookup test runs need kernel >= 5.13";
        EXPECT_EQ(opts.retval, static_cast<__u32>(SK_PASS));
        return out.cookie;
    }
    std::uint64_t run6(const char* local_ip6, std::uint16_t local_port, const char* remote_ip6 = "2001:db8::2") {
        bpf_sk_lookup ctx{};
        ctx.family = AF_INET6;
        ctx.protocol = IPPROTO_TCP;
        inet_pton(AF_INET6, remote_ip6, ctx.remote_ip6);
        ctx.remote_port = htons(40000);
        inet_pton(AF_INET6, local_ip6, ctx.local_ip6);
        ctx.local_port = local_port;
        bpf_sk_lookup out{};
        LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_out = &out, .ctx_size_in = sizeof(ctx),
                    .ctx_size_out = sizeof(out), .repeat = 1);
        int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.xgress_sk_lookup), &opts);
        EXPECT_EQ(err, 0);
        return out.cookie;
    }
    void add_frontend(const xgress_frontend_key& key, xgress_frontend_value value) {
        ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.frontends), &key, &value, BPF_ANY), 0);
        mark_port(skel_->bss->xgress_tables, key);
        if (!(key.flags & XGRESS_FRONTEND_KEY_NODEPORT)) {
            place_vip(skel_->bss->xgress_tables, key, value);
        }
    }
    void add_range(const xgress_source_range_key& key) {
        xgress_source_range_value value{};
        ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.source_ranges), &key, &value, BPF_ANY), 0);
    }
    // A socket of `type`/`family` bound on loopback, put in SOCKMAP `slot`; returns its cookie.
    // AF_INET6 sockets bind the wildcard [::] (random port) unless v6only: the
    // kernel makes a socket bound to a specific IPv6 address (even ::1)
    // v6-only, and a v6-only socket cannot take IPv4 lookups.
    std::uint64_t install(int family, int type, std::uint32_t slot, bool v6only = false) {
        int fd = socket(family, type, 0);
        EXPECT_GE(fd, 0);
        extra_.push_back(fd);
        if (family == AF_INET6) {
            int value = v6only ? 1 : 0;
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &value, sizeof(value));
            sockaddr_in6 addr{};
            addr.sin6_family = AF_INET6;
            addr.sin6_addr = v6only ? in6addr_loopback : in6addr_any;
            EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        } else {
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        }
        if (type == SOCK_STREAM) {
            EXPECT_EQ(listen(fd, 16), 0);
        }
        std::uint64_t cookie = 0;
        socklen_t len = sizeof(cookie);
        EXPECT_EQ(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
        std::uint64_t value = static_cast<std::uint64_t>(fd);
        EXPECT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.listeners), &slot, &value, BPF_ANY), 0);
        return cookie;
    }
    std::vector<int> extra_;
    xgress_global_stats global() { return sum_global_stats(bpf_map__fd(skel_->maps.global_stats)); }

    sk_lookup_bpf* skel_ = nullptr;
    int listener_ = -1;
    std::uint64_t cookie_ = 0;
};

TEST_F(SkLookupTest, NodePortOnNodeAddressSelectsListener) {
    EXPECT_EQ(run("198.18.0.1", 30080), cookie_);
    EXPECT_EQ(global().sk_lookup_assigned, 1u);
}

TEST_F(SkLookupTest, NodePortOnForeignAddressIsLeftAlone) {
    EXPECT_EQ(run("10.244.1.7", 30080), 0u);
    EXPECT_EQ(global().sk_lookup_assigned, 0u);
}

TEST_F(SkLookupTest, UnknownPortIsLeftAlone) { EXPECT_EQ(run("198.18.0.1", 30081), 0u); }

// The fast path: an entry whose port carries no port_flags bit is not consulted.
TEST_F(SkLookupTest, EntryWithoutPortFlagIsLeftAlone) {
    auto key = nodeport_key(30090);
    xgress_frontend_value value{3, kSlot, 0};
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.frontends), &key, &value, BPF_ANY), 0);
    EXPECT_EQ(run("198.18.0.1", 30090), 0u);
    mark_port(skel_->bss->xgress_tables, key);
    EXPECT_NE(run("198.18.0.1", 30090), 0u);
}

TEST_F(SkLookupTest, UdpIsLeftAlone) { EXPECT_EQ(run("198.18.0.1", 30080, IPPROTO_UDP), 0u); }

TEST_F(SkLookupTest, EmptySlotFallsThrough) {
    EXPECT_EQ(run("203.0.113.10", 80), 0u);
    EXPECT_EQ(global().sk_lookup_no_listener, 1u);
}

TEST_F(SkLookupTest, SourceOutsideRangesIsNotSteered) {
    add_frontend(nodeport_key(30443), {5, kSlot, XGRESS_FRONTEND_SOURCE_RANGES});
    add_range(range_key(5, "198.18.0.0/24"));
    EXPECT_EQ(run("198.18.0.1", 30443, IPPROTO_TCP, "198.18.0.2"), cookie_);
    EXPECT_EQ(run("198.18.0.1", 30443, IPPROTO_TCP, "192.0.2.1"), 0u);
    EXPECT_EQ(global().sk_lookup_source_denied, 1u);
    EXPECT_EQ(global().sk_lookup_assigned, 1u);
}

TEST_F(SkLookupTest, UdpFrontendSelectsUdpSocket) {
    const std::uint32_t slot = 10;
    const std::uint64_t udp_cookie = install(AF_INET, SOCK_DGRAM, slot);
    add_frontend(exact_key("203.0.113.10", 53, IPPROTO_UDP), {6, slot, 0});
    EXPECT_EQ(run("203.0.113.10", 53, IPPROTO_UDP), udp_cookie);
    EXPECT_EQ(run("203.0.113.10", 53, IPPROTO_TCP), 0u);  // TCP 53 is no frontend
}

TEST_F(SkLookupTest, Ipv6NodePortSelectsDualStackListener) {
    // IPv6 connections need an AF_INET6 listener: the kernel refuses to assign
    // an AF_INET socket to an IPv6 lookup (counted as assign_failed). A
    // dual-stack AF_INET6 socket (bound to [::], not v6only) takes both.
    const std::uint32_t slot = 11;
    const std::uint64_t v6_cookie = install(AF_INET6, SOCK_STREAM, slot);
    add_frontend(nodeport_key(30444), {7, slot, 0});
    auto node = node_key("2001:db8::1");
    xgress_node_addr_value nv{};
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.node_addrs), &node, &nv, BPF_ANY), 0);
    EXPECT_EQ(run6("2001:db8::1", 30444), v6_cookie);
    EXPECT_EQ(run("198.18.0.1", 30444), v6_cookie);
    EXPECT_EQ(run6("2001:db8::99", 30444), 0u);  // not a node address
}

TEST_F(SkLookupTest, Ipv4LookupOnV6OnlyListenerFailsAndIsCounted) {
    const std::uint32_t slot = 12;
    install(AF_INET6, SOCK_STREAM, slot, /*v6only=*/true);  // bound to ::1
    add_frontend(nodeport_key(30445), {8, slot, 0});
    EXPECT_EQ(run("198.18.0.1", 30445), 0u);
    EXPECT_EQ(global().sk_lookup_assign_failed, 1u);
}

TEST_F(SkLookupTest, Ipv6LookupOnIpv4ListenerFailsAndIsCounted) {
    auto node = node_key("2001:db8::1");
    xgress_node_addr_value nv{};
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.node_addrs), &node, &nv, BPF_ANY), 0);
    EXPECT_EQ(run6("2001:db8::1", 30080), 0u);
    EXPECT_EQ(global().sk_lookup_assign_failed, 1u);
}


// The array copies (node_addr_list, the NodePort copies in port_flags) are
// shared with XDP: a NodePort reached only through them steers to the copy's
// slot.
TEST_F(SkLookupTest, NodePortThroughTheArrayCopiesSteersToTheCopysSlot) {
    set_node_addr_list(skel_->bss->xgress_tables.node_addr_list, {"198.18.0.9"},
                                 XGRESS_NODE_ADDR_LIST_V4_COMPLETE | XGRESS_NODE_ADDR_LIST_V6_COMPLETE);
    // Another slot than the hash entry's, to tell which entry matched.
    const std::uint64_t other = install(AF_INET, SOCK_STREAM, kSlot + 2);
    const xgress_frontend_value copy{1, kSlot + 2, 0};
    set_nodeport_copy(skel_->bss->xgress_tables, 30080, IPPROTO_TCP, copy);
    EXPECT_EQ(run("198.18.0.9", 30080), other) << "listed address, copied entry";
    EXPECT_EQ(run("198.18.0.1", 30080), 0u) << "complete list without it: not a node address any more";
}

// vip_frontends is shared with XDP: a VIP in its slot steers without a hash
// entry; a colliding VIP in the hash steers once its slot says OVERFLOW.
TEST_F(SkLookupTest, VipThroughTheSlotAndThroughOverflow) {
    const std::uint64_t other = install(AF_INET, SOCK_STREAM, kSlot + 3);
    const auto owner = exact_key("203.0.113.10", 80);
    ASSERT_EQ(bpf_map_delete_elem(bpf_map__fd(skel_->maps.frontends), &owner), 0);
    skel_->bss->xgress_tables.vip_frontends[xgress_vip_slot_index(&owner)].value.listener_slot = kSlot;
    EXPECT_EQ(run("203.0.113.10", 80), cookie_) << "slot only";

    const auto colliding = vip_colliding_with(owner);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, colliding.addr, text, sizeof(text));
    const xgress_frontend_value value{9, kSlot + 3, 0};
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(skel_->maps.frontends), &colliding, &value, BPF_ANY), 0);
    EXPECT_EQ(run(text, 80), 0u) << "hash only, OVERFLOW clear";
    place_vip(skel_->bss->xgress_tables, colliding, value);
    EXPECT_EQ(run(text, 80), other) << "hash, OVERFLOW set";
    EXPECT_EQ(run("203.0.113.10", 80), cookie_);
}

}  // namespace
}  // namespace xgress::test

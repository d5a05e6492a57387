// Dataplane against the real kernel, inside a private network and mount
// namespace (root): open() pins maps and attaches XDP and sk_lookup,
// apply_frontends() reconciles the map, a NodePort connection from a peer
// namespace reaches a loopback SO_REUSEPORT listener through the SOCKMAP, and
// cleanup() leaves no pin behind.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane.h"
#include "local_routes.h"
#include "map_helpers.h"
#include "netns_sandbox.h"

namespace xgress::test {
namespace {

namespace dp = xgress::agent::dataplane;

dp::IpAddress ipv4(const std::string& text) {
    dp::IpAddress address;
    inet_pton(AF_INET, text.c_str(), address.bytes.data());
    return address;
}

dp::IpAddress ipv6(const char* text) {
    dp::IpAddress address;
    address.v6 = true;
    inet_pton(AF_INET6, text, address.bytes.data());
    return address;
}

dp::FrontendSpec node_port(std::uint16_t port, std::uint32_t slot, std::string name) {
    dp::FrontendSpec spec;
    spec.node_port = true;
    spec.port = port;
    spec.listener_slot = slot;
    spec.name = std::move(name);
    return spec;
}

dp::FrontendSpec vip(const char* address, std::uint16_t port, std::uint32_t slot, std::string name) {
    dp::FrontendSpec spec;
    spec.address = ipv4(address);
    spec.port = port;
    spec.listener_slot = slot;
    spec.name = std::move(name);
    return spec;
}

bool exists(const std::string& path) {
    struct stat st{};
    return stat(path.c_str(), &st) == 0;
}

// The program attached to `interface`; with XDP_FLAGS_DRV_MODE or
// XDP_FLAGS_SKB_MODE, only one attached in that mode (0 when none).
std::uint32_t xdp_prog_id(const std::string& interface, __u32 mode = 0) {
    __u32 id = 0;
    bpf_xdp_query_id(static_cast<int>(if_nametoindex(interface.c_str())), static_cast<int>(mode), &id);
    return id;
}

class DataplaneTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(sandbox_.enter(), "");
        ASSERT_EQ(sandbox_.make_peer(), "");
        pid_ = std::to_string(getpid() % 100000);
        node_if_ = "xg1n" + pid_;
        peer_if_ = "xg1p" + pid_;
        ASSERT_EQ(run_command(fmt::format("ip link add {} type veth peer name {} netns {}", node_if_, peer_if_,
                                          sandbox_.peer_path())),
                  0);
        ASSERT_EQ(run_command(fmt::format("ip addr add 198.18.0.1/24 dev {}", node_if_)), 0);
        ASSERT_EQ(run_command(fmt::format("ip link set {} up", node_if_)), 0);
        ASSERT_EQ(run_command(sandbox_.in_peer(fmt::format("ip addr add 198.18.0.2/24 dev {}", peer_if_))), 0);
        ASSERT_EQ(run_command(sandbox_.in_peer(fmt::format("ip link set {} up", peer_if_))), 0);
        ASSERT_EQ(run_command(sandbox_.in_peer("ip link set lo up")), 0);

        options_.pin_root = sandbox_.bpffs() + "/xgress";
        options_.interfaces = {node_if_};
        setenv("LIBXDP_BPFFS", sandbox_.bpffs().c_str(), 1);
    }
    void TearDown() override {
        auto ok = dp::Dataplane::cleanup(options_);
        EXPECT_TRUE(ok) << ok.error().message;
        EXPECT_FALSE(exists(options_.pin_root)) << "cleanup left " << options_.pin_root;
    }

    std::string pin(const char* name) const { return options_.pin_root + "/" + name; }

    // Copies out of the pinned tables map (ABI 9: port_flags and
    // vip_frontends, the programs' global data), read through an mmap.
    xgress_port_flags pinned_port_entry(std::uint32_t port) {
        xgress_port_flags entry{};
        with_pinned_tables([&](xgress_tables& tables) { entry = tables.port_flags[port]; });
        return entry;
    }
    xgress_vip_slot pinned_vip_slot(std::uint32_t index) {
        xgress_vip_slot slot{};
        with_pinned_tables([&](xgress_tables& tables) { slot = tables.vip_frontends[index]; });
        return slot;
    }
    template <class F>
    void with_pinned_tables(F&& f) {
        int fd = bpf_obj_get(pin(XGRESS_MAP_TABLES).c_str());
        ASSERT_GE(fd, 0) << "no " << XGRESS_MAP_TABLES << " pin";
        MappedTables mapped(fd);
        close(fd);  // the mapping holds the map
        ASSERT_NE(mapped.get(), nullptr) << "mmap of the tables map";
        f(*mapped.get());
    }

    // Frontends as read back from the pinned map, keyed by description.
    std::map<std::string, xgress_frontend_value> pinned_frontends() {
        std::map<std::string, xgress_frontend_value> out;
        int fd = bpf_obj_get(pin(XGRESS_MAP_FRONTENDS).c_str());
        EXPECT_GE(fd, 0);
        xgress_frontend_key key{}, next{};
        for (void* prev = nullptr; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &key) {
            key = next;
            xgress_frontend_value value{};
            bpf_map_lookup_elem(fd, &key, &value);
            char text[64] = {};
            inet_ntop(AF_INET, key.addr, text, sizeof(text));
            const bool wildcard = key.flags & XGRESS_FRONTEND_KEY_NODEPORT;
            out[fmt::format("{}:{}", wildcard ? "*node*" : text, ntohs(key.port))] = value;
        }
        close(fd);
        return out;
    }

    NetnsSandbox sandbox_;
    std::string pid_, node_if_, peer_if_;
    dp::Options options_;
};

TEST_F(DataplaneTest, OpenPinsAttachesAndCleanupRemovesEverything) {
    {
        auto dataplane = dp::Dataplane::open(options_);
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        for (const char* name : {XGRESS_MAP_FRONTENDS, XGRESS_MAP_NODE_ADDRS, XGRESS_MAP_FRONTEND_STATS,
                                 XGRESS_MAP_GLOBAL_STATS, XGRESS_MAP_LISTENERS, XGRESS_MAP_ABI_INFO,
                                 XGRESS_MAP_TABLES, XGRESS_MAP_FRONTEND_STATS_BASE})
            EXPECT_TRUE(exists(pin(name))) << name;
        EXPECT_FALSE(exists(pin(XGRESS_MAP_NODEPORT_FRONTENDS))) << "retired in ABI 8";
        EXPECT_FALSE(exists(pin(XGRESS_MAP_PORT_FLAGS))) << "inside tables since ABI 9";
        EXPECT_FALSE(exists(pin(XGRESS_MAP_VIP_FRONTENDS))) << "inside tables since ABI 9";
        EXPECT_FALSE(exists(pin(XGRESS_MAP_NODE_ADDR_LIST))) << "inside tables since ABI 10";
        EXPECT_TRUE(exists(options_.pin_root + "/links/sk_lookup"));
        EXPECT_NE(xdp_prog_id(node_if_), 0u);
        // veth has native XDP: attached in driver mode (through libxdp, alone
        // where the kernel refuses its dispatcher), never the generic fallback.
        EXPECT_EQ(xdp_prog_id(node_if_, XDP_FLAGS_DRV_MODE), xdp_prog_id(node_if_));
        EXPECT_EQ(xdp_prog_id(node_if_, XDP_FLAGS_SKB_MODE), 0u);
    }
    // The destructor leaves everything in place: a restarted agent reuses it.
    EXPECT_TRUE(exists(pin(XGRESS_MAP_FRONTENDS)));
    const auto attached = xdp_prog_id(node_if_);
    EXPECT_NE(attached, 0u);
    {
        auto again = dp::Dataplane::open(options_);
        ASSERT_TRUE(again) << again.error().message;
        EXPECT_EQ(xdp_prog_id(node_if_), attached) << "restart must not re-attach XDP";
    }

    auto ok = dp::Dataplane::cleanup(options_);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_FALSE(exists(options_.pin_root));
    EXPECT_EQ(xdp_prog_id(node_if_), 0u);
    // Twice is fine: nothing there.
    EXPECT_TRUE(dp::Dataplane::cleanup(options_));
}

TEST_F(DataplaneTest, ApplyFrontendsDiffsAndKeepsIdsStable) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;

    ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 0, "xgress-system/xgress:http"),
                                            vip("203.0.113.10", 80, 1, "default/lb:http")}));
    auto first = pinned_frontends();
    ASSERT_EQ(first.size(), 2u);
    const auto np_id = first.at("*node*:30080").id;
    const auto vip_id = first.at("203.0.113.10:80").id;
    EXPECT_NE(np_id, vip_id);
    EXPECT_NE(np_id, 0u);
    EXPECT_EQ(first.at("203.0.113.10:80").listener_slot, 1u);

    // Change the VIP's slot, drop the NodePort: the VIP keeps its id.
    ASSERT_TRUE(dataplane->apply_frontends({vip("203.0.113.10", 80, 2, "default/lb:http")}));
    auto second = pinned_frontends();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second.at("203.0.113.10:80").id, vip_id);
    EXPECT_EQ(second.at("203.0.113.10:80").listener_slot, 2u);

    // Dirty the freed id's counters; a new frontend reusing the id starts at
    // zero, and the raw counters are not reset (ABI 7): the derived
    // xdp_matched, their sum over ids, does not go back.
    int stats_fd = bpf_obj_get(pin(XGRESS_MAP_FRONTEND_STATS).c_str());
    int base_fd = bpf_obj_get(pin(XGRESS_MAP_FRONTEND_STATS_BASE).c_str());
    ASSERT_GE(stats_fd, 0);
    ASSERT_GE(base_fd, 0);
    const auto cpus = static_cast<std::uint64_t>(libbpf_num_possible_cpus());
    std::vector<xgress_frontend_stats> dirty(cpus, xgress_frontend_stats{5, 500, 1, 2});
    ASSERT_EQ(bpf_map_update_elem(stats_fd, &np_id, dirty.data(), BPF_ANY), 0);
    const std::uint64_t matched_before = derive_xdp_matched(stats_fd);
    EXPECT_EQ(matched_before, 7 * cpus);
    ASSERT_TRUE(dataplane->apply_frontends(
        {vip("203.0.113.10", 80, 2, "default/lb:http"), node_port(30443, 0, "xgress-system/xgress:https")}));
    auto third = pinned_frontends();
    ASSERT_EQ(third.size(), 2u);
    EXPECT_EQ(third.at("*node*:30443").id, np_id) << "lowest free id is reused";
    const auto own = sum_frontend_stats(stats_fd, np_id, base_fd);
    EXPECT_EQ(own.packets, 0u);
    EXPECT_EQ(own.bytes, 0u);
    EXPECT_EQ(own.syns, 0u);
    EXPECT_EQ(own.source_range_drops, 0u);
    EXPECT_EQ(sum_frontend_stats(stats_fd, np_id).packets, 5 * cpus) << "raw counters are kept";
    EXPECT_EQ(derive_xdp_matched(stats_fd), matched_before);
    // Counting goes on from the base: the new frontend sees only its own.
    std::vector<xgress_frontend_stats> more(cpus, xgress_frontend_stats{6, 600, 1, 2});
    ASSERT_EQ(bpf_map_update_elem(stats_fd, &np_id, more.data(), BPF_ANY), 0);
    EXPECT_EQ(sum_frontend_stats(stats_fd, np_id, base_fd).packets, cpus);
    EXPECT_EQ(sum_frontend_stats(stats_fd, np_id, base_fd).bytes, 100 * cpus);
    EXPECT_GT(derive_xdp_matched(stats_fd), matched_before);
    close(base_fd);
    close(stats_fd);

    // Invalid input changes nothing.
    auto bad = dataplane->apply_frontends({node_port(30080, 99, "x/y:z")});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("x/y:z"), std::string::npos);
    EXPECT_EQ(pinned_frontends().size(), 2u);
}

// The maps' contents are read back once per process, then tracked: a later
// apply writes only its own change and an unchanged one writes nothing, and
// ApplyStats says so. The map still ends up exactly as desired.
TEST_F(DataplaneTest, ApplyTracksMapContentsAndCountsOnlyItsOwnWrites) {
    {
        auto previous = dp::Dataplane::open(options_);
        ASSERT_TRUE(previous) << previous.error().message;
        ASSERT_TRUE(previous->apply_frontends({node_port(30080, 0, "a/np:http"), vip("203.0.113.10", 80, 0, "a/lb:http")}));
    }
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    const std::vector<dp::FrontendSpec> two = {node_port(30080, 0, "a/np:http"), vip("203.0.113.10", 80, 0, "a/lb:http")};

    // First apply of this process: reads back what the previous one pinned; nothing to write.
    ASSERT_TRUE(dataplane->apply_frontends(two));
    EXPECT_GT(dataplane->last_apply_stats().map_read_calls, 0u);
    EXPECT_EQ(dataplane->last_apply_stats().written, 0u);
    EXPECT_EQ(dataplane->last_apply_stats().frontends, 2u);

    // Unchanged: no read, no write.
    ASSERT_TRUE(dataplane->apply_frontends(two));
    EXPECT_EQ(dataplane->last_apply_stats().map_read_calls, 0u);
    EXPECT_EQ(dataplane->last_apply_stats().map_write_calls, 0u);

    // One frontend goes: one delete, a few writes (copies, port flags), no read.
    ASSERT_TRUE(dataplane->apply_frontends({two[1]}));
    const dp::ApplyStats removed = dataplane->last_apply_stats();
    EXPECT_EQ(removed.map_read_calls, 0u);
    EXPECT_EQ(removed.deleted, 1u);
    EXPECT_EQ(removed.written, 0u);
    EXPECT_GE(removed.map_write_calls, 2u);  // the NodePort array copy, then the hash entry
    EXPECT_LE(removed.map_write_calls, 4u);  // + port_flags; nothing else
    EXPECT_EQ(pinned_frontends().size(), 1u);

    // It comes back: written again (stats, name, entry, array copy, port flags), and the map agrees.
    ASSERT_TRUE(dataplane->apply_frontends(two));
    EXPECT_EQ(dataplane->last_apply_stats().written, 1u);
    EXPECT_EQ(dataplane->last_apply_stats().map_read_calls, 0u);
    EXPECT_LE(dataplane->last_apply_stats().map_write_calls, 6u);
    EXPECT_EQ(pinned_frontends().size(), 2u);

    // A rejected plan writes nothing and keeps the tracked contents valid.
    ASSERT_FALSE(dataplane->apply_frontends({node_port(30080, 99, "x/y:z")}));
    ASSERT_TRUE(dataplane->apply_frontends(two));
    EXPECT_EQ(dataplane->last_apply_stats().map_write_calls, 0u);
    EXPECT_EQ(pinned_frontends().size(), 2u);
}

// port_flags follows the frontends: a port shared by two frontends keeps its
// bit until the last one goes, VIP / NodePort and TCP / UDP bits are separate,
// and a restarted agent starts from what the pinned map holds.
TEST_F(DataplaneTest, PortFlagsFollowFrontendsIncludingSharedPorts) {
    auto flags_of = [&](std::uint32_t port) { return pinned_port_entry(port).flags; };
    auto udp = [](dp::FrontendSpec spec) {
        spec.protocol = dp::Protocol::Udp;
        return spec;
    };
    const auto a = vip("203.0.113.10", 80, 0, "default/a:http");
    const auto b = vip("203.0.113.11", 80, 0, "default/b:http");
    const auto np = node_port(30080, 0, "xgress-system/xgress:http");
    const auto dns = udp(node_port(30053, 0, "kube-system/dns:dns"));
    // Ports inside the NodePort range (default 30000-32767, drop) also carry
    // the range bits the XDP program reads (ABI 6).
    const std::uint8_t range = XGRESS_PORT_NODEPORT_RANGE | XGRESS_PORT_DROP_UNALLOCATED;
    {
        auto dataplane = dp::Dataplane::open(options_);
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        EXPECT_EQ(flags_of(80), 0);
        EXPECT_EQ(flags_of(29999), 0);
        EXPECT_EQ(flags_of(30000), range);
        EXPECT_EQ(flags_of(32767), range);
        EXPECT_EQ(flags_of(32768), 0);
        ASSERT_TRUE(dataplane->apply_frontends({a, b, np, dns}));
        EXPECT_EQ(flags_of(80), XGRESS_PORT_TCP_VIP);
        EXPECT_EQ(flags_of(30080), XGRESS_PORT_TCP_NODEPORT | range);
        EXPECT_EQ(flags_of(30053), XGRESS_PORT_UDP_NODEPORT | range);
        EXPECT_EQ(flags_of(22), 0);

        ASSERT_TRUE(dataplane->apply_frontends({b, np, dns}));  // one of the two on :80 goes
        EXPECT_EQ(flags_of(80), XGRESS_PORT_TCP_VIP);
        ASSERT_TRUE(dataplane->apply_frontends({b, np, dns, vip("203.0.113.12", 30080, 0, "default/c:x")}));
        EXPECT_EQ(flags_of(30080), XGRESS_PORT_TCP_NODEPORT | XGRESS_PORT_TCP_VIP | range);
    }
    // A restarted agent reads the map back: removing frontends clears bits it
    // did not set itself. Its options move the range and turn drop off: the
    // range bits follow, the frontend bits stay.
    options_.node_port_min = 30050;
    options_.node_port_max = 30100;
    options_.drop_unallocated_node_ports = false;
    auto restarted = dp::Dataplane::open(options_);
    ASSERT_TRUE(restarted) << restarted.error().message;
    EXPECT_EQ(flags_of(30000), 0);
    EXPECT_EQ(flags_of(30101), 0);
    EXPECT_EQ(flags_of(30050), XGRESS_PORT_NODEPORT_RANGE);
    EXPECT_EQ(flags_of(30053), XGRESS_PORT_UDP_NODEPORT | XGRESS_PORT_NODEPORT_RANGE);
    ASSERT_TRUE(restarted->apply_frontends({np}));
    EXPECT_EQ(flags_of(80), 0);
    EXPECT_EQ(flags_of(30080), XGRESS_PORT_TCP_NODEPORT | XGRESS_PORT_NODEPORT_RANGE);
    EXPECT_EQ(flags_of(30053), XGRESS_PORT_NODEPORT_RANGE);
    ASSERT_TRUE(restarted->apply_frontends({}));
    EXPECT_EQ(flags_of(30080), XGRESS_PORT_NODEPORT_RANGE);
    EXPECT_EQ(flags_of(30100), XGRESS_PORT_NODEPORT_RANGE);
}

TEST_F(DataplaneTest, NodeAddressesAreReplaced) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    auto local = dp::local_node_addresses();
    ASSERT_TRUE(local);
    ASSERT_EQ(local->size(), 1u) << "only 198.18.0.1: loopback and link-local are skipped";
    EXPECT_EQ(local->front(), ipv4("198.18.0.1"));

    ASSERT_TRUE(dataplane->set_node_addresses({ipv4("192.0.2.1"), ipv4("192.0.2.2")}));
    ASSERT_TRUE(dataplane->set_node_addresses(*local));
    int fd = bpf_obj_get(pin(XGRESS_MAP_NODE_ADDRS).c_str());
    ASSERT_GE(fd, 0);
    int count = 0;
    xgress_node_addr_key key{}, next{};
    for (void* prev = nullptr; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &key) {
        key = next;
        ++count;
    }
    close(fd);
    EXPECT_EQ(count, 1);
    auto want = node_key("198.18.0.1");
    EXPECT_EQ(std::memcmp(&key, &want, sizeof(key)), 0);
}

TEST_F(DataplaneTest, NodePortCopyFollowsTheHashAndIsResyncedAfterRestart) {
    auto entry = [&](std::uint16_t port) { return pinned_port_entry(port); };
    auto mirror = [&](std::uint16_t port) { return entry(port).tcp_nodeport; };
    const std::uint8_t range = XGRESS_PORT_NODEPORT_RANGE | XGRESS_PORT_DROP_UNALLOCATED;
    {
        auto dataplane = dp::Dataplane::open(options_);
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 3, "a/b:http"), vip("203.0.113.10", 80, 0, "a/c:http")}));
        const auto hashed = pinned_frontends().at("*node*:30080");
        EXPECT_EQ(mirror(30080).id, hashed.id);
        EXPECT_EQ(mirror(30080).listener_slot, 3u);
        EXPECT_EQ(entry(30080).flags, XGRESS_PORT_TCP_NODEPORT | range) << "the copy keeps the flags";
        EXPECT_EQ(entry(30080).udp_nodeport.id, 0u);
        EXPECT_EQ(mirror(80).id, 0u) << "VIPs are not copied";
        // A VIP on the NodePort's port: its flag is added, the copy stays.
        ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 3, "a/b:http"), vip("203.0.113.10", 30080, 0, "a/c:http")}));
        EXPECT_EQ(entry(30080).flags, XGRESS_PORT_TCP_NODEPORT | XGRESS_PORT_TCP_VIP | range);
        EXPECT_EQ(mirror(30080).id, hashed.id);
        ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 4, "a/b:http"), node_port(30081, 0, "a/d:http")}));
        EXPECT_EQ(mirror(30080).listener_slot, 4u);
        EXPECT_EQ(entry(30080).flags, XGRESS_PORT_TCP_NODEPORT | range) << "VIP flag cleared, copy kept";
        EXPECT_EQ(mirror(30081).id, pinned_frontends().at("*node*:30081").id);
        ASSERT_TRUE(dataplane->apply_frontends({node_port(30081, 0, "a/d:http")}));
        EXPECT_EQ(mirror(30080).id, 0u) << "deleted NodePort: copy zeroed";
        EXPECT_EQ(entry(30080).flags, range);
    }
    // What a previous agent that died half-way may leave: a copy without a hash entry.
    with_pinned_tables([](xgress_tables& tables) { set_nodeport_copy(tables, 31000, IPPROTO_TCP, {7, 0, 0}); });
    auto restarted = dp::Dataplane::open(options_);
    ASSERT_TRUE(restarted) << restarted.error().message;
    EXPECT_EQ(mirror(30081).id, pinned_frontends().at("*node*:30081").id) << "open's range rewrite keeps copies";
    ASSERT_TRUE(restarted->apply_frontends({node_port(30081, 0, "a/d:http")}));
    EXPECT_EQ(mirror(31000).id, 0u) << "first apply rewrites every copy";
    EXPECT_EQ(entry(31000).flags, range);
    EXPECT_EQ(mirror(30081).id, pinned_frontends().at("*node*:30081").id);
    EXPECT_EQ(entry(30081).flags, XGRESS_PORT_TCP_NODEPORT | range);
}

// vip_frontends follows the hash through add, replace, collision, delete and
// an agent restart that finds a stale slot.
TEST_F(DataplaneTest, VipSlotCopyFollowsTheHashAndIsReconciledAfterRestart) {
    auto slot_of = [&](const xgress_frontend_key& key) { return pinned_vip_slot(xgress_vip_slot_index(&key)); };
    const auto a = exact_key("203.0.113.10", 80);
    const auto b = vip_colliding_with(a);
    char b_text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, b.addr, b_text, sizeof(b_text));
    const std::string b_name = std::string(b_text) + ":80";
    {
        auto dataplane = dp::Dataplane::open(options_);
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        ASSERT_TRUE(dataplane->apply_frontends({vip("203.0.113.10", 80, 1, "a/a:http"), node_port(30080, 0, "a/n:http")}));
        const auto hashed = pinned_frontends().at("203.0.113.10:80");
        auto slot = slot_of(a);
        EXPECT_EQ(std::memcmp(&slot.key, &a, sizeof(a)), 0);
        EXPECT_EQ(slot.value.id, hashed.id);
        EXPECT_EQ(slot.value.listener_slot, 1u);
        EXPECT_EQ(slot.flags, 0u);

        ASSERT_TRUE(dataplane->apply_frontends({vip("203.0.113.10", 80, 2, "a/a:http")}));
        EXPECT_EQ(slot_of(a).value.listener_slot, 2u) << "replaced in place";
        EXPECT_EQ(slot_of(a).value.id, hashed.id);

        ASSERT_TRUE(dataplane->apply_frontends({vip("203.0.113.10", 80, 2, "a/a:http"), vip(b_text, 80, 3, "a/b:http")}));
        slot = slot_of(a);
        EXPECT_EQ(std::memcmp(&slot.key, &a, sizeof(a)), 0) << "the owner keeps the slot";
        EXPECT_EQ(slot.flags, static_cast<std::uint32_t>(XGRESS_VIP_SLOT_OVERFLOW)) << "b lives in the hash";
        ASSERT_TRUE(pinned_frontends().contains(b_name));

        ASSERT_TRUE(dataplane->apply_frontends({vip(b_text, 80, 3, "a/b:http")}));
        slot = slot_of(a);
        EXPECT_EQ(std::memcmp(&slot.key, &b, sizeof(b)), 0) << "b moves into the slot when a goes";
        EXPECT_EQ(slot.value.id, pinned_frontends().at(b_name).id);
        EXPECT_EQ(slot.value.listener_slot, 3u);
        EXPECT_EQ(slot.flags, 0u);
    }
    // A stale slot (no hash entry behind it) left by an agent that died half-way.
    const auto c = exact_key("203.0.113.77", 443);
    xgress_vip_slot stale{};
    stale.key = c;
    stale.value = {42, 0, 0};
    with_pinned_tables([&](xgress_tables& tables) { tables.vip_frontends[xgress_vip_slot_index(&c)] = stale; });
    auto restarted = dp::Dataplane::open(options_);
    ASSERT_TRUE(restarted) << restarted.error().message;
    ASSERT_TRUE(restarted->apply_frontends({vip(b_text, 80, 3, "a/b:http")}));
    EXPECT_EQ(slot_of(c).value.id, 0u) << "first apply reads the array and clears what the hash lacks";
    EXPECT_EQ(slot_of(b).value.id, pinned_frontends().at(b_name).id);
    ASSERT_TRUE(restarted->apply_frontends({}));
    EXPECT_EQ(slot_of(b).value.id, 0u);
    EXPECT_EQ(slot_of(b).flags, 0u);
}

TEST_F(DataplaneTest, NodeAddressListKeepsTheFirstAddressesInlineAndSaysWhenItOverflows) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    auto read_list = [&] {
        xgress_node_addr_list list{};
        with_pinned_tables([&](xgress_tables& tables) { list = tables.node_addr_list; });
        return list;
    };
    std::vector<dp::IpAddress> many;
    for (int i = 1; i <= XGRESS_NODE_ADDR_INLINE_V4 + 2; ++i) many.push_back(ipv4("192.0.2." + std::to_string(i)));
    many.push_back(ipv6("2001:db8::1"));
    ASSERT_TRUE(dataplane->set_node_addresses(many));
    auto list = read_list();
    EXPECT_EQ(list.ipv4_count, static_cast<std::uint32_t>(XGRESS_NODE_ADDR_INLINE_V4));
    EXPECT_EQ(list.ipv6_count, 1u);
    EXPECT_EQ(list.flags, static_cast<std::uint32_t>(XGRESS_NODE_ADDR_LIST_V6_COMPLETE))
        << "IPv4 overflowed: misses must fall back to node_addrs";
    EXPECT_EQ(list.ipv4[0][3], 1);

    ASSERT_TRUE(dataplane->set_node_addresses({ipv4("198.18.0.1")}));
    list = read_list();
    EXPECT_EQ(list.ipv4_count, 1u);
    EXPECT_EQ(list.ipv6_count, 0u);
    EXPECT_EQ(list.flags,
              static_cast<std::uint32_t>(XGRESS_NODE_ADDR_LIST_V4_COMPLETE | XGRESS_NODE_ADDR_LIST_V6_COMPLETE));
    auto want = node_key("198.18.0.1");
    EXPECT_EQ(std::memcmp(list.ipv4[0], want.addr, 4), 0);
    EXPECT_EQ(list.ipv4[1][0], 0) << "stale inline slots are cleared";
}

TEST_F(DataplaneTest, NodePortConnectionFromPeerReachesLoopbackListener) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    auto local = dp::local_node_addresses();
    ASSERT_TRUE(local);
    ASSERT_TRUE(dataplane->set_node_addresses(*local));
    ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 0, "xgress-system/xgress:http")}));

    // The proxy's listener: loopback, unprivileged port, SO_REUSEPORT group.
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    int one = 1;
    ASSERT_EQ(setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
    sockaddr_in bind_addr{};
    bind_addr.sin_family = AF_INET;
    bind_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&bind_addr), sizeof(bind_addr)), 0);
    ASSERT_EQ(listen(listener, 16), 0);
    auto installed = dataplane->set_listener(0, listener);
    ASSERT_TRUE(installed) << installed.error().message;

    // Connect from the peer namespace: the socket belongs to the namespace it
    // was created in.
    auto connect_from_peer = [&](std::uint16_t port) {
        EXPECT_EQ(setns(sandbox_.peer_fd(), CLONE_NEWNET), 0);
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        EXPECT_EQ(setns(sandbox_.node_fd(), CLONE_NEWNET), 0);
        timeval timeout{1, 0};
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        inet_pton(AF_INET, "198.18.0.1", &to.sin_addr);
        int rc = connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        return std::pair{client, rc == 0 ? 0 : errno};
    };

    auto [client, err] = connect_from_peer(30080);
    ASSERT_EQ(err, 0) << std::strerror(err);
    pollfd pfd{listener, POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 3000), 1) << "no connection reached the listener";
    int accepted = accept(listener, nullptr, nullptr);
    ASSERT_GE(accepted, 0);
    sockaddr_in local_addr{};
    socklen_t len = sizeof(local_addr);
    ASSERT_EQ(getsockname(accepted, reinterpret_cast<sockaddr*>(&local_addr), &len), 0);
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &local_addr.sin_addr, text, sizeof(text));
    EXPECT_STREQ(text, "198.18.0.1") << "the proxy sees the original destination";
    EXPECT_EQ(ntohs(local_addr.sin_port), 30080);
    ASSERT_EQ(write(client, "ping", 4), 4);
    char buf[8] = {};
    ASSERT_EQ(read(accepted, buf, sizeof(buf)), 4);
    EXPECT_STREQ(buf, "ping");
    close(accepted);
    close(client);

    // An unserved port outside the NodePort range is refused as usual...
    auto [other, refused] = connect_from_peer(8081);
    EXPECT_EQ(refused, ECONNREFUSED);
    close(other);
    // ...one inside it is dropped by XDP: no answer at all.
    auto [unallocated, dropped] = connect_from_peer(30081);
    EXPECT_NE(dropped, 0);
    EXPECT_NE(dropped, ECONNREFUSED) << "unallocated NodePort must be dropped, not refused";
    close(unallocated);
    close(listener);

    // XDP saw and counted the connection on the NodePort frontend.
    auto frontends = pinned_frontends();
    int stats_fd = bpf_obj_get(pin(XGRESS_MAP_FRONTEND_STATS).c_str());
    ASSERT_GE(stats_fd, 0);
    auto stats = sum_frontend_stats(stats_fd, frontends.at("*node*:30080").id);
    close(stats_fd);
    EXPECT_GE(stats.packets, 3u);  // SYN, ACK, data (+ FIN)
    EXPECT_EQ(stats.syns, 1u);
    int global_fd = bpf_obj_get(pin(XGRESS_MAP_GLOBAL_STATS).c_str());
    EXPECT_GE(sum_global_stats(global_fd).sk_lookup_assigned, 1u);
    EXPECT_GE(sum_global_stats(global_fd).xdp_nodeport_dropped, 1u);
    close(global_fd);
}

TEST_F(DataplaneTest, SourceRangesAreAppliedAndWithdrawn) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    auto ranged = node_port(30443, 0, "team/web:https");
    dp::IpPrefix allowed;
    allowed.address = ipv4("10.0.0.0");
    allowed.length = 8;
    ranged.source_ranges = {allowed};
    ASSERT_TRUE(dataplane->apply_frontends({ranged}));
    auto id = pinned_frontends().at("*node*:30443").id;
    EXPECT_EQ(pinned_frontends().at("*node*:30443").flags, static_cast<std::uint32_t>(XGRESS_FRONTEND_SOURCE_RANGES));

    int ranges_fd = bpf_obj_get(pin(XGRESS_MAP_SOURCE_RANGES).c_str());
    ASSERT_GE(ranges_fd, 0);
    auto want = range_key(id, "10.0.0.0/8");
    xgress_source_range_value value{};
    EXPECT_EQ(bpf_map_lookup_elem(ranges_fd, &want, &value), 0);  // exact prefix present

    // Replace the range: old key gone, new one present, flag stays.
    allowed.address = ipv4("192.0.2.0");
    allowed.length = 24;
    ranged.source_ranges = {allowed};
    ASSERT_TRUE(dataplane->apply_frontends({ranged}));
    auto probe = range_key(id, "10.1.1.1/32");
    EXPECT_NE(bpf_map_lookup_elem(ranges_fd, &probe, &value), 0);
    probe = range_key(id, "192.0.2.9/32");
    EXPECT_EQ(bpf_map_lookup_elem(ranges_fd, &probe, &value), 0);

    // No ranges: flag cleared, trie empty.
    ranged.source_ranges.clear();
    ASSERT_TRUE(dataplane->apply_frontends({ranged}));
    EXPECT_EQ(pinned_frontends().at("*node*:30443").flags, 0u);
    xgress_source_range_key next{};
    EXPECT_NE(bpf_map_get_next_key(ranges_fd, nullptr, &next), 0) << "trie must be empty";
    close(ranges_fd);
}

TEST_F(DataplaneTest, DeniedSourceGetsNoConnectionAllowedOneDoes) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    ASSERT_TRUE(dataplane->set_node_addresses({ipv4("198.18.0.1")}));
    auto ranged = node_port(30443, 0, "team/web:https");
    dp::IpPrefix only_peer;
    only_peer.address = ipv4("198.18.0.2");
    only_peer.length = 32;
    ranged.source_ranges = {only_peer};
    ASSERT_TRUE(dataplane->apply_frontends({ranged}));
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in bind_addr{};
    bind_addr.sin_family = AF_INET;
    bind_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&bind_addr), sizeof(bind_addr)), 0);
    ASSERT_EQ(listen(listener, 16), 0);
    ASSERT_TRUE(dataplane->set_listener(0, listener));

    // The peer's own address is allowed; a second address on the same peer is not.
    ASSERT_EQ(run_command(sandbox_.in_peer(fmt::format("ip addr add 198.18.0.3/24 dev {}", peer_if_))), 0);
    auto connect_from = [&](const char* source) {
        EXPECT_EQ(setns(sandbox_.peer_fd(), CLONE_NEWNET), 0);
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        EXPECT_EQ(setns(sandbox_.node_fd(), CLONE_NEWNET), 0);
        sockaddr_in from{};
        from.sin_family = AF_INET;
        inet_pton(AF_INET, source, &from.sin_addr);
        EXPECT_EQ(bind(client, reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0);
        timeval timeout{1, 0};
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(30443);
        inet_pton(AF_INET, "198.18.0.1", &to.sin_addr);
        int rc = connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        int err = rc == 0 ? 0 : errno;
        close(client);
        return err;
    };
    EXPECT_EQ(connect_from("198.18.0.2"), 0);
    EXPECT_NE(connect_from("198.18.0.3"), 0);
    int stats_fd = bpf_obj_get(pin(XGRESS_MAP_FRONTEND_STATS).c_str());
    auto stats = sum_frontend_stats(stats_fd, pinned_frontends().at("*node*:30443").id);
    close(stats_fd);
    EXPECT_EQ(stats.syns, 1u);
    EXPECT_GE(stats.source_range_drops, 1u);
    close(listener);
}

TEST_F(DataplaneTest, PinnedMapsOfAnotherAbiAreMigrated) {
    // What an ABI-1 agent left: an abi_info saying 1 and a frontends map of
    // a different layout (value size 8) under the same name.
    ASSERT_TRUE(std::filesystem::create_directories(options_.pin_root));
    int abi = bpf_map_create(BPF_MAP_TYPE_ARRAY, "abi_info", 4, 8, 1, nullptr);
    ASSERT_GE(abi, 0);
    std::uint32_t zero = 0;
    xgress_abi_info old_info{1, 0};
    ASSERT_EQ(bpf_map_update_elem(abi, &zero, &old_info, BPF_ANY), 0);
    ASSERT_EQ(bpf_obj_pin(abi, pin(XGRESS_MAP_ABI_INFO).c_str()), 0);
    int old_frontends = bpf_map_create(BPF_MAP_TYPE_HASH, "frontends", 20, 8, 16, nullptr);
    ASSERT_GE(old_frontends, 0);
    ASSERT_EQ(bpf_obj_pin(old_frontends, pin(XGRESS_MAP_FRONTENDS).c_str()), 0);
    close(abi);
    close(old_frontends);

    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    int abi_now = bpf_obj_get(pin(XGRESS_MAP_ABI_INFO).c_str());
    xgress_abi_info info{};
    ASSERT_EQ(bpf_map_lookup_elem(abi_now, &zero, &info), 0);
    close(abi_now);
    EXPECT_EQ(info.abi_version, static_cast<std::uint32_t>(XGRESS_ABI_VERSION));
    ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 0, "xgress-system/xgress:http")}));
    EXPECT_EQ(pinned_frontends().size(), 1u);
    EXPECT_FALSE(exists(options_.pin_root + "/old-abi-1")) << "moved-aside pins are removed";
}

// ABI 7 -> 10: port_flags grew (1 -> 28 bytes, the NodePort copies, ABI 8)
// and moved into tables with vip_frontends (ABI 9) and node_addr_list (ABI
// 10); nodeport_frontends is
// gone (ABI 8). The old pins are moved aside and dropped, the new tables
// carry the copies, and --cleanup also removes retired pins whatever agent
// left them.
TEST_F(DataplaneTest, Abi7PinsAreMigratedAndTheRetiredMapIsCleanedUp) {
    ASSERT_TRUE(std::filesystem::create_directories(options_.pin_root));
    int abi = bpf_map_create(BPF_MAP_TYPE_ARRAY, "abi_info", 4, 8, 1, nullptr);
    ASSERT_GE(abi, 0);
    std::uint32_t zero = 0;
    xgress_abi_info old_info{7, 0};
    ASSERT_EQ(bpf_map_update_elem(abi, &zero, &old_info, BPF_ANY), 0);
    ASSERT_EQ(bpf_obj_pin(abi, pin(XGRESS_MAP_ABI_INFO).c_str()), 0);
    int old_flags = bpf_map_create(BPF_MAP_TYPE_ARRAY, "port_flags", 4, 1, XGRESS_PORT_FLAGS_ENTRIES, nullptr);
    ASSERT_GE(old_flags, 0);
    ASSERT_EQ(bpf_obj_pin(old_flags, pin(XGRESS_MAP_PORT_FLAGS).c_str()), 0);
    int old_copies = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nodeport_frontends", 4, 12, 65536 * 2, nullptr);
    ASSERT_GE(old_copies, 0);
    ASSERT_EQ(bpf_obj_pin(old_copies, pin(XGRESS_MAP_NODEPORT_FRONTENDS).c_str()), 0);
    for (int fd : {abi, old_flags, old_copies}) close(fd);

    {
        auto dataplane = dp::Dataplane::open(options_);
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        EXPECT_FALSE(exists(pin(XGRESS_MAP_NODEPORT_FRONTENDS))) << "moved aside and removed";
        EXPECT_FALSE(exists(options_.pin_root + "/old-abi-7"));
        ASSERT_TRUE(dataplane->apply_frontends({node_port(30080, 2, "xgress-system/xgress:http")}));
        EXPECT_FALSE(exists(pin(XGRESS_MAP_PORT_FLAGS))) << "moved aside and removed";
        int fd = bpf_obj_get(pin(XGRESS_MAP_TABLES).c_str());
        ASSERT_GE(fd, 0);
        bpf_map_info info{};
        std::uint32_t info_len = sizeof(info);
        ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &info_len), 0);
        close(fd);
        EXPECT_EQ(info.value_size, sizeof(xgress_tables));
        EXPECT_EQ(info.max_entries, 1u);
        const xgress_port_flags entry = pinned_port_entry(30080);
        EXPECT_EQ(entry.tcp_nodeport.id, pinned_frontends().at("*node*:30080").id);
        EXPECT_EQ(entry.tcp_nodeport.listener_slot, 2u);
    }
    // Retired maps' pins (e.g. left by an ABI 7 or 8 agent) go with --cleanup.
    for (const char* name :
         {XGRESS_MAP_NODEPORT_FRONTENDS, XGRESS_MAP_PORT_FLAGS, XGRESS_MAP_VIP_FRONTENDS, XGRESS_MAP_NODE_ADDR_LIST}) {
        int stray = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 12, 4, nullptr);
        ASSERT_GE(stray, 0);
        ASSERT_EQ(bpf_obj_pin(stray, pin(name).c_str()), 0);
        close(stray);
    }
    ASSERT_TRUE(dp::Dataplane::cleanup(options_));
    for (const char* name :
         {XGRESS_MAP_NODEPORT_FRONTENDS, XGRESS_MAP_PORT_FLAGS, XGRESS_MAP_VIP_FRONTENDS, XGRESS_MAP_NODE_ADDR_LIST})
        EXPECT_FALSE(exists(pin(name))) << name;
    EXPECT_FALSE(exists(options_.pin_root));
}

TEST_F(DataplaneTest, UnheldVipGetsLocalRouteAndIsServedUntilItGoesAway) {
    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    ASSERT_TRUE(dataplane->set_node_addresses({ipv4("198.18.0.1")}));
    ASSERT_TRUE(dataplane->apply_frontends({vip("203.0.113.10", 80, 0, "default/lb:http"),
                                            vip("198.18.0.1", 8080, 0, "default/held:http")}));
    auto routes = dp::xgress_local_routes();
    ASSERT_TRUE(routes) << routes.error().message;
    ASSERT_EQ(routes->size(), 1u) << "198.18.0.1 is held by an interface: no route of ours";
    EXPECT_EQ(routes->front(), ipv4("203.0.113.10"));

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in bind_addr{};
    bind_addr.sin_family = AF_INET;
    bind_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&bind_addr), sizeof(bind_addr)), 0);
    ASSERT_EQ(listen(listener, 16), 0);
    ASSERT_TRUE(dataplane->set_listener(0, listener));
    ASSERT_EQ(run_command(sandbox_.in_peer("ip route add 203.0.113.0/24 via 198.18.0.1")), 0);
    auto connect_vip = [&]() {
        EXPECT_EQ(setns(sandbox_.peer_fd(), CLONE_NEWNET), 0);
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        EXPECT_EQ(setns(sandbox_.node_fd(), CLONE_NEWNET), 0);
        timeval timeout{1, 0};
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(80);
        inet_pton(AF_INET, "203.0.113.10", &to.sin_addr);
        int rc = connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        int err = rc == 0 ? 0 : errno;
        close(client);
        return err;
    };
    EXPECT_EQ(connect_vip(), 0);

    // The VIP goes away: so does its route (and the connection).
    ASSERT_TRUE(dataplane->apply_frontends({vip("198.18.0.1", 8080, 0, "default/held:http")}));
    routes = dp::xgress_local_routes();
    ASSERT_TRUE(routes);
    EXPECT_TRUE(routes->empty());
    EXPECT_NE(connect_vip(), 0);

    // Cleanup removes routes too.
    ASSERT_TRUE(dataplane->apply_frontends({vip("203.0.113.10", 80, 0, "default/lb:http")}));
    ASSERT_TRUE(dp::Dataplane::cleanup(options_));
    routes = dp::xgress_local_routes();
    ASSERT_TRUE(routes);
    EXPECT_TRUE(routes->empty());
    close(listener);
}

std::uint32_t link_prog_id(const std::string& path) {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) return 0;
    bpf_link_info info{};
    __u32 len = sizeof(info);
    bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    return info.prog_id;
}

TEST_F(DataplaneTest, MigrationReplacesXdpAndSwitchesSkLookupOnFirstListener) {
    {
        auto first = dp::Dataplane::open(options_);
        ASSERT_TRUE(first) << first.error().message;
    }
    const auto old_xdp = xdp_prog_id(node_if_);
    const auto old_link_prog = link_prog_id(options_.pin_root + "/links/sk_lookup");
    ASSERT_NE(old_link_prog, 0u);
    // Pretend the running datapath came from an agent of ABI version 1.
    int abi = bpf_obj_get(pin(XGRESS_MAP_ABI_INFO).c_str());
    std::uint32_t zero = 0;
    xgress_abi_info old_info{1, 0};
    ASSERT_EQ(bpf_map_update_elem(abi, &zero, &old_info, BPF_ANY), 0);
    close(abi);

    auto dataplane = dp::Dataplane::open(options_);
    ASSERT_TRUE(dataplane) << dataplane.error().message;
    EXPECT_NE(xdp_prog_id(node_if_), 0u);
    EXPECT_NE(xdp_prog_id(node_if_), old_xdp) << "XDP must run the program bound to the new maps";
    EXPECT_EQ(link_prog_id(options_.pin_root + "/links/sk_lookup"), old_link_prog)
        << "sk_lookup keeps the old program (and its SOCKMAP) until a listener is installed";
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in bind_addr{};
    bind_addr.sin_family = AF_INET;
    bind_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&bind_addr), sizeof(bind_addr)), 0);
    ASSERT_EQ(listen(listener, 4), 0);
    ASSERT_TRUE(dataplane->set_listener(0, listener));
    EXPECT_NE(link_prog_id(options_.pin_root + "/links/sk_lookup"), old_link_prog);
    close(listener);
}

}  // namespace
}  // namespace xgress::test

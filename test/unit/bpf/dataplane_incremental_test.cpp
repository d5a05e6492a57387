// The incremental apply_frontends (only the changed keys planned, written and
// routed) against the full one, on the real kernel inside a private network
// and mount namespace (root): a randomized sequence of frontend lists is
// applied by one Dataplane (incremental after its first call), then the same
// sequence again with a fresh Dataplane per list (each call reads the maps
// back and plans every frontend). After every list the two runs must leave
// byte-identical maps — frontends, names, source ranges, port_flags, the
// NodePort and VIP array copies, node addresses — and the same local routes.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane.h"
#include "frontend_plan.h"
#include "local_routes.h"
#include "netns_sandbox.h"
#include "xgress/bpf_abi.h"

namespace xgress::test {
namespace {

namespace dp = xgress::agent::dataplane;

using Bytes = std::vector<std::uint8_t>;
using MapDump = std::map<Bytes, Bytes>;  // key -> value; all-zero array values left out

// Every entry of a pinned map (arrays in one batch; hashes and the trie key by key).
MapDump dump_map(const std::string& path) {
    MapDump out;
    const int fd = bpf_obj_get(path.c_str());
    EXPECT_GE(fd, 0) << path;
    if (fd < 0) return out;
    bpf_map_info info{};
    __u32 len = sizeof(info);
    bpf_obj_get_info_by_fd(fd, &info, &len);
    if (info.type == BPF_MAP_TYPE_ARRAY) {
        std::vector<std::uint8_t> keys(std::size_t{info.max_entries} * info.key_size);
        std::vector<std::uint8_t> values(std::size_t{info.max_entries} * info.value_size);
        __u32 count = info.max_entries, out_batch = 0;
        int rc = bpf_map_lookup_batch(fd, nullptr, &out_batch, keys.data(), values.data(), &count, nullptr);
        EXPECT_TRUE(rc == 0 || errno == ENOENT) << path;
        if (info.value_size == sizeof(xgress_tables) && count == 1) {
            // tables (ABI 9): one value holding two arrays; entry by entry,
            // keyed (array, index), so a difference names the entry.
            // A NodePort copy with id 0 keeps stale fields (bpf_abi.h):
            // compared as empty.
            for (std::uint32_t port = 0; port < XGRESS_PORT_FLAGS_ENTRIES; ++port)
                for (const std::size_t at : {offsetof(xgress_port_flags, tcp_nodeport),
                                             offsetof(xgress_port_flags, udp_nodeport)}) {
                    std::uint8_t* copy = &values[offsetof(xgress_tables, port_flags) + port * sizeof(xgress_port_flags) + at];
                    std::uint32_t id;
                    std::memcpy(&id, copy, sizeof(id));
                    if (id == 0) std::memset(copy, 0, sizeof(xgress_frontend_value));
                }
            auto split = [&](std::uint8_t array, std::size_t offset, std::size_t size, std::uint32_t entries) {
                for (std::uint32_t i = 0; i < entries; ++i) {
                    Bytes value(values.begin() + offset + i * size, values.begin() + offset + (i + 1) * size);
                    if (std::all_of(value.begin(), value.end(), [](std::uint8_t b) { return b == 0; })) continue;
                    Bytes key(1 + sizeof(i));
                    key[0] = array;
                    std::memcpy(&key[1], &i, sizeof(i));
                    out[key] = value;
                }
            };
            split(0, offsetof(xgress_tables, port_flags), sizeof(xgress_port_flags), XGRESS_PORT_FLAGS_ENTRIES);
            split(1, offsetof(xgress_tables, vip_frontends), sizeof(xgress_vip_slot), XGRESS_VIP_SLOTS);
            split(2, offsetof(xgress_tables, node_addr_list), sizeof(xgress_node_addr_list), 1);
            count = 0;
        }
        for (__u32 i = 0; i < count; ++i) {
            Bytes value(values.begin() + i * info.value_size, values.begin() + (i + 1) * info.value_size);
            if (std::all_of(value.begin(), value.end(), [](std::uint8_t b) { return b == 0; })) continue;
            out[Bytes(keys.begin() + i * info.key_size, keys.begin() + (i + 1) * info.key_size)] = value;
        }
    } else {
        Bytes key(info.key_size), next(info.key_size), value(info.value_size);
        for (void* prev = nullptr; bpf_map_get_next_key(fd, prev, next.data()) == 0; prev = key.data()) {
            key = next;
            if (bpf_map_lookup_elem(fd, key.data(), value.data()) == 0) out[key] = value;
        }
    }
    close(fd);
    return out;
}

struct DatapathState {
    std::map<std::string, MapDump> maps;
    std::vector<dp::IpAddress> routes;
    bool operator==(const DatapathState&) const = default;
};

DatapathState capture(const std::string& pin_root) {
    DatapathState state;
    for (const char* name : {XGRESS_MAP_FRONTENDS, XGRESS_MAP_FRONTEND_NAMES, XGRESS_MAP_SOURCE_RANGES,
                             XGRESS_MAP_TABLES /* port flags, NodePort copies, VIP slots */,
                             XGRESS_MAP_NODE_ADDRS, XGRESS_MAP_FRONTEND_STATS_BASE})
        state.maps[name] = dump_map(pin_root + "/" + name);
    auto routes = dp::xgress_local_routes();
    EXPECT_TRUE(routes) << routes.error().message;
    if (routes) state.routes = *routes;
    std::sort(state.routes.begin(), state.routes.end());
    return state;
}

dp::IpAddress address(const std::string& text) {
    dp::IpAddress a;
    a.v6 = text.find(':') != std::string::npos;
    inet_pton(a.v6 ? AF_INET6 : AF_INET, text.c_str(), a.bytes.data());
    return a;
}

// Frontend lists that keep changing a few keys at a time, with VIPs that
// share vip_frontends slots, a VIP the node holds, UDP, source ranges,
// renames, reorders, and now and then a duplicate (full path) or a conflict
// (rejected by both).
class FrontendListGenerator {
public:
    explicit FrontendListGenerator(unsigned seed) : rng_(seed) {
        // VIP keys: pairs that collide in vip_frontends, and single ones.
        std::map<std::uint32_t, std::vector<dp::FrontendSpec>> by_slot;
        for (int i = 0; i < 4000; ++i) {
            dp::FrontendSpec spec;
            spec.address = address(fmt::format("10.9.{}.{}", i / 250, i % 250 + 1));
            spec.port = 80;
            const auto key = dp::frontend_key(spec).raw();
            by_slot[xgress_vip_slot_index(&key)].push_back(spec);
        }
        int pairs = 0;
        for (auto& [slot, specs] : by_slot)
            if (specs.size() >= 2 && pairs < 6) {
                ++pairs;
                vips_.insert(vips_.end(), specs.begin(), specs.end());
            } else if (specs.size() == 1 && vips_.size() < 40) {
                vips_.push_back(specs.front());
            }
        for (const char* v6 : {"2001:db8::10", "2001:db8::11"}) vips_.push_back(random_vip(address(v6)));
        vips_.push_back(random_vip(address("198.18.0.1")));  // held by an interface: no route
        ranges_ = {{address("10.0.0.0"), 8}, {address("192.0.2.0"), 24}, {address("2001:db8::"), 32},
                   {address("203.0.113.7"), 32}};
    }

    std::vector<dp::FrontendSpec> next() {
        const int kind = pick(0, 99);
        if (kind < 3 && !list_.empty()) {  // a large change: half the list replaced
            for (std::size_t i = 0; i < list_.size(); i += 2) list_[i] = random_spec();
        } else if (kind < 8 && !list_.empty()) {
            std::shuffle(list_.begin(), list_.end(), rng_);
        } else {
            const int edits = pick(1, 3);
            for (int e = 0; e < edits; ++e) edit();
        }
        dedupe();
        std::vector<dp::FrontendSpec> out = list_;
        const int extra = pick(0, 99);
        if (extra < 5 && !out.empty()) out.push_back(out[pick(0, static_cast<int>(out.size()) - 1)]);  // duplicate
        if (extra >= 5 && extra < 10 && !out.empty()) {  // conflict: same key, another slot
            auto conflicting = out[pick(0, static_cast<int>(out.size()) - 1)];
            conflicting.listener_slot = (conflicting.listener_slot + 1) % 4;
            out.push_back(conflicting);
        }
        return out;
    }

private:
    int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    dp::FrontendSpec random_vip(dp::IpAddress a) {
        dp::FrontendSpec spec;
        spec.address = a;
        spec.port = 80;
        return spec;
    }

    dp::FrontendSpec random_spec() {
        dp::FrontendSpec spec;
        if (pick(0, 2) == 0) {
            spec.node_port = true;
            spec.port = static_cast<std::uint16_t>(30000 + pick(0, 12));
        } else {
            spec = vips_[pick(0, static_cast<int>(vips_.size()) - 1)];
            spec.port = std::array<std::uint16_t, 3>{80, 443, 8080}[pick(0, 2)];
            if (pick(0, 2) == 0) spec.port = 80;  // keep the colliding keys as they were generated
        }
        spec.protocol = pick(0, 5) == 0 ? dp::Protocol::Udp : dp::Protocol::Tcp;
        randomize_value(spec);
        return spec;
    }

    void randomize_value(dp::FrontendSpec& spec) {
        spec.listener_slot = static_cast<std::uint32_t>(pick(0, 3));
        spec.name = fmt::format("ns/svc-{}:p{}", pick(0, 50), pick(0, 1));
        spec.source_ranges.clear();
        if (pick(0, 3) == 0)
            for (int i = pick(1, 2); i > 0; --i) spec.source_ranges.push_back(ranges_[pick(0, 3)]);
        std::sort(spec.source_ranges.begin(), spec.source_ranges.end());
        spec.source_ranges.erase(std::unique(spec.source_ranges.begin(), spec.source_ranges.end()),
                                 spec.source_ranges.end());
    }

    void edit() {
        const int what = pick(0, 9);
        if (list_.empty() || what < 4) {
            list_.insert(list_.begin() + pick(0, static_cast<int>(list_.size())), random_spec());
        } else if (what < 7) {
            list_.erase(list_.begin() + pick(0, static_cast<int>(list_.size()) - 1));
        } else {
            randomize_value(list_[pick(0, static_cast<int>(list_.size()) - 1)]);
        }
    }

    void dedupe() {  // the generator's own list names each key once
        std::set<dp::FrontendKey> seen;
        std::erase_if(list_, [&](const dp::FrontendSpec& spec) { return !seen.insert(dp::frontend_key(spec)).second; });
    }

    std::mt19937 rng_;
    std::vector<dp::FrontendSpec> vips_;
    std::vector<dp::IpPrefix> ranges_;
    std::vector<dp::FrontendSpec> list_;
};

class DataplaneIncrementalTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(sandbox_.enter(), "");
        const std::string pid = std::to_string(getpid() % 100000);
        node_if_ = "xg2n" + pid;
        ASSERT_EQ(run_command(fmt::format("ip link add {} type veth peer name xg2p{}", node_if_, pid)), 0);
        ASSERT_EQ(run_command(fmt::format("ip addr add 198.18.0.1/24 dev {}", node_if_)), 0);
        ASSERT_EQ(run_command(fmt::format("ip link set {} up", node_if_)), 0);
        ASSERT_EQ(run_command("ip link set lo up"), 0);
        options_.pin_root = sandbox_.bpffs() + "/xgress";
        options_.interfaces = {node_if_};
        setenv("LIBXDP_BPFFS", sandbox_.bpffs().c_str(), 1);
    }
    void TearDown() override {
        auto ok = dp::Dataplane::cleanup(options_);
        EXPECT_TRUE(ok) << ok.error().message;
    }

    NetnsSandbox sandbox_;
    std::string node_if_;
    dp::Options options_;
};

TEST_F(DataplaneIncrementalTest, RandomListsLeaveTheSameMapsAndRoutesAsFullApplies) {
    constexpr int kSteps = 80;
    const std::vector<dp::IpAddress> node_addresses = {address("198.18.0.1"), address("2001:db8:ff::1")};
    FrontendListGenerator generator(7);
    std::vector<std::vector<dp::FrontendSpec>> lists;
    for (int i = 0; i < kSteps; ++i) lists.push_back(generator.next());

    std::vector<DatapathState> incremental;
    std::vector<bool> failed;
    int incremental_calls = 0;
    {
        auto dataplane = dp::Dataplane::open(options_);
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        ASSERT_TRUE(dataplane->set_node_addresses(node_addresses));
        for (const auto& list : lists) {
            auto applied = dataplane->apply_frontends(list);
            failed.push_back(!applied);
            if (applied && dataplane->last_apply_stats().incremental) ++incremental_calls;
            incremental.push_back(capture(options_.pin_root));
            if (getenv("XGRESS_TEST_VERBOSE"))
                std::printf("step: %zu frontends, %s, routes %zu, frontends map %zu\n", list.size(),
                            applied ? "ok" : applied.error().message.c_str(), incremental.back().routes.size(),
                            incremental.back().maps.at(XGRESS_MAP_FRONTENDS).size());
        }
    }
    ASSERT_TRUE(dp::Dataplane::cleanup(options_));

    int compared = 0;
    for (int i = 0; i < kSteps; ++i) {
        auto dataplane = dp::Dataplane::open(options_);  // fresh state: reads back, plans everything
        ASSERT_TRUE(dataplane) << dataplane.error().message;
        if (i == 0) {
            ASSERT_TRUE(dataplane->set_node_addresses(node_addresses));
        }
        auto applied = dataplane->apply_frontends(lists[i]);
        ASSERT_EQ(!applied, failed[i]) << "step " << i;
        ASSERT_FALSE(dataplane->last_apply_stats().incremental);
        const auto full = capture(options_.pin_root);
        for (const auto& [name, dump] : full.maps)
            EXPECT_EQ(dump, incremental[i].maps.at(name)) << "step " << i << ": map " << name << " differs";
        EXPECT_EQ(full.routes, incremental[i].routes) << "step " << i << ": local routes differ";
        ++compared;
    }
    EXPECT_EQ(compared, kSteps);
    // The sequence exercised the incremental path most of the time, and the full one too.
    EXPECT_GT(incremental_calls, kSteps / 2);
    EXPECT_LT(incremental_calls, kSteps);
    std::printf("%d of %d applies incremental, %d rejected\n", incremental_calls, kSteps,
                static_cast<int>(std::count(failed.begin(), failed.end(), true)));
}

}  // namespace
}  // namespace xgress::test

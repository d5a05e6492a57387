// Classifier cost of the XDP program, measured by the kernel itself through
// BPF_PROG_TEST_RUN with `repeat` (opts.duration = mean ns per run), against
// a trivial XDP_DROP program measured in the same batch. Not a test: prints
// figures and ratios, asserts nothing.
//
//   sudo build/test/bench/xdp_classifier_bench [--quick] [--rounds N] [--repeat N]
//
// Also measured, to read the figures: a program doing one array lookup, one
// doing one 20-byte hash lookup that misses among 10,000 entries, and one
// whose lookup hits (the VIP's key), so the test-run loop's own cost and the
// price of each lookup are visible.
//
// Scenarios: a SYN to a served NodePort on a node address; a SYN to a VIP
// (10.0.0.5:80, present in both frontend sets); a SYN to an
// unallocated NodePort (dropped); unrelated traffic (TCP port 22 to the node);
// traffic to another address on the VIP port (its vip_frontends slot decides);
// each with 10 and with 10,000 frontends loaded (VIPs + the NodePort). Rounds
// interleave every contender so machine drift hits them alike; the median
// round is reported. Targets (issue 3): <= 2x the trivial program; 10,000
// frontends within 10% of 10.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../unit/bpf/map_helpers.h"
#include "../unit/bpf/packet_builder.h"
#include "xdp_ingress.skel.h"

#include "bpf_insn.h"

using xgress::bench::insn;

namespace {

using namespace xgress::test;

// Hand-assembled calibration programs (no clang object needed): what the
// test-run loop itself costs, and what one map lookup of each kind adds.
// r0 = XDP_DROP; exit.
int load_trivial_drop() {
    const bpf_insn insns[] = {
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    return bpf_prog_load(BPF_PROG_TYPE_XDP, "trivial_drop", "GPL", insns, 2, nullptr);
}

// Writes `key` (zero when empty; a multiple of 4 bytes) on the stack, looks
// it up in `map_fd`, drops.
int load_one_lookup(int map_fd, unsigned key_size, const char* name, const std::vector<std::uint8_t>& key = {}) {
    std::vector<bpf_insn> p;
    const auto words = static_cast<std::int16_t>((key_size + 3) / 4);
    for (std::int16_t w = 0; w < words; ++w) {
        std::int32_t word = 0;
        if (!key.empty()) std::memcpy(&word, &key[static_cast<std::size_t>(w) * 4], 4);
        p.push_back(insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, static_cast<std::int16_t>(-4 * words + 4 * w), word));
    }
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0));
    p.push_back(insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4 * words));
    p.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd));
    p.push_back(insn(0, 0, 0, 0, 0));
    p.push_back(insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", p.data(), p.size(), nullptr);
}

double ns_per_run(int prog_fd, const std::vector<std::uint8_t>& frame, unsigned repeat, std::uint32_t* verdict) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
        std::perror("bpf_prog_test_run_opts");
        std::exit(1);
    }
    if (verdict) *verdict = opts.retval;
    return static_cast<double>(opts.duration);
}

struct Classifier {
    xdp_ingress_bpf* skel = nullptr;
    std::set<std::uint32_t> vip_slots;  // distinct vip_frontends slots used
    unsigned vips = 0;
    explicit Classifier(unsigned frontends) {
        skel = xdp_ingress_bpf__open();
        if (!skel) std::exit(1);
        unpin_all_maps(skel->obj);
        if (xdp_ingress_bpf__load(skel) != 0) {
            std::fprintf(stderr, "load failed (needs CAP_BPF)\n");
            std::exit(1);
        }
        auto add = [&](const xgress_frontend_key& key, std::uint32_t id) {
            xgress_frontend_value value{id, 0, 0};
            bpf_map__update_elem(skel->maps.frontends, &key, sizeof(key), &value, sizeof(value), BPF_ANY);
            mark_port(bpf_map__fd(skel->maps.port_flags), key);
            if (!(key.flags & XGRESS_FRONTEND_KEY_NODEPORT) &&  // the VIP copy, as the agent writes it
                place_vip(bpf_map__fd(skel->maps.vip_frontends), key, value) != 0) {
                std::perror("vip_frontends");
                std::exit(1);
            }
            if (!(key.flags & XGRESS_FRONTEND_KEY_NODEPORT)) {
                ++vips;
                vip_slots.insert(xgress_vip_slot_index(&key));
            }
            if (key.flags & XGRESS_FRONTEND_KEY_NODEPORT) {  // the array copy, as the agent writes it
                const std::uint32_t index = xgress_nodeport_index(ntohs(key.port), key.proto);
                bpf_map__update_elem(skel->maps.nodeport_frontends, &index, sizeof(index), &value, sizeof(value),
                                     BPF_ANY);
            }
        };
        add(nodeport_key(30080), 1);
        add(exact_key("10.0.0.5", 80), 6);  // the measured VIP first: it owns its vip_frontends slot
        for (unsigned i = 1; i < frontends; ++i) {
            if (i == 5) continue;
            const std::string vip = "10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 0xff) + "." +
                                    std::to_string(i & 0xff);
            add(exact_key(vip, 80), i + 1);
        }
        auto node = node_key("198.18.0.1");
        xgress_node_addr_value nv{};
        bpf_map__update_elem(skel->maps.node_addrs, &node, sizeof(node), &nv, sizeof(nv), BPF_ANY);
        set_node_addr_list(bpf_map__fd(skel->maps.node_addr_list), {"198.18.0.1"},
                           XGRESS_NODE_ADDR_LIST_V4_COMPLETE | XGRESS_NODE_ADDR_LIST_V6_COMPLETE);
        std::uint32_t key = XGRESS_SETTINGS_KEY;
        xgress_settings settings{30000, 32767, XGRESS_SETTINGS_DROP_UNALLOCATED};
        bpf_map__update_elem(skel->maps.settings, &key, sizeof(key), &settings, sizeof(settings), BPF_ANY);
    }
    ~Classifier() { xdp_ingress_bpf__destroy(skel); }
    int fd() const { return bpf_program__fd(skel->progs.xgress_xdp); }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    unsigned rounds = 7, repeat = 2'000'000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) rounds = 3, repeat = 500'000;
        if (i + 1 < argc && !std::strcmp(argv[i], "--rounds")) rounds = static_cast<unsigned>(std::atoi(argv[++i]));
        else if (i + 1 < argc && !std::strcmp(argv[i], "--repeat")) repeat = static_cast<unsigned>(std::atoi(argv[++i]));
    }
    const int trivial = load_trivial_drop();
    if (trivial < 0) {
        std::perror("load trivial XDP_DROP program");
        return 1;
    }
    Classifier small(10), large(10'000);
    // Calibration against the large classifier's own maps: an array read
    // (port_flags, inlined by the verifier) and a 20-byte-key hash lookup
    // that misses in 10,000 entries (frontends), as the classifier does.
    const int one_array = load_one_lookup(bpf_map__fd(large.skel->maps.port_flags), 4, "one_array");
    const int one_hash = load_one_lookup(bpf_map__fd(large.skel->maps.frontends), 20, "one_hash");
    const auto vip = exact_key("10.0.0.5", 80);
    std::vector<std::uint8_t> vip_bytes(sizeof(vip));
    std::memcpy(vip_bytes.data(), &vip, sizeof(vip));
    const int one_hash_hit = load_one_lookup(bpf_map__fd(large.skel->maps.frontends), 20, "one_hash_hit", vip_bytes);
    if (one_array < 0 || one_hash < 0 || one_hash_hit < 0) {
        std::perror("load calibration programs");
        return 1;
    }

    struct Scenario {
        const char* name;
        std::uint16_t dport;
        std::uint32_t want;
        const char* dst = "198.18.0.1";
    };
    const Scenario scenarios[] = {
        {"served NodePort SYN", 30080, XDP_PASS},
        {"served VIP SYN", 80, XDP_PASS, "10.0.0.5"},
        {"unallocated NodePort", 30999, XDP_DROP},
        {"unrelated (tcp/22)", 22, XDP_PASS},
        {"other addr on VIP port", 80, XDP_PASS, "10.200.0.1"},
    };
    std::map<std::string, std::vector<double>> samples;
    for (unsigned round = 0; round < rounds; ++round) {
        PacketSpec spec;
        samples["trivial XDP_DROP"].push_back(ns_per_run(trivial, build_packet(spec), repeat, nullptr));
        samples["one array lookup"].push_back(ns_per_run(one_array, build_packet(spec), repeat, nullptr));
        samples["one hash miss"].push_back(ns_per_run(one_hash, build_packet(spec), repeat, nullptr));
        samples["one hash hit"].push_back(ns_per_run(one_hash_hit, build_packet(spec), repeat, nullptr));
        for (const auto& s : scenarios) {
            spec.dport = s.dport;
            spec.dst = s.dst;
            const auto frame = build_packet(spec);
            for (auto* c : {&small, &large}) {
                std::uint32_t verdict = 0;
                const double ns = ns_per_run(c->fd(), frame, repeat, &verdict);
                if (verdict != s.want) {
                    std::fprintf(stderr, "%s: verdict %u, want %u\n", s.name, verdict, s.want);
                    return 1;
                }
                samples[std::string(s.name) + (c == &small ? " | 10" : " | 10000")].push_back(ns);
            }
        }
    }
    const double base = median(samples["trivial XDP_DROP"]);
    std::printf("vip_frontends: %u VIPs in %zu slots (10 fe), %u in %zu (10000 fe); the rest are asked in the hash\n",
                small.vips, small.vip_slots.size(), large.vips, large.vip_slots.size());
    std::printf("XDP classifier, ns/packet (BPF_PROG_TEST_RUN, repeat %u, median of %u interleaved rounds)\n", repeat,
                rounds);
    std::printf("%-24s %12s %12s %10s %10s %14s\n", "scenario", "10 fe", "10000 fe", "10/triv", "10k/triv",
                "10k/10");
    std::printf("%-24s %12.1f\n", "trivial XDP_DROP", base);
    for (const char* calibration : {"one array lookup", "one hash miss", "one hash hit"}) {
        const double ns = median(samples[calibration]);
        std::printf("%-24s %12.1f %12s %10.2f   (+%.1f ns over trivial)\n", calibration, ns, "", ns / base,
                    ns - base);
    }
    for (const auto& s : scenarios) {
        const double a = median(samples[std::string(s.name) + " | 10"]);
        const double b = median(samples[std::string(s.name) + " | 10000"]);
        std::printf("%-24s %12.1f %12.1f %10.2f %10.2f %14.3f\n", s.name, a, b, a / base, b / base, b / a);
    }
    return 0;
}

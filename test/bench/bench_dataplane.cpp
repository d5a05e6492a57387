// Puts xgress's real datapath on an interface for a benchmark, through the
// same Dataplane class the agent uses (no agent, no proxy, no manifests):
//
//   bench_dataplane up --pin-root DIR --interface IF --node-address A
//                      [--node-port N[/tcp|/udp]]... [--listener-port P]
//   bench_dataplane count --pin-root DIR     # prints the global counters
//   bench_dataplane down --pin-root DIR --interface IF
//   bench_dataplane floor --interface IF [--off]
//
// `floor` attaches (native mode, no libxdp) the cheapest program that still
// reads the packet: it loads the TCP destination port's first byte of an
// untagged IPv4 frame and drops. Any classifier pays at least this much per
// packet (the frame's cache line must come to the receiving CPU), so it is
// the floor the xgress figure is read against.
//
// `up` attaches XDP to IF and sk_lookup to the calling network namespace, sets
// the node address and the NodePort frontends (listener slot 0), and exits:
// the pins keep everything attached. With --listener-port it first stays up:
// it binds --listener-address (127.0.0.1):P, puts that socket in slot 0, and serves as a
// connection sink — each accepted connection is closed at once — until killed
// (the sk_lookup benchmark's server). Run it inside the node's namespace with
// LIBXDP_BPFFS pointing at a bpffs that outlives it.
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bpf_insn.h"
#include "dataplane.h"
#include "xgress/bpf_abi.h"

namespace dp = xgress::agent::dataplane;

using xgress::bench::insn;

namespace {

int up(const dp::Options& options, const std::string& node_address, const std::vector<std::string>& node_ports) {
    auto dataplane = dp::Dataplane::open(options);
    if (!dataplane) {
        std::fprintf(stderr, "bench_dataplane: %s\n", dataplane.error().message.c_str());
        return 1;
    }
    dp::IpAddress address;
    if (inet_pton(AF_INET, node_address.c_str(), address.bytes.data()) != 1) {
        std::fprintf(stderr, "bench_dataplane: bad node address %s\n", node_address.c_str());
        return 1;
    }
    std::vector<dp::FrontendSpec> frontends;
    for (const auto& text : node_ports) {
        dp::FrontendSpec spec;
        spec.node_port = true;
        spec.port = static_cast<std::uint16_t>(std::stoul(text));
        spec.protocol = text.ends_with("/udp") ? dp::Protocol::Udp : dp::Protocol::Tcp;
        spec.name = "bench/nodeport:" + text;
        frontends.push_back(spec);
    }
    if (auto ok = dataplane->set_node_addresses({address}); !ok) {
        std::fprintf(stderr, "bench_dataplane: %s\n", ok.error().message.c_str());
        return 1;
    }
    if (auto ok = dataplane->apply_frontends(frontends); !ok) {
        std::fprintf(stderr, "bench_dataplane: %s\n", ok.error().message.c_str());
        return 1;
    }
    return 0;
}

// A listener in slot 0 that accepts and closes, until killed.
int serve(const dp::Options& options, const std::string& address, unsigned port) {
    auto dataplane = dp::Dataplane::open(options);
    if (!dataplane) return 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
        std::fprintf(stderr, "bench_dataplane: bad listener address %s\n", address.c_str());
        return 1;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 4096) != 0) {
        std::perror("bench_dataplane: bind/listen");
        return 1;
    }
    if (auto ok = dataplane->set_listener(0, fd); !ok) {
        std::fprintf(stderr, "bench_dataplane: %s\n", ok.error().message.c_str());
        return 1;
    }
    std::printf("listening\n");
    std::fflush(stdout);
    for (;;) {
        int c = accept(fd, nullptr, nullptr);
        if (c >= 0) close(c);
    }
}

int floor_program(const std::string& interface, bool off) {
    const int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
    if (!ifindex) {
        std::fprintf(stderr, "bench_dataplane: no interface %s\n", interface.c_str());
        return 1;
    }
    if (off) return bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr) == 0 ? 0 : 1;
    const bpf_insn insns[] = {
        insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0),   // r2 = ctx->data
        insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 4, 0),   // r3 = ctx->data_end
        insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0),
        insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, 38),         // eth 14 + ip 20 + 4
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS),
        insn(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 3, 0),   // truncated: pass
        insn(BPF_LDX | BPF_MEM | BPF_B, BPF_REG_5, BPF_REG_2, 36, 0),  // dport, high byte
        insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_5, 0, 1, 0),            // port < 256: pass
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    const int prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "floor_read_drop", "GPL", insns,
                                   sizeof(insns) / sizeof(insns[0]), nullptr);
    if (prog < 0 || bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, nullptr) != 0) {
        std::perror("bench_dataplane: floor program");
        return 1;
    }
    return 0;
}

int count(const std::string& pin_root) {
    const std::string path = pin_root + "/" + XGRESS_MAP_GLOBAL_STATS;
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
        std::perror(path.c_str());
        return 1;
    }
    std::vector<xgress_global_stats> per_cpu(static_cast<std::size_t>(libbpf_num_possible_cpus()));
    std::uint32_t key = XGRESS_GLOBAL_STATS_KEY;
    xgress_global_stats sum{};
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) == 0)
        for (const auto& s : per_cpu) {
#define XGRESS_SUM_FIELD(field) sum.field += s.field;
            XGRESS_GLOBAL_STATS_FIELDS(XGRESS_SUM_FIELD)
#undef XGRESS_SUM_FIELD
        }
#define XGRESS_PRINT_FIELD(field) std::printf("%s %llu\n", #field, static_cast<unsigned long long>(sum.field));
    XGRESS_GLOBAL_STATS_FIELDS(XGRESS_PRINT_FIELD)
#undef XGRESS_PRINT_FIELD
    close(fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"xgress datapath for benchmarks"};
    app.require_subcommand(1);
    dp::Options options;
    std::string interface, node_address;
    std::vector<std::string> node_ports;
    unsigned listener_port = 0;
    std::string listener_address = "127.0.0.1";
    auto* up_cmd = app.add_subcommand("up", "attach and program; exits unless --listener-port");
    up_cmd->add_option("--pin-root", options.pin_root)->required();
    up_cmd->add_option("--interface", interface)->required();
    up_cmd->add_option("--node-address", node_address)->required();
    up_cmd->add_option("--node-port", node_ports, "NodePort frontend, e.g. 30080 or 30053/udp");
    up_cmd->add_option("--listener-port", listener_port, "serve slot 0 on ADDRESS:PORT until killed");
    up_cmd->add_option("--listener-address", listener_address, "address the slot-0 listener binds");
    auto* count_cmd = app.add_subcommand("count", "print the global counters");
    count_cmd->add_option("--pin-root", options.pin_root)->required();
    auto* down_cmd = app.add_subcommand("down", "detach and remove every pin");
    down_cmd->add_option("--pin-root", options.pin_root)->required();
    down_cmd->add_option("--interface", interface)->required();
    bool floor_off = false;
    auto* floor_cmd = app.add_subcommand("floor", "attach (or --off: detach) the read-and-drop floor program");
    floor_cmd->add_option("--interface", interface)->required();
    floor_cmd->add_flag("--off", floor_off);
    CLI11_PARSE(app, argc, argv);
    if (*floor_cmd) return floor_program(interface, floor_off);

    options.interfaces = {interface};
    if (*up_cmd) {
        if (int rc = up(options, node_address, node_ports); rc != 0) return rc;
        return listener_port ? serve(options, listener_address, listener_port) : 0;
    }
    if (*count_cmd) return count(options.pin_root);
    auto ok = dp::Dataplane::cleanup(options);
    if (!ok) std::fprintf(stderr, "bench_dataplane: %s\n", ok.error().message.c_str());
    return ok ? 0 : 1;
}

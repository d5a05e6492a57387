// A packet sender that behaves like a NIC towards the receiving veth: it runs
// an XDP program returning XDP_TX (paced or not, below) through BPF_PROG_RUN with
// BPF_F_TEST_XDP_LIVE_FRAMES on the sending veth, so the kernel hands ready
// xdp_frames to the peer's receive path (several Mpps on one core), instead of
// building skbs the way AF_PACKET senders do (~1 Mpps, and then the receiver
// pays the skb cost whatever filter runs; see /work/shared/benchmarking.md).
//
//   live_frames_sender --interface IF --dst-mac MAC --src IP --dst IP --dport N
//                      [--frames N] [--rate PPS [--burst N] [--pace spin|drop]] [--seconds S] [--batch N]
//
// Run it inside the sender's namespace, pinned to its own CPU. Frames: an
// IPv4 TCP SYN with valid IP and TCP checksums (a bad checksum is dropped
// before netfilter's hooks, which would make netfilter look free), source
// ports rotating over 1024 values (one per call). Stops after --frames frames
// or --seconds, whichever comes first.
//
// --rate paces inside the program, not between calls (a call costs ~25 ms of
// fixed setup here, so calls must be large): a token bucket on
// bpf_ktime_get_ns() in a one-entry array lets a burst of --burst frames go
// out (XDP_TX) every burst/rate seconds and drops every other run of the
// program (XDP_DROP recycles the frame in the sender's own page_pool, on the
// sender's CPU: nothing reaches the receiver). Each call then runs the program
// --batch times, sent or not. A late burst is not made up for (no catch-up
// burst can overflow the receiver's ring); the rate printed is the one
// achieved, between the first and the last burst by the program's clock.
// --pace spin (the default): between bursts the program does not return at
// all; it spins on bpf_ktime_get_ns() (a loop bounded by may_goto) until the
// next burst is due, so every frame the sender
// builds is transmitted. --pace drop (the old way) returns XDP_DROP for the
// frames built while no burst is due: several Mpps of them, which fill the
// sender's page_pool cache and spill into the pool's ptr_ring under its
// producer lock, the same lock the receiver takes to return every frame it
// dropped; profiles of the receiver showed ~55-60 % of its time in that lock
// (__pv_queued_spin_lock_slowpath, page_pool_put_unrefed_netmem) for every
// contender, an artefact that pushes all ratios towards 1. A gap longer than
// the spin bound falls back to dropping, as before.
// Without --rate every run returns XDP_TX (several Mpps; the peer's ring drops
// what the receiver cannot take) and --frames counts whole batches.
// Prints one line: "offered <frames> seconds <s> rate <pps>".
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bpf_insn.h"

using xgress::bench::insn;

namespace {

std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::uint32_t add_bytes(std::uint32_t sum, const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
    return sum;
}

bool parse_mac(const std::string& text, std::uint8_t out[6]) {
    unsigned b[6];
    if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return false;
    for (int i = 0; i < 6; ++i) out[i] = static_cast<std::uint8_t>(b[i]);
    return true;
}

// Ethernet + IPv4 (20) + TCP SYN (20), padded to the 60-byte minimum.
std::vector<std::uint8_t> build_syn(const std::uint8_t dst_mac[6], const std::uint8_t src_mac[6], in_addr src,
                                    in_addr dst, std::uint16_t sport, std::uint16_t dport) {
    std::vector<std::uint8_t> f(60, 0);
    std::memcpy(&f[0], dst_mac, 6);
    std::memcpy(&f[6], src_mac, 6);
    f[12] = 0x08;  // ETH_P_IP
    std::uint8_t* ip = &f[14];
    ip[0] = 0x45;
    ip[3] = 40;      // total length
    ip[6] = 0x40;    // DF
    ip[8] = 64;      // TTL
    ip[9] = IPPROTO_TCP;
    std::memcpy(&ip[12], &src, 4);
    std::memcpy(&ip[16], &dst, 4);
    const std::uint16_t ip_sum = fold(add_bytes(0, ip, 20));
    ip[10] = static_cast<std::uint8_t>(ip_sum >> 8);
    ip[11] = static_cast<std::uint8_t>(ip_sum);
    std::uint8_t* tcp = &f[34];
    tcp[0] = static_cast<std::uint8_t>(sport >> 8);
    tcp[1] = static_cast<std::uint8_t>(sport);
    tcp[2] = static_cast<std::uint8_t>(dport >> 8);
    tcp[3] = static_cast<std::uint8_t>(dport);
    tcp[7] = 1;       // sequence number
    tcp[12] = 0x50;   // data offset 5
    tcp[13] = 0x02;   // SYN
    tcp[14] = 0xff;   // window
    std::uint32_t sum = add_bytes(0, &ip[12], 8);  // pseudo header: addresses, proto, length
    sum += IPPROTO_TCP + 20;
    const std::uint16_t tcp_sum = fold(add_bytes(sum, tcp, 20));
    tcp[16] = static_cast<std::uint8_t>(tcp_sum >> 8);
    tcp[17] = static_cast<std::uint8_t>(tcp_sum);
    return f;
}

// The pacer's state: one array entry the program reads and writes through a
// direct map-value pointer (no helper call). Only one CPU runs the program
// (the test run executes on the calling thread, pinned by the caller), so
// plain loads and stores need no atomics.
struct PacerState {
    std::uint64_t sent;        // frames returned XDP_TX so far
    std::uint64_t limit;       // stop transmitting after this many
    std::uint64_t burst_left;  // frames still to send in the current burst
    std::uint64_t next_due;    // ktime (ns) at which the next burst may start
    std::uint64_t burst;       // frames per burst
    std::uint64_t period;      // ns between burst starts = burst / rate
    std::uint64_t first_tx;    // ktime of the first frame sent
    std::uint64_t last_tx;     // ktime of the latest burst start
};
constexpr std::int16_t off(std::size_t o) { return static_cast<std::int16_t>(o); }

// The sender's XDP program. Unpaced: "return XDP_TX". Paced: a token bucket
// on bpf_ktime_get_ns(): XDP_TX while a burst is due, XDP_DROP otherwise.
// A dropped frame goes straight back to the sender's own page_pool on the
// sender's CPU, so pacing costs the receiver nothing.
// With `spin`, a run that finds no burst due waits for it inside the
// program instead of dropping its frame (see --pace above).

int load_sender_prog(int state_map, bool spin) {
    if (state_map < 0) {
        const bpf_insn tx[] = {insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_TX),
                               insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
        return bpf_prog_load(BPF_PROG_TYPE_XDP, "live_tx", "GPL", tx, 2, nullptr);
    }
    constexpr std::uint8_t R0 = BPF_REG_0, R1 = BPF_REG_1, R2 = BPF_REG_2, R3 = BPF_REG_3, R4 = BPF_REG_4,
                           R5 = BPF_REG_5;
    const auto ldx = [](std::uint8_t dst, std::size_t o) { return insn(BPF_LDX | BPF_MEM | BPF_DW, dst, R1, off(o), 0); };
    const auto stx = [](std::uint8_t src, std::size_t o) { return insn(BPF_STX | BPF_MEM | BPF_DW, R1, src, off(o), 0); };
    std::vector<bpf_insn> p = {
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns),  // r0 = now
        insn(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_VALUE, 0, state_map),  // r1 = &state
        insn(0, 0, 0, 0, 0),
        ldx(R2, offsetof(PacerState, sent)),
        ldx(R3, offsetof(PacerState, limit)),
        insn(BPF_JMP | BPF_JGE | BPF_X, R2, R3, 0, 0),  // sent >= limit -> drop   [patched below]
        ldx(R4, offsetof(PacerState, burst_left)),
        insn(BPF_JMP | BPF_JEQ | BPF_K, R4, 0, 3, 0),  // no burst in progress -> check the clock
        insn(BPF_ALU64 | BPF_SUB | BPF_K, R4, 0, 0, 1),
        stx(R4, offsetof(PacerState, burst_left)),
        insn(BPF_JA | BPF_JMP, 0, 0, 0, 0),  // -> tx   [patched below]
        ldx(R5, offsetof(PacerState, next_due)),
        insn(BPF_JMP | BPF_JGT | BPF_X, R5, R0, 0, 0),  // next_due > now -> drop   [patched below]
        ldx(R4, offsetof(PacerState, burst)),
        insn(BPF_ALU64 | BPF_SUB | BPF_K, R4, 0, 0, 1),
        stx(R4, offsetof(PacerState, burst_left)),
        ldx(R4, offsetof(PacerState, period)),
        insn(BPF_ALU64 | BPF_ADD | BPF_X, R5, R4, 0, 0),
        // Never schedule in the past: after a gap (between calls, or a slow
        // iteration) the bucket does not refill, so no catch-up burst can
        // overflow the receiver's ring; the achieved rate is measured instead.
        insn(BPF_JMP | BPF_JGE | BPF_X, R5, R0, 1, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_X, R5, R0, 0, 0),
        stx(R5, offsetof(PacerState, next_due)),
        stx(R0, offsetof(PacerState, last_tx)),
        ldx(R3, offsetof(PacerState, first_tx)),
        insn(BPF_JMP | BPF_JNE | BPF_K, R3, 0, 1, 0),
        stx(R0, offsetof(PacerState, first_tx)),
    };
    // p[12] (next_due > now) jumps to `wait` when spinning, to `drop` when not.
    const auto burst_start = static_cast<std::int16_t>(13);
    const auto tx = static_cast<std::int16_t>(p.size());
    p.push_back(insn(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, 1));
    p.push_back(stx(R2, offsetof(PacerState, sent)));
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, XDP_TX));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    const auto drop = static_cast<std::int16_t>(p.size());
    p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, XDP_DROP));
    p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    // wait: r6 = next_due; read the clock until now >= next_due. The loop is
    // bounded by `may_goto` (kernel >= 6.9: the verifier gives the program an
    // iteration budget, 8M here, and takes the branch once it is spent; then
    // this one frame is dropped, as --pace drop does), not by a counter the
    // verifier would have to walk. The call clobbers r1-r5: the state pointer
    // and `sent` are reloaded and the burst starts at burst_start with
    // r0 = now, r5 = next_due.
    constexpr std::uint8_t R6 = BPF_REG_6;
    constexpr std::uint8_t kMayGoto = BPF_JMP | 0xe0;  // BPF_JCOND, src_reg BPF_MAY_GOTO (0)
    // (Appended only when spinning: the verifier rejects unreachable code.)
    const auto wait = static_cast<std::int16_t>(p.size());
    if (spin) {
        p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, R6, R5, 0, 0));
        const auto loop = static_cast<std::int16_t>(p.size());
        p.push_back(insn(kMayGoto, 0, 0, static_cast<std::int16_t>(drop - loop - 1), 0));
        p.push_back(insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns));
        p.push_back(insn(BPF_JMP | BPF_JLT | BPF_X, R0, R6, static_cast<std::int16_t>(loop - (loop + 2) - 1), 0));
        p.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_VALUE, 0, state_map));
        p.push_back(insn(0, 0, 0, 0, 0));
        p.push_back(ldx(R2, offsetof(PacerState, sent)));
        p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, R5, R6, 0, 0));
        const auto back = static_cast<std::int16_t>(p.size());
        p.push_back(insn(BPF_JA | BPF_JMP, 0, 0, static_cast<std::int16_t>(burst_start - back - 1), 0));
    }
    p[5].off = static_cast<std::int16_t>(drop - 5 - 1);
    p[10].off = static_cast<std::int16_t>(tx - 10 - 1);
    p[12].off = static_cast<std::int16_t>((spin ? wait : drop) - 12 - 1);
    static char log[65536];
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 0, .log_size = sizeof(log), .log_buf = log);
    const int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "live_tx_paced", "GPL", p.data(), p.size(), &opts);
    if (fd < 0) {
        opts.log_level = 1;
        bpf_prog_load(BPF_PROG_TYPE_XDP, "live_tx_paced", "GPL", p.data(), p.size(), &opts);
        std::fprintf(stderr, "verifier:\n%s\n", log);
    }
    return fd;
}

double now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"XDP live-frames packet sender (BPF_PROG_RUN + XDP_TX)"};
    std::string interface, dst_mac_text, src_text = "198.18.0.2", dst_text = "198.18.0.1";
    unsigned dport = 30999, batch = 4'000'000, burst = 128;
    std::uint64_t frames_wanted = 0;
    double rate = 0, seconds = 5;
    app.add_option("--interface", interface, "sending interface (its peer receives)")->required();
    app.add_option("--dst-mac", dst_mac_text, "the receiving interface's MAC")->required();
    app.add_option("--src", src_text, "source IPv4 address");
    app.add_option("--dst", dst_text, "destination IPv4 address");
    app.add_option("--dport", dport, "destination TCP port");
    app.add_option("--frames", frames_wanted, "stop after this many frames (0: run for --seconds)");
    app.add_option("--rate", rate, "frames per second, paced inside the program (0: as fast as possible)");
    app.add_option("--burst", burst, "paced mode: frames sent back to back per token-bucket slot");
    // The test run's page_pool holds batch_size pages (kernel default 64,
    // at most 256): with more frames than that in flight to the peer (a
    // burst of 128, a 256-frame veth ring), the receiver's returns overflow
    // the pool's ring and are freed to the page allocator, and the sender
    // allocates and re-initialises fresh pages: work for both CPUs that a
    // NIC driver's page_pool sized to its ring would not do.
    unsigned pool_batch = 256;
    app.add_option("--pool-batch", pool_batch, "live-frames batch_size = page_pool size (kernel default 64, max 256)");
    std::string pace = "spin";
    app.add_option("--pace", pace, "paced mode: spin (wait in the program for the next burst) or drop (the old way)")
        ->check(CLI::IsMember({"spin", "drop"}));
    app.add_option("--seconds", seconds, "how long to send");
    app.add_option("--batch", batch, "program runs per BPF_PROG_RUN call (paced: sent and dropped alike)");
    CLI11_PARSE(app, argc, argv);

    const unsigned ifindex = if_nametoindex(interface.c_str());
    std::uint8_t dst_mac[6], src_mac[6] = {0x02, 0, 0, 0, 0, 2};
    in_addr src{}, dst{};
    if (!ifindex || !parse_mac(dst_mac_text, dst_mac) || inet_pton(AF_INET, src_text.c_str(), &src) != 1 ||
        inet_pton(AF_INET, dst_text.c_str(), &dst) != 1 || burst == 0) {
        std::fprintf(stderr, "live_frames_sender: bad interface, MAC, address or burst\n");
        return 2;
    }
    const bool paced = rate > 0;
    int state_map = -1;
    if (paced) {
        state_map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pacer", 4, sizeof(PacerState), 1, nullptr);
        if (state_map < 0) {
            std::perror("create pacer map");
            return 1;
        }
        PacerState state{};
        state.limit = frames_wanted ? frames_wanted : UINT64_MAX;
        state.burst = burst;
        state.period = static_cast<std::uint64_t>(1e9 * burst / rate);
        const std::uint32_t key = 0;
        if (bpf_map_update_elem(state_map, &key, &state, BPF_ANY) != 0) {
            std::perror("init pacer map");
            return 1;
        }
    }
    const int prog = load_sender_prog(state_map, pace == "spin");
    if (prog < 0) {
        std::perror("load sender XDP program");
        return 1;
    }
    const auto read_state = [&] {
        PacerState state{};
        const std::uint32_t key = 0;
        bpf_map_lookup_elem(state_map, &key, &state);
        return state;
    };
    // One frame per source port; each call sends one of them `batch` times
    // (the kernel recycles the page, it does not re-copy the data).
    std::vector<std::vector<std::uint8_t>> frames;
    for (std::uint16_t i = 0; i < 1024; ++i)
        frames.push_back(build_syn(dst_mac, src_mac, src, dst, static_cast<std::uint16_t>(20000 + i),
                                   static_cast<std::uint16_t>(dport)));

    xdp_md ctx{};
    ctx.ingress_ifindex = ifindex;
    std::uint64_t offered = 0;
    const double start = now();
    for (std::size_t call = 0;; ++call) {
        const double elapsed = now() - start;
        if (elapsed >= seconds || (frames_wanted && offered >= frames_wanted)) break;
        const auto& frame = frames[call % frames.size()];
        ctx.data_end = static_cast<__u32>(frame.size());  // the kernel insists: data_end == data size
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(batch),
                    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = pool_batch);
        if (bpf_prog_test_run_opts(prog, &opts) != 0) {
            std::perror("BPF_PROG_RUN (live frames)");
            return 1;
        }
        offered = paced ? read_state().sent : offered + batch;
    }
    const double took = now() - start;
    if (!paced) {
        std::printf("offered %llu seconds %.3f rate %.0f\n", static_cast<unsigned long long>(offered), took,
                    static_cast<double>(offered) / took);
        return 0;
    }
    // Paced: the rate between the first and the last burst, by the program's clock.
    const PacerState state = read_state();
    const double span = static_cast<double>(state.last_tx - state.first_tx) * 1e-9;
    const double sent_in_span = static_cast<double>(state.sent > burst ? state.sent - burst : 0);
    std::printf("offered %llu seconds %.3f rate %.0f\n", static_cast<unsigned long long>(state.sent), span,
                span > 0 ? sent_in_span / span : 0.0);
    return 0;
}

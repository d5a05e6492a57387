// A packet sender that behaves like a NIC towards the receiving veth: it runs
// a one-instruction XDP program returning XDP_TX through BPF_PROG_RUN with
// BPF_F_TEST_XDP_LIVE_FRAMES on the sending veth, so the kernel hands ready
// xdp_frames to the peer's receive path (several Mpps on one core), instead of
// building skbs the way AF_PACKET senders do (~1 Mpps, and then the receiver
// pays the skb cost whatever filter runs; see /work/shared/benchmarking.md).
//
//   live_frames_sender --interface IF --dst-mac MAC --src IP --dst IP --dport N
//                      [--frames N] [--rate PPS] [--seconds S] [--batch N]
//
// Run it inside the sender's namespace, pinned to its own CPU. Frames: an
// IPv4 TCP SYN with valid IP and TCP checksums (a bad checksum is dropped
// before netfilter's hooks, which would make netfilter look free), source
// ports rotating over 1024 values. Stops after --frames frames (rounded up to
// whole batches) or --seconds, whichever comes first. --rate paces calls of
// --batch frames against an absolute schedule (0 = as fast as possible); each
// call costs ~25 ms of fixed setup on the kernels here whatever its size, so
// pacing is bursty: a batch leaves at full speed, then the sender waits.
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

int load_xdp_tx() {
    bpf_insn insns[2]{};
    insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
    insns[0].dst_reg = BPF_REG_0;
    insns[0].imm = XDP_TX;
    insns[1].code = BPF_JMP | BPF_EXIT;
    return bpf_prog_load(BPF_PROG_TYPE_XDP, "live_tx", "GPL", insns, 2, nullptr);
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
    unsigned dport = 30999, batch = 4'000'000;
    std::uint64_t frames_wanted = 0;
    double rate = 0, seconds = 5;
    app.add_option("--interface", interface, "sending interface (its peer receives)")->required();
    app.add_option("--dst-mac", dst_mac_text, "the receiving interface's MAC")->required();
    app.add_option("--src", src_text, "source IPv4 address");
    app.add_option("--dst", dst_text, "destination IPv4 address");
    app.add_option("--dport", dport, "destination TCP port");
    app.add_option("--frames", frames_wanted, "stop after this many frames (0: run for --seconds)");
    app.add_option("--rate", rate, "frames per second (0: as fast as possible)");
    app.add_option("--seconds", seconds, "how long to send");
    app.add_option("--batch", batch, "frames per BPF_PROG_RUN call");
    CLI11_PARSE(app, argc, argv);

    const unsigned ifindex = if_nametoindex(interface.c_str());
    std::uint8_t dst_mac[6], src_mac[6] = {0x02, 0, 0, 0, 0, 2};
    in_addr src{}, dst{};
    if (!ifindex || !parse_mac(dst_mac_text, dst_mac) || inet_pton(AF_INET, src_text.c_str(), &src) != 1 ||
        inet_pton(AF_INET, dst_text.c_str(), &dst) != 1) {
        std::fprintf(stderr, "live_frames_sender: bad interface, MAC or address\n");
        return 2;
    }
    const int prog = load_xdp_tx();
    if (prog < 0) {
        std::perror("load XDP_TX program");
        return 1;
    }
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
        if (rate > 0) {
            const double due = static_cast<double>(offered) / rate;  // when this batch may start
            if (due > elapsed) {
                const double wait = due - elapsed;
                timespec ts{static_cast<time_t>(wait), static_cast<long>((wait - static_cast<double>(
                                                                                      static_cast<time_t>(wait))) *
                                                                         1e9)};
                nanosleep(&ts, nullptr);
                continue;
            }
        }
        const auto& frame = frames[call % frames.size()];
        ctx.data_end = static_cast<__u32>(frame.size());  // the kernel insists: data_end == data size
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(batch),
                    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
        if (bpf_prog_test_run_opts(prog, &opts) != 0) {
            std::perror("BPF_PROG_RUN (live frames)");
            return 1;
        }
        offered += batch;
    }
    const double took = now() - start;
    std::printf("offered %llu seconds %.3f rate %.0f\n", static_cast<unsigned long long>(offered), took,
                static_cast<double>(offered) / took);
    return 0;
}

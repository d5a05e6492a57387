// xgress-proxy: the node's HTTP reverse proxy.
//
//   xgress-proxy --listen 127.0.0.1:10080 --control-socket /run/xgress/control.sock
//   xgress-proxy --listen 127.0.0.1:10080 --workers 1 --snapshot-file routes.json
//   xgress-proxy --listen 127.0.0.1:10080 --listen-tls 127.0.0.1:10443 --snapshot-file routes.json
//
// SIGHUP re-reads --snapshot-file (certificate rotation without an agent; a
// bad file is logged and the running snapshot stays).
// Routing comes from the agent over the control socket, or from a snapshot
// file (tests, benchmarks). SIGTERM / SIGINT drain it: no new connections,
// in-flight requests finish, idle keep-alives close, exit within
// --drain-timeout-ms.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <stop_token>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "control/control_client.h"
#include "proxy_server.h"

namespace {

// Routing swaps allocate and free tens of MiB at a time (a 10,000-rule
// table and its snapshot). glibc would return freed memory at the top of a
// heap to the kernel (trim) and serve blocks over its mmap threshold with
// fresh mappings, so every swap page-faulted its memory in again: ~6,000
// faults per 10,000-rule swap, each 2-4 us on these VMs, more CPU than the
// decode and build themselves. Keeping freed memory and serving large
// blocks from the heaps lets the next build reuse the retired table's
// pages; the price is that RSS stays near its peak (about three tables).
void keep_freed_memory() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum; fixed (no dynamic raising)
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace

int main(int argc, char** argv) {
    keep_freed_memory();
    CLI::App app{"xgress-proxy: io_uring HTTP/1.1 reverse proxy"};
    xgress::ProxyOptions options;
    options.workers = std::max(1u, std::thread::hardware_concurrency());
    options.admin = "127.0.0.1:10254";
    std::string control_socket;
    std::string snapshot_file;
    std::string log_level = "info";
    app.add_option("--listen", options.listen, "Address the HTTP listener binds (ADDR:PORT)")->capture_default_str();
    app.add_option("--listen-tls", options.listen_tls, "Listener whose connections all speak TLS (ADDR:PORT; HTTPS frontends on --listen need none)");
    app.add_option("--ktls", options.ktls, "Kernel TLS after the handshake: on, off or auto")->capture_default_str();
    unsigned ticket_rotation_s = 3600;
    app.add_option("--ticket-key-rotation-s", ticket_rotation_s, "Session-ticket key rotation period (the 2 previous keys still decrypt)")->capture_default_str();
    app.add_option("--admin", options.admin, "Admin listener for /healthz /readyz /metrics /config (ADDR:PORT, \"\" = off)")->capture_default_str();
    app.add_option("--workers", options.workers, "Worker threads, one io_uring each (default: CPUs)");
    app.add_option("--control-socket", control_socket, "Agent control socket (unix stream)");
    app.add_option("--snapshot-file", snapshot_file, "Serve this routing snapshot (JSON) instead of/before the agent's");
    auto& w = options.worker;
    app.add_option("--client-header-timeout-ms", w.client_header_timeout_ms, "A started request head must complete within")->capture_default_str();
    app.add_option("--client-body-timeout-ms", w.client_body_timeout_ms, "Longest pause between two reads of a request body")->capture_default_str();
    app.add_option("--keepalive-timeout-ms", w.client_idle_timeout_ms, "Idle client keep-alive connections close after")->capture_default_str();
    app.add_option("--client-send-timeout-ms", w.client_send_timeout_ms, "Longest stall writing to a client")->capture_default_str();
    app.add_option("--tls-handshake-timeout-ms", w.tls_handshake_timeout_ms, "A TLS handshake must finish within this long after accept")->capture_default_str();
    app.add_option("--upstream-connect-timeout-ms", w.route_defaults.connect_timeout_ms, "Upstream connect timeout (504)")->capture_default_str();
    app.add_option("--upstream-send-timeout-ms", w.route_defaults.send_timeout_ms, "Longest stall writing to an upstream (504)")->capture_default_str();
    app.add_option("--upstream-read-timeout-ms", w.route_defaults.read_timeout_ms, "Longest wait for upstream response bytes (504)")->capture_default_str();
    app.add_option("--upstream-idle-timeout-ms", w.upstream_idle_timeout_ms, "Pooled upstream connections close after")->capture_default_str();
    app.add_option("--upstream-max-idle", w.max_idle_per_endpoint, "Idle upstream keep-alive connections kept per endpoint and worker")->capture_default_str();
    app.add_option("--tunnel-idle-timeout-ms", w.tunnel_idle_timeout_ms, "WebSocket / L4 tunnels with no byte either way close after")->capture_default_str();
    app.add_option("--max-body-bytes", w.route_defaults.max_body_bytes, "Request body limit, 0 = none (413)")->capture_default_str();
    app.add_option("--recv-buffers", w.buffer_count, "Receive buffers per worker (provided-buffer ring; a power of two)")
        ->check(CLI::Range(16u, 32768u))->capture_default_str();
    app.add_option("--recv-buffers-initial", w.buffer_initial,
                   "Receive buffers provided at start; doubled on demand up to --recv-buffers (only provided ones become resident)")
        ->check(CLI::Range(1u, 32768u))->capture_default_str();
    app.add_option("--recv-buffer-size", w.buffer_size, "Bytes per receive buffer: one receive takes at most this much")
        ->check(CLI::Range(4096u, 1u << 20))->capture_default_str();
    std::string ring_mode = "auto";
    app.add_option("--ring-mode", ring_mode,
                   "io_uring setup: auto (defer-taskrun, else coop-taskrun, else plain), defer-taskrun, coop-taskrun or plain")
        ->check(CLI::IsMember({"auto", "defer-taskrun", "coop-taskrun", "plain"}))->capture_default_str();
    app.add_option("--ring-wait-nr", w.wait_nr, "Completions the worker waits for (with --ring-min-wait-us; 1 = any)")
        ->check(CLI::Range(1u, 4096u))->capture_default_str();
    app.add_option("--ring-min-wait-us", w.min_wait_us,
                   "Longest wait for --ring-wait-nr completions before taking any (0 = off; kernel 6.12+)")
        ->capture_default_str();
    std::string balance = "p2c";
    app.add_option("--balance", balance, "Endpoint choice: p2c (two random choices, fewer in-flight requests wins) or round_robin")
        ->check(CLI::IsMember({"p2c", "round_robin"}))->capture_default_str();
    std::uint32_t drain_timeout_ms = 30000;
    app.add_option("--drain-timeout-ms", drain_timeout_ms, "On SIGTERM/SIGINT, longest wait for in-flight requests")->capture_default_str();
    app.add_option("--access-log", options.access_log, "Append one JSON line per request to this file (default: off; written off the workers, lines dropped and counted if the disk falls behind)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (w.buffer_count & (w.buffer_count - 1)) {
        std::fprintf(stderr, "--recv-buffers: %u is not a power of two\n", w.buffer_count);
        return 2;
    }
    spdlog::set_level(spdlog::level::from_str(log_level));
    w.ring_mode = *xgress::io::parse_ring_mode(ring_mode);  // CLI11 checked the name
    w.balance = balance == "round_robin" ? xgress::upstream::Balance::RoundRobin : xgress::upstream::Balance::P2c;

    // Signals are taken synchronously by main; every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    auto server = xgress::ProxyServer::start(options);
    if (!server) {
        spdlog::error("{}", server.error());
        return 1;
    }
    spdlog::info("listening on {} with {} workers", options.listen, options.workers);
    if (!options.admin.empty()) spdlog::info("admin listener on {}", options.admin);

    auto load_snapshot_file = [&]() -> bool {
        std::ifstream in(snapshot_file);
        if (!in) {
            spdlog::error("--snapshot-file: cannot read {}", snapshot_file);
            return false;
        }
        std::stringstream text;
        text << in.rdbuf();
        auto snap = xgress::snapshot::decode(text.str());
        if (!snap) {
            spdlog::error("--snapshot-file {}: {}", snapshot_file, snap.error());
            return false;
        }
        if (auto r = (*server)->apply(*snap); !r) {
            spdlog::error("--snapshot-file {}: {}", snapshot_file, r.error());
            return false;
        }
        spdlog::info("serving snapshot version {} from {}", snap->version, snapshot_file);
        return true;
    };
    if (!snapshot_file.empty() && !load_snapshot_file()) return 1;

    std::unique_ptr<xgress::control::ControlClient> control;
    if (!control_socket.empty()) {
        control = std::make_unique<xgress::control::ControlClient>(
            control_socket, (*server)->announced_listener(), options.listen,
            [&](std::string&& json, std::chrono::steady_clock::time_point& decoded_at) {
                return (*server)->apply_json(std::move(json), &decoded_at);
            },
            [&](const xgress::snapshot::EndpointsPatch& patch) { return (*server)->apply_patch(patch); },
            [&] { (*server)->release_retired(); });
        control->start();
    }

    // Session-ticket keys rotate on a thread of their own, so the main thread
    // stays a plain sigwait() (valgrind's sigtimedwait emulation could starve it).
    std::mutex rotation_mutex;
    std::condition_variable_any rotation_wake;
    std::jthread rotation([&](std::stop_token stop) {
        std::unique_lock lock(rotation_mutex);
        while (!stop.stop_requested()) {
            if (!rotation_wake.wait_for(lock, stop, std::chrono::seconds(std::max(1u, ticket_rotation_s)),
                                        [] { return false; }) &&
                !stop.stop_requested())
                (*server)->rotate_ticket_keys();
        }
    });
    int sig = 0;
    for (;;) {
        sigwait(&signals, &sig);
        if (sig != SIGHUP) break;
        if (!snapshot_file.empty()) load_snapshot_file();
    }
    rotation.request_stop();
    rotation.join();
    spdlog::info("received signal {}, draining (at most {} ms)", sig, drain_timeout_ms);
    if (control) control->stop();
    const bool drained = (*server)->drain(drain_timeout_ms);
    spdlog::info("{}", drained ? "drained; exiting" : "drain timeout; exiting with connections still open");
    return 0;
}

// One proxy worker: a thread with its own io_uring, its own SO_REUSEPORT
// listener, its own buffer ring, connection pools and upstream keep-alive
// pool. Workers share nothing on the request path; the only cross-thread
// touch points are the snapshot slot (new routing tables) and the stop flag.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "io/backend_metrics.h"
#include "io/buffer_ring.h"
#include "io/connection.h"
#include "io/ring.h"
#include "io/shared_slot.h"
#include "io/snapshot_slot.h"
#include "io/worker_stats.h"
#include "router/route_table.h"
#include "tls/tls_client_session.h"
#include "tls/tls_session.h"
#include "tls/tls_state.h"
#include "log/access_log.h"
#include "upstream/endpoint_picker.h"

namespace xgress::io {

struct WorkerOptions {
    unsigned ring_entries = 4096;
    RingMode ring_mode = RingMode::Auto;  // --ring-mode
    // How the loop waits (--ring-wait-nr / --ring-min-wait-us): 1 / 0 is
    // io_uring_submit_and_wait(1). wait_nr > 1 with min_wait_us waits for
    // that many completions for at most min_wait_us, then for any.
    unsigned wait_nr = 1;
    std::uint32_t min_wait_us = 0;
    // Receive buffers (provided-buffer ring, shared by all receives). 32 KiB:
    // a 16 KiB response and its head arrive in one receive (with 16 KiB
    // buffers two receives, two completions, ~20% more CPU per response);
    // 512 of them keep the ring at the 16 MiB it had with 1024 x 16 KiB.
    unsigned buffer_count = 512;         // power of two
    unsigned buffer_size = 32 * 1024;
    // Buffers provided at start; the ring doubles what it provides (up to
    // buffer_count) when a receive finds it empty or held buffers reach half
    // of it. Only provided buffers ever become resident (io/buffer_ring.h):
    // 64 x 32 KiB = 2 MiB, which also keeps a light load's receives in cache.
    unsigned buffer_initial = 64;
    std::size_t high_water = 256 * 1024; // pause reading a peer when this much waits for the other side
    // Idle upstream connections kept per endpoint and worker. Must exceed the
    // concurrent requests one endpoint sees, or every burst closes and reopens
    // connections: at 64 the benchmark's 256 clients churned ~400 TIME-WAITs per
    // 10 s while nginx and HAProxy kept all 256 (test/bench/proxy_bench.sh).
    std::size_t max_idle_per_endpoint = 1024;

    // Client side (nginx names in brackets).
    std::uint32_t client_header_timeout_ms = 60000;  // a started request head must complete [client_header_timeout]
    std::uint32_t client_body_timeout_ms = 60000;    // between two reads of a request body [client_body_timeout]
    std::uint32_t client_idle_timeout_ms = 75000;    // keep-alive wait for the next request [keepalive_timeout]
    std::uint32_t client_send_timeout_ms = 60000;    // no progress writing to the client [send_timeout]
    std::uint32_t tls_handshake_timeout_ms = 10000;  // accept to finished TLS handshake [ssl_handshake_timeout]
    std::uint32_t upstream_idle_timeout_ms = 60000;  // pooled upstream connection unused this long is closed
    // A tunnel (after a 101 Upgrade, or an L4 frontend) with no byte either
    // way for this long is closed [HAProxy timeout tunnel]. One hour: long
    // enough for quiet WebSockets that ping every few minutes, short enough
    // that abandoned ones do not pile up.
    std::uint32_t tunnel_idle_timeout_ms = 3600000;
    // Upstream side defaults; a route target may override them (router::RoutePolicy).
    router::RoutePolicy route_defaults{.connect_timeout_ms = 5000, .send_timeout_ms = 60000,
                                       .read_timeout_ms = 60000, .max_body_bytes = 0};
    std::uint32_t timer_tick_ms = 100;  // timer resolution: deadlines fire up to one tick late
    upstream::Balance balance = upstream::Balance::P2c;  // --balance
};

class Worker {
public:
    Worker(unsigned index, int listen_fd, WorkerOptions options = {});
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    // Starts the thread; the ring is created on it (single-issuer rings must be).
    void start();
    void stop();   // asks the loop to exit; join with wait()
    void wait();

    SnapshotSlot& snapshot_slot() { return slot_; }
    // TLS state (certificates, passthrough hosts) for new handshakes.
    SharedSlot<tls::TlsState>& tls_slot() { return tls_slot_; }
    // A second listener whose connections all speak TLS (--listen-tls); before start().
    void set_tls_listener(int fd) { tls_listen_fd_ = fd; }
    // This worker's side of the access log (--access-log); before start(). Null: off.
    void set_access_log(log::AccessLogBuffer* buffer) { access_log_ = buffer; }
    // Graceful drain (worker_drain.cpp): stop accepting, close idle keep-alive
    // connections, answer `Connection: close` from now on; in-flight requests
    // finish. accepting() turns false once the accept is cancelled.
    void begin_drain();
    bool accepting() const { return !accept_stopped_.load(std::memory_order_acquire); }
    int listen_fd() const { return listen_fd_; }
    const WorkerStats& stats() const { return stats_; }
    // Adds this worker's per-backend counters into `out` (admin thread).
    void add_backend_metrics(BackendTotalsByName& out) const;
    // Adds this worker's per-route request counts into `out` (admin thread).
    void add_route_metrics(RouteTotalsByName& out) const;

private:
    // The low 3 bits of user_data (objects are 8-aligned). Control
    // completions carry no object; their kind sits in the upper bits.
    enum class Op : std::uint8_t { Ignore = 0, Control, ClientRecv, ClientSend, UpRecv, UpSend, UpConnect };
    enum class Control : std::uint64_t { Accept = 0, Wake = 8, Tick = 16, AcceptTls = 24 };

    void run();
    std::expected<void, std::string> setup();
    void loop();
    void handle(io_uring_cqe* cqe);
    io_uring_sqe* sqe();
    static std::uint64_t tag(void* p, Op op) { return reinterpret_cast<std::uint64_t>(p) | static_cast<std::uint64_t>(op); }
    static std::uint64_t tag(Control c) { return static_cast<std::uint64_t>(c) | static_cast<std::uint64_t>(Op::Control); }

    // I/O plumbing (worker.cpp)
    void arm_accept();
    void arm_accept_tls();
    void arm_wake();
    void arm_recv(Stream& s, Op op);
    void cancel_recv(Stream& s, Op op);
    void flush(Stream& s, Op op);  // queues a send of s.out for the end of the batch
    void send_queued();             // prepares the queued sends
    void send_out(Stream& s, Op op);
    void send_with_held(Stream& s, Op op);  // sendmsg of `sending` + its held slices from `sent` on
    void recycle_held(Stream& s);           // returns every held receive buffer to the ring
    // Receives that ended with ENOBUFS wait in starved_ and are re-armed at the
    // end of a batch, at most one per free buffer (worker.cpp explains why).
    void starve(Stream& s, bool client);
    void rearm_starved();
    void on_accept(int res, bool tls_listener);
    void on_recv(Stream& s, bool client, io_uring_cqe* cqe);
    void on_send(Stream& s, bool client, int res);
    void on_connect(Upstream& u, int res);
    void update_client_recv(Session& s);
    void update_upstream_recv(Upstream& u);
    void close_stream(Stream& s);
    void maybe_release(Stream& s, bool client);
    void release_pending();

    // Timers (worker_timers.cpp): one ring timeout ticks; each tick scans
    // the connections' deadlines.
    void arm_tick();
    void on_tick();
    void expire_session(Session& s);
    void expire_upstream(Upstream& u);
    void set_session_timer(Session& s, Session::Timer t, std::uint32_t ms);
    void set_upstream_timer(Upstream& u, Upstream::Timer t, std::uint32_t ms);
    void refresh_clock();
    std::uint32_t send_timeout_for(const Stream& s, bool client) const;

    // HTTP flow (http_flow.cpp)
    void drive_client(Session& s);
    void start_request(Session& s);
    void forward_request_body(Session& s);
    // `fresh`: received bytes not yet copied anywhere (read in place when possible).
    void drive_upstream(Upstream& u, std::string_view fresh = {});
    void finish_response(Session& s, Upstream& u);
    // How an upstream attempt failed decides retry and passive health.
    enum class UpstreamFailure : std::uint8_t { Connect, ConnectTimeout, Io, ReadTimeout, SendTimeout, Protocol };
    void upstream_failed(Upstream& u, const char* why, UpstreamFailure kind);
    bool retry_request(Session& s, Upstream& failed, UpstreamFailure kind);
    void attach_upstream(Session& s, std::uint32_t endpoint, bool allow_pooled);
    void client_gone(Session& s);
    void respond_local(Session& s, int status, bool keep_alive);
    void after_client_send(Session& s);
    Upstream* acquire_upstream(const router::EndpointAddress& ep, bool allow_pooled,
                               const std::shared_ptr<const tls::UpstreamTls>& tls);
    void park_upstream(Upstream& u);
    void unpark_upstream(Upstream& u);
    void close_session(Session& s);
    // Closes and releases the session's upstream, if any.
    void detach_upstream(Session& s);
    // A request that cannot go on (bad or oversized body, timeout): answer
    // `status` and close, or just close when a response has already started.
    void abandon_request(Session& s, int status);

    // Route policies (route_policy_flow.cpp): allow list, redirects, app
    // root, rewrite, endpoint choice incl. consistent hashing and cookies.
    bool apply_route_policy(Session& s, const router::RouteTarget& route, const router::Captures& caps);
    std::uint32_t choose_endpoint(Session& s, const router::RouteTarget* route, std::uint32_t backend);
    void answer_locally(Session& s, int status);  // consumes the request head, keeps the connection if it can
    void count_outstanding(Session& s, std::uint32_t endpoint);
    void observe_response(const Upstream& u, int status);  // per-backend status class + latency
    // Counts the request under its route (s.extra.route) and the status class
    // of its response, once per request: when a response head goes out.
    void count_route(Session& s, int status);
    // Adds (or drops) the affinity Set-Cookie so it names `endpoint`; used
    // by the first choice and again when a retry moves the request.
    void set_affinity_cookie(Session& s, const router::RouteTarget& route, std::uint32_t endpoint);
    void end_outstanding(Session& s);
    void fill_forwarding(Session& s);  // request id and dialled port for the upstream head
    void ensure_request_id(Session& s);
    // Access log: begin when a request is routed (target may be null), end
    // once per request with its outcome (http_flow.cpp).
    void log_begin(Session& s, const router::RouteTarget* target, bool parsed);
    void log_end(Session& s, int status, std::string_view upstream, std::int64_t upstream_latency_us);
    void adopt_table();  // next_table_ becomes table_; the picker keeps unchanged backends' state
    void start_drain();

    // Tunnels (tunnel.cpp): L4 passthrough frontends and upgraded connections.
    // Which protocol an accepted connection speaks (frontend lookup by the
    // dialled address); Tcp frontends are started here. Returns false when the
    // connection was closed.
    bool start_frontend(Session& s, bool& https);
    bool start_tunnel(Session& s, std::uint32_t backend);
    void pump_tunnel(Session& s);
    void start_upgraded_tunnel(Session& s, Upstream& u);

    // TLS transport (tls_transport.cpp): the client side of a Session when
    // it arrived on an HTTPS frontend or the TLS listener.
    bool start_tls(Session& s);
    // Feeds received ciphertext; false when the session was closed or handed
    // to passthrough (the caller stops looking at it as HTTP).
    bool tls_receive(Session& s, const char* data, std::size_t n);
    void flush_tls(Session& s);
    void release_tls(Session& s);
    void start_passthrough(Session& s);
    // Tunnels over TLS: queue close_notify before the write side is shut;
    // true once nothing (any more) waits to be sent.
    bool client_close_notify(Session& s);

    // Upstream TLS (upstream_tls.cpp): backend-protocol HTTPS routes.
    bool start_upstream_tls(Upstream& u, const std::shared_ptr<const tls::UpstreamTls>& tls);
    void upstream_tls_receive(Upstream& u, const char* data, std::size_t n);
    void flush_upstream_tls(Upstream& u);
    void upstream_tls_closed_early(Upstream& u);  // EOF before the handshake finished
    void release_upstream_tls(Upstream& u);
    void free_upstream_tls_sessions();

    Session* new_session();
    Upstream* new_upstream();

    unsigned index_;
    int listen_fd_;
    WorkerOptions options_;
    io_uring ring_{};
    bool ring_ready_ = false;
    BufferRing buffers_;
    int wake_fd_ = -1;
    std::uint64_t wake_value_ = 0;
    std::atomic<bool> stopping_{false};
    bool accept_armed_ = false;
    int tls_listen_fd_ = -1;
    bool accept_tls_armed_ = false;
    std::uint64_t now_ms_ = 0;               // monotonic, refreshed once per completion batch
    std::uint64_t now_us_ = 0;               // the same instant in microseconds (latency histograms)
    __kernel_timespec tick_{};
    WorkerStats stats_;
    std::thread thread_;

    SnapshotSlot slot_;
    std::uint64_t slot_seen_ = 0;
    std::shared_ptr<const router::RouteTable> table_;
    std::shared_ptr<const router::RouteTable> next_table_;
    upstream::EndpointPicker picker_;
    router::MatchScratch scratch_;           // regex match data, this worker's only
    std::uint64_t request_id_prefix_ = 0;    // random per worker
    char request_id_prefix_hex_[16] = {};
    std::uint64_t request_counter_ = 0;
    std::atomic<bool> draining_{false};
    std::atomic<bool> accept_stopped_{false};
    bool drain_started_ = false;
    std::shared_ptr<BackendMetrics> metrics_;  // swapped under metrics_mutex_ (never on the request path)
    mutable std::mutex metrics_mutex_;

    SharedSlot<tls::TlsState> tls_slot_;
    std::uint64_t tls_seen_ = 0;
    std::shared_ptr<const tls::TlsState> tls_;
    std::vector<std::unique_ptr<tls::TlsSession>> tls_sessions_;  // owns every TlsSession ever made
    std::vector<tls::TlsSession*> free_tls_;
    std::vector<std::unique_ptr<tls::TlsClientSession>> client_tls_sessions_;  // upstream side, pooled
    std::vector<tls::TlsClientSession*> free_client_tls_;
    std::string pool_key_;  // scratch: endpoint text + TLS tag

    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::vector<Upstream*>, StringHash, std::equal_to<>> idle_;
    // Upstream TLS sessions to resume, per pool key (endpoint + TLS setting): a
    // new connection to an endpoint skips the full handshake. This worker's only.
    std::unordered_map<std::string, SSL_SESSION*, StringHash, std::equal_to<>> upstream_tls_sessions_;

    std::vector<std::unique_ptr<Session>> sessions_;    // owns every Session ever made
    std::vector<std::unique_ptr<Upstream>> upstreams_;  // owns every Upstream ever made
    std::vector<Session*> free_sessions_;
    std::vector<Upstream*> free_upstreams_;
    std::vector<std::pair<Stream*, bool>> to_release_;
    std::vector<std::pair<Stream*, Op>> to_flush_;
    std::vector<std::pair<Stream*, bool>> starved_;  // (stream, client) in ENOBUFS order; stale entries have !recv_starved
    // Receive buffers held for sending without a copy (Stream::held); capped at
    // a quarter of the ring so slow clients cannot drain what every receive needs.
    unsigned held_buffers_ = 0;
    // Provides more receive buffers (doubling, up to --recv-buffers).
    void grow_buffers();
    bool fresh_taken_ = false;  // drive_upstream kept the receive buffer it was given
    std::uint16_t fresh_bid_ = 0;  // streams whose output is sent at the end of the batch
    std::size_t live_sessions_ = 0;
    log::AccessLogBuffer* access_log_ = nullptr;
};

}  // namespace xgress::io

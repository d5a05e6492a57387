// Counters of one worker. Each is written by its worker thread only (a
// relaxed load + store, no locked instruction on the request path) and read
// by anyone (the admin listener, tests) with relaxed loads; readers sum the
// workers. Values are monotonic except the gauges marked so.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

namespace xgress::io {

class Counter {
public:
    void inc(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void dec() { v_.store(v_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed); }
    std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

// The statuses the proxy answers by itself, in a fixed order.
inline constexpr std::array<int, 14> kGeneratedStatuses = {301, 302, 307, 308, 400, 403, 404,
                                                           408, 413, 431, 502, 503, 504, 505};

inline std::size_t generated_index(int status) {
    for (std::size_t i = 0; i < kGeneratedStatuses.size(); ++i)
        if (kGeneratedStatuses[i] == status) return i;
    return kGeneratedStatuses.size();  // "other" (501, 505)
}

struct WorkerStats {
    std::array<Counter, kGeneratedStatuses.size() + 1> generated;  // last: other
    Counter requests;             // request heads parsed and routed or answered
    Counter upstream_retries;     // requests re-sent after a failed attempt
    Counter endpoint_ejections;   // passive health ejections
    Counter client_timeouts;      // header, body, idle and send timeouts on client connections
    Counter upstream_timeouts;    // connect, send and read timeouts
    Counter active_connections;   // gauge: client connections open
    // TLS (io/tls_transport.cpp)
    Counter tls_handshakes;       // completed handshakes (full + resumed)
    Counter tls_resumed;          // of which resumed with a session ticket
    Counter tls_handshake_errors; // failed handshakes, malformed ClientHellos, bad records before the handshake ended
    Counter tls_passthrough;      // connections relayed undecrypted by SNI (ssl-passthrough)
    Counter upstream_tls_handshakes;  // TLS handshakes with endpoints (backend-protocol HTTPS)
    Counter upstream_tls_resumed;     // of which resumed a session of an earlier connection
    Counter upstream_tls_errors;      // failed handshakes / verification / bad records with endpoints
    Counter idle_upstreams;       // gauge: pooled keep-alive upstream connections
    // Receive buffer ring (io/buffer_ring.h): does it run dry?
    Counter recv_enobufs;         // multishot receives that ended because the ring had no free buffer
    Counter recv_held_cap_hits;   // upstream bytes copied instead of sent in place: the held quarter was full
    Counter recv_held_peak;       // gauge: most receive buffers held for in-place sends at once
    Counter recv_buffer_bytes;    // gauge: bytes of receive buffers provided to the kernel (grows, never shrinks)
};

// A plain-value sum over workers, taken when someone asks (scrape, test).
struct StatsTotals {
    std::array<std::uint64_t, kGeneratedStatuses.size() + 1> generated{};
    std::uint64_t requests = 0, upstream_retries = 0, endpoint_ejections = 0;
    std::uint64_t client_timeouts = 0, upstream_timeouts = 0, active_connections = 0;
    std::uint64_t tls_handshakes = 0, tls_resumed = 0, tls_handshake_errors = 0, tls_passthrough = 0;
    std::uint64_t upstream_tls_handshakes = 0, upstream_tls_resumed = 0, upstream_tls_errors = 0;
    // Process-wide, filled by ProxyServer (not per worker).
    std::uint64_t tls_certificate_problems = 0;  // certificates rejected by the last snapshot
    bool ktls_enabled = false;                   // kTLS in use for new connections
    std::uint64_t idle_upstreams = 0;
    std::uint64_t access_log_lines = 0;    // handed to the access log writer
    std::uint64_t access_log_dropped = 0;  // dropped because the writer fell behind
    std::uint64_t recv_enobufs = 0, recv_held_cap_hits = 0;
    std::uint64_t recv_held_peak = 0;  // the largest worker's, not a sum: each worker has its own ring
    std::uint64_t recv_buffer_bytes = 0;  // sum over workers: receive buffer memory that may be resident

    void add(const WorkerStats& w) {
        for (std::size_t i = 0; i < generated.size(); ++i) generated[i] += w.generated[i].get();
        requests += w.requests.get();
        upstream_retries += w.upstream_retries.get();
        endpoint_ejections += w.endpoint_ejections.get();
        client_timeouts += w.client_timeouts.get();
        upstream_timeouts += w.upstream_timeouts.get();
        active_connections += w.active_connections.get();
        tls_handshakes += w.tls_handshakes.get();
        tls_resumed += w.tls_resumed.get();
        tls_handshake_errors += w.tls_handshake_errors.get();
        tls_passthrough += w.tls_passthrough.get();
        upstream_tls_handshakes += w.upstream_tls_handshakes.get();
        upstream_tls_resumed += w.upstream_tls_resumed.get();
        upstream_tls_errors += w.upstream_tls_errors.get();
        idle_upstreams += w.idle_upstreams.get();
        recv_enobufs += w.recv_enobufs.get();
        recv_held_cap_hits += w.recv_held_cap_hits.get();
        recv_held_peak = std::max(recv_held_peak, w.recv_held_peak.get());
        recv_buffer_bytes += w.recv_buffer_bytes.get();
    }
    std::uint64_t generated_count(int status) const { return generated[generated_index(status)]; }
};

}  // namespace xgress::io

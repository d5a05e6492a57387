// Per-connection state of a worker: the client side (Session) and the
// upstream side (Upstream). Objects are pooled by the worker and reused, and
// their strings keep their capacity, so a steady stream of keep-alive requests
// allocates nothing. Everything here belongs to exactly one worker thread.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

#include "http/body_framer.h"
#include "http/request_parser.h"
#include "http/response_parser.h"
#include "io/request_extras.h"
#include "router/route_policy.h"

namespace xgress::tls {
class TlsSession;
class TlsClientSession;
class UpstreamTls;
}

namespace xgress::io {

// A receive buffer (or part of one) queued for sending as it is, without a
// copy: it goes out at byte `at` of the output it was queued with, so bytes
// appended to that output later follow it. The buffer returns to the ring
// once the send that carried it completes (or the connection is released).
struct HeldSlice {
    const char* data = nullptr;
    std::uint32_t len = 0;
    std::uint32_t at = 0;
    std::uint16_t bid = 0;
};

// One socket with its buffered input and double-buffered output: `sending` is
// in flight in the kernel and must not move, `out` collects what comes next.
// Either may carry held receive buffers (plain client connections only: a
// response body relayed from the upstream's receive buffer), sent with
// sendmsg between the string's bytes.
struct Stream {
    static constexpr std::size_t kMaxHeld = 4;
    int fd = -1;
    std::string in;
    std::string out;
    std::string sending;
    std::size_t sent = 0;            // bytes of sending (+ its held slices) already sent
    HeldSlice held[kMaxHeld];        // queued with `out`
    HeldSlice sending_held[kMaxHeld];  // in flight with `sending`
    std::uint8_t held_count = 0;
    std::uint8_t sending_held_count = 0;
    std::size_t held_bytes = 0;
    std::size_t sending_held_bytes = 0;
    msghdr msg{};                    // the in-flight sendmsg when sending_held_count > 0
    iovec iov[2 * kMaxHeld + 1]{};
    int inflight = 0;            // io_uring operations not yet completed
    bool recv_armed = false;
    bool cancel_sent = false;
    bool send_inflight = false;
    bool eof = false;
    bool closing = false;
    bool release_queued = false;
    bool flush_queued = false;   // in the worker's end-of-batch send list
    // The last receive ended with ENOBUFS (the buffer ring was empty): the
    // worker re-arms it once buffers are back (Worker::rearm_starved).
    bool recv_starved = false;
    // Timers, in the worker's monotonic milliseconds; 0 = not armed. The
    // worker's tick compares them with the clock (worker_timers.cpp).
    std::uint64_t read_deadline_ms = 0;  // meaning depends on the side's timer kind
    std::uint64_t send_deadline_ms = 0;  // no send progress for this long: give up

    std::size_t pending_out() const { return out.size() + held_bytes + sending.size() + sending_held_bytes - sent; }
    bool has_output() const { return !out.empty() || held_count > 0; }
    void reset_stream() {
        fd = -1;
        in.clear();
        out.clear();
        sending.clear();
        sent = 0;
        held_count = sending_held_count = 0;  // the worker returned their buffers first
        held_bytes = sending_held_bytes = 0;
        inflight = 0;
        recv_armed = cancel_sent = send_inflight = eof = closing = release_queued = flush_queued = recv_starved = false;
        read_deadline_ms = send_deadline_ms = 0;
    }
};

struct Upstream;

struct Session : Stream {
    // Tunnel: bytes relayed both ways without looking at them (an L4
    // passthrough frontend, or a connection after a 101 Upgrade).
    enum class State : std::uint8_t { ReadHead, RequestBody, AwaitResponse, Tunnel };
    // What read_deadline_ms guards: waiting for the next request (idle
    // keep-alive, closed silently), for the rest of a started head (408),
    // for more of the request body (408 while no response has started), or
    // for any byte through a tunnel (closed silently).
    // A TLS connection first gets Handshake: the whole handshake must finish
    // in tls_handshake_timeout_ms (closed silently and counted as a
    // handshake error), so a client cannot hold a slot by trickling a
    // ClientHello for the 75 s keep-alive timeout.
    enum class Timer : std::uint8_t { None, Idle, Header, Body, Tunnel, Handshake };
    State state = State::ReadHead;
    Timer timer = Timer::None;
    Upstream* up = nullptr;
    http::RequestParser parser;
    http::RequestHead req;
    http::BodyFramer body;
    bool keep_alive = true;
    bool close_after_send = false;
    bool response_started = false;  // bytes of a response already queued for the client
    char client_ip[48] = {};
    // The address the client dialled (getsockname at accept, taken while the
    // table has frontends; family 0 otherwise) and the class table it routes
    // with (RouteTable::table_for), cached for the routes of `table_routing`:
    // a new snapshot may renumber the tables.
    sockaddr_storage local{};
    const void* table_routing = nullptr;
    std::uint32_t table_index = 0;
    // The client connection arrived on an HTTPS frontend and TLS is
    // terminated here: X-Forwarded-Proto says https, ssl_redirect does not apply.
    bool tls = false;
    // The TLS transport while `tls` (pooled by the worker; null on the plain
    // path, which then pays one pointer test per receive and send).
    tls::TlsSession* tls_session = nullptr;

    // What a retry needs once the head's views into `in` are gone: the bytes
    // sent upstream so far (kept while small enough), and where they went.
    std::string replay;
    bool replay_ok = false;      // `replay` holds everything sent upstream for this request
    bool idempotent = false;     // method allows a retry after bytes reached an upstream
    std::uint8_t retries = 0;    // one retry per request, a second only after a refused connect
    bool upgrade = false;        // the request asked to switch protocols (a 101 may start a tunnel)
    std::uint32_t backend = 0;   // route target in the picker's table
    std::uint64_t picker_epoch = 0;
    std::uint64_t body_received = 0;  // for the body limit (413)
    router::RoutePolicy policy;       // resolved for the current request
    bool upstream_write_shut = false; // tunnel: the client's EOF was passed on (shutdown SHUT_WR)
    bool client_write_shut = false;   // tunnel: the upstream's EOF was passed on
    RequestExtras extra;              // route policy state (http_flow.cpp)
    // The route's upstream TLS setting (backend-protocol HTTPS); null = plain HTTP upstream.
    std::shared_ptr<const tls::UpstreamTls> upstream_tls;
};

struct Upstream : Stream {
    // What read_deadline_ms guards: the connect, the response (no byte for
    // read_timeout), or an idle pooled connection (closed silently).
    enum class Timer : std::uint8_t { None, Connect, Read, Idle };
    Timer timer = Timer::None;
    Session* session = nullptr;
    std::uint32_t endpoint = 0;      // index in the backend, for passive health
    std::uint32_t backend = 0;
    std::uint64_t picker_epoch = 0;
    bool reused = false;             // taken from the idle pool for this request
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    std::string key;  // endpoint text (+ the TLS setting's tag), the idle-pool key
    // TLS to the endpoint (io/upstream_tls.cpp); null on a plain connection. Stays
    // with the connection while it is pooled: `key` says which setting it was made for.
    tls::TlsClientSession* tls_session = nullptr;
    bool connected = false;
    bool idle = false;
    bool head_done = false;
    bool request_is_head = false;
    http::ResponseParser parser;
    http::ResponseHead resp;
    http::BodyFramer body;
};

}  // namespace xgress::io

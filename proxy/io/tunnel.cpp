// Byte tunnels between a client and an upstream: L4 passthrough frontends
// (snapshot `frontends` with protocol tcp) and connections after a 101
// Switching Protocols (WebSocket). A tunnel with no byte either way for
// tunnel_idle_timeout_ms is closed. Bytes move as they arrive, with the same
// backpressure as HTTP bodies (update_*_recv stop reading a side whose peer
// has high_water bytes queued). Half-close is honoured: one side's EOF
// becomes shutdown(SHUT_WR) towards the other once everything before it was
// sent (a TLS side first gets close_notify), and the pair closes when both
// directions have ended.
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "http/head_writer.h"
#include "io/worker.h"

namespace xgress::io {

// Called for each accepted connection while the table has frontends: sets
// `https` for an HTTPS frontend, starts the tunnel of a tcp one. Returns
// false when the connection was closed (a tcp frontend with no endpoints).
bool Worker::start_frontend(Session& s, bool& https) {
    sockaddr_storage& local = s.local;  // kept: each request finds its class table from it
    socklen_t len = sizeof local;
    if (getsockname(s.fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
        local.ss_family = AF_UNSPEC;
        return true;
    }
    const router::FrontendTarget* f = table_->frontend(reinterpret_cast<const sockaddr*>(&local));
    if (!f) return true;  // HTTP
    if (f->protocol == snapshot::FrontendProtocol::Https) {
        https = true;
        return true;
    }
    if (f->protocol != snapshot::FrontendProtocol::Tcp) return true;
    return start_tunnel(s, f->backend);
}

// Relays the connection's bytes (and whatever already sits in s.in) to an
// endpoint of `backend`: tcp frontends and ssl-passthrough.
bool Worker::start_tunnel(Session& s, std::uint32_t backend) {
    s.state = Session::State::Tunnel;
    set_session_timer(s, Session::Timer::Tunnel, options_.tunnel_idle_timeout_ms);
    s.backend = backend;
    s.policy = table_->backends()[backend].policy.resolve(options_.route_defaults);
    const std::uint32_t endpoint = picker_.pick(backend, now_ms_);
    if (endpoint == upstream::kNoEndpoint) {
        spdlog::debug("client {}: tunnel backend {} has no endpoints", s.client_ip, table_->backends()[backend].name);
        close_session(s);
        return false;
    }
    // A failed connect is retried once elsewhere (nothing was sent); the
    // replay buffer stays empty, so client bytes wait in `out` of the new one.
    s.picker_epoch = picker_.epoch();
    s.replay.clear();
    s.replay_ok = true;
    s.retries = 0;
    s.response_started = false;
    s.idempotent = false;
    attach_upstream(s, endpoint, false);
    return true;
}

// The upstream answered 101 to an Upgrade request: relay its head, then both
// connections carry opaque bytes until one side closes. Bytes that followed
// either head (client data sent early, the server's first frame) go first.
void Worker::start_upgraded_tunnel(Session& s, Upstream& u) {
    u.head_done = true;
    picker_.report_success(u.picker_epoch, u.backend, u.endpoint);
    count_route(s, 101);  // the upgrade counts under its route as 1xx
    const std::size_t before = s.out.size();
    http::write_upgrade_response_head(s.out, u.resp);
    s.extra.response_bytes += s.out.size() - before;
    // The request is logged at the switch; the tunnel's bytes are not.
    if (s.extra.log_open) log_end(s, 101, u.key, static_cast<std::int64_t>(now_us_ - s.extra.upstream_start_us));
    u.in.erase(0, u.resp.head_length);
    s.response_started = true;
    s.replay_ok = false;  // bytes through a tunnel are never replayed
    s.keep_alive = false;
    s.state = Session::State::Tunnel;
    set_upstream_timer(u, Upstream::Timer::None, 0);  // the tunnel timer (on the session) takes over
    set_session_timer(s, Session::Timer::Tunnel, options_.tunnel_idle_timeout_ms);
    flush(s, Op::ClientSend);
    pump_tunnel(s);
    if (!s.closing) update_client_recv(s);
}

void Worker::pump_tunnel(Session& s) {
    if (s.closing) return;
    Upstream* u = s.up;
    if (!u) {
        close_session(s);
        return;
    }
    if (!s.in.empty() || !u->in.empty())
        set_session_timer(s, Session::Timer::Tunnel, options_.tunnel_idle_timeout_ms);
    if (!s.in.empty()) {
        // Once bytes flow, a failed upstream can no longer be replaced.
        s.replay_ok = false;
        u->out.append(s.in);
        s.in.clear();
        if (u->connected) flush(*u, Op::UpSend);
    }
    if (!u->in.empty()) {
        s.response_started = true;
        s.out.append(u->in);
        u->in.clear();
        flush(s, Op::ClientSend);
    }
    if (s.eof && !s.upstream_write_shut && u->connected && u->pending_out() == 0 && u->tls_session &&
        !u->tls_session->close_notify_queued()) {
        u->tls_session->shutdown();  // a TLS upstream sees close_notify before the FIN
        flush(*u, Op::UpSend);
    }
    if (s.eof && !s.upstream_write_shut && u->connected && u->pending_out() == 0) {
        shutdown(u->fd, SHUT_WR);
        s.upstream_write_shut = true;
    }
    if (u->eof && !s.client_write_shut && s.pending_out() == 0 && client_close_notify(s)) {
        shutdown(s.fd, SHUT_WR);
        s.client_write_shut = true;
    }
    if (s.upstream_write_shut && s.client_write_shut) close_session(s);
}

}  // namespace xgress::io

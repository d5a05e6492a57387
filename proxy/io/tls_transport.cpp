// The TLS transport of a client connection: received ciphertext goes through
// the connection's tls::TlsSession into Session::in, where the HTTP code reads
// plaintext as on the plain path; plaintext the HTTP code queued in
// Session::out is encrypted just before it is sent, so `sending` holds
// ciphertext and the send/short-send/timeout plumbing stays the same.
//
// Error policy: a failed handshake, a malformed ClientHello or a bad record
// gets OpenSSL's alert (when there is one) and the connection is closed;
// handshake failures are counted (tls_handshake_errors). Nothing blocks.
#include <spdlog/spdlog.h>

#include "io/worker.h"

namespace xgress::io {

bool Worker::start_tls(Session& s) {
    if (!tls_ || !tls_->server) return false;
    tls::TlsSession* t = nullptr;
    if (!free_tls_.empty()) {
        t = free_tls_.back();
        free_tls_.pop_back();
    } else {
        tls_sessions_.push_back(std::make_unique<tls::TlsSession>());
        t = tls_sessions_.back().get();
    }
    // The passthrough table lives inside the TlsState: share its ownership.
    if (!t->start(tls_->server, std::shared_ptr<const tls::PassthroughHosts>(tls_, &tls_->passthrough))) {
        t->reset();
        free_tls_.push_back(t);
        return false;
    }
    s.tls_session = t;
    s.tls = true;
    return true;
}

void Worker::release_tls(Session& s) {
    s.tls_session->reset();
    free_tls_.push_back(s.tls_session);
    s.tls_session = nullptr;
}

bool Worker::tls_receive(Session& s, const char* data, std::size_t n) {
    tls::TlsSession& t = *s.tls_session;
    const bool was_done = t.handshake_done();
    const tls::TlsSession::Status status = t.receive({data, n}, s.in);
    if (!was_done && t.handshake_done()) {
        stats_.tls_handshakes.inc();
        if (t.resumed()) stats_.tls_resumed.inc();
        // From here the HTTP timers apply (drive_client moves to Header
        // when request bytes are already in).
        set_session_timer(s, Session::Timer::Idle, options_.client_idle_timeout_ms);
    }
    switch (status) {
        case tls::TlsSession::Status::Ok: return true;
        case tls::TlsSession::Status::Closed: s.eof = true; return true;
        case tls::TlsSession::Status::Passthrough: start_passthrough(s); return true;
        case tls::TlsSession::Status::Error: break;
    }
    if (!t.handshake_done()) stats_.tls_handshake_errors.inc();
    spdlog::debug("client {}: TLS {}", s.client_ip, t.error());
    // Send the alert OpenSSL queued (protocol_version, handshake_failure, ...),
    // read nothing more, and close once it is out.
    s.in.clear();
    s.eof = true;
    s.close_after_send = true;
    if (t.outbound().empty() && !s.send_inflight) close_session(s);
    else flush_tls(s);
    return false;
}

void Worker::flush_tls(Session& s) {
    if (s.send_inflight || s.closing) return;
    tls::TlsSession& t = *s.tls_session;
    if (!s.out.empty() && t.handshake_done()) {
        if (t.send(s.out) != tls::TlsSession::Status::Ok) {
            spdlog::debug("client {}: TLS {}", s.client_ip, t.error());
            s.out.clear();
            close_session(s);
            return;
        }
        s.out.clear();
    }
    if (t.outbound().empty()) return;
    s.sending.swap(t.outbound());
    t.outbound().clear();
    s.sent = 0;
    io_uring_sqe* e = sqe();
    io_uring_prep_send(e, s.fd, s.sending.data(), s.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(&s, Op::ClientSend));
    s.send_inflight = true;
    ++s.inflight;
    if (!s.send_deadline_ms) s.send_deadline_ms = now_ms_ + send_timeout_for(s, true);
}

// The ClientHello named an ssl-passthrough host: forget TLS and relay every
// byte the client sent, starting with the ClientHello, to that backend.
void Worker::start_passthrough(Session& s) {
    tls::TlsSession& t = *s.tls_session;
    const std::uint32_t backend = table_ ? table_->find_backend(t.passthrough_backend()) : router::kNoBackend;
    s.in.swap(t.raw_input());
    release_tls(s);
    s.tls = false;
    stats_.tls_passthrough.inc();
    if (backend == router::kNoBackend) {
        spdlog::debug("client {}: passthrough backend is not in the routing table", s.client_ip);
        close_session(s);
        return;
    }
    start_tunnel(s, backend);
}

// A tunnel (WebSocket after a 101) over a TLS client connection whose
// upstream finished sending: the client must see close_notify before the
// TCP FIN, or it cannot tell a complete stream from a truncated one.
bool Worker::client_close_notify(Session& s) {
    if (!s.tls_session) return true;
    if (!s.tls_session->close_notify_queued()) {
        s.tls_session->shutdown();
        flush_tls(s);
    }
    return s.pending_out() == 0;
}

}  // namespace xgress::io

// The TLS transport of an upstream connection (routes with backend-protocol
// HTTPS): the mirror of tls_transport.cpp on the other side. The ClientHello
// is queued when the connection is made and goes out once connect completes;
// plaintext the HTTP code put in Upstream::out waits there until the
// handshake is done and is then encrypted just before the send, so the send,
// short-send and timeout plumbing is the plain one. Received ciphertext is
// decrypted into Upstream::in, where the response parser reads as usual.
//
// The handshake runs under the connect timeout (it is part of "getting a
// connection"). Sessions the endpoint issues are kept per pool key (endpoint
// + TLS setting) so the next new connection resumes instead of paying a
// full handshake; a failed handshake forgets that endpoint's session.
//
// Error policy: a failed handshake or verification, or a bad record, closes
// the connection, is counted (upstream_tls_errors) and logged at warning
// level with OpenSSL's reason; the request gets 502 (not retried: another
// endpoint of the same route would most likely fail the same way).
#include <spdlog/spdlog.h>

#include "io/worker.h"

namespace xgress::io {

namespace {
constexpr std::size_t kMaxCachedSessions = 4096;  // per worker; endpoints churn, the cache must not grow forever
}

bool Worker::start_upstream_tls(Upstream& u, const std::shared_ptr<const tls::UpstreamTls>& tls) {
    tls::TlsClientSession* t = nullptr;
    if (!free_client_tls_.empty()) {
        t = free_client_tls_.back();
        free_client_tls_.pop_back();
    } else {
        client_tls_sessions_.push_back(std::make_unique<tls::TlsClientSession>());
        t = client_tls_sessions_.back().get();
    }
    auto cached = upstream_tls_sessions_.find(std::string_view(u.key));
    if (!t->start(tls, cached != upstream_tls_sessions_.end() ? cached->second : nullptr)) {
        spdlog::warn("upstream {}: TLS: {}", u.key, t->error());
        t->reset();
        free_client_tls_.push_back(t);
        return false;
    }
    u.tls_session = t;
    return true;
}

void Worker::release_upstream_tls(Upstream& u) {
    u.tls_session->reset();
    free_client_tls_.push_back(u.tls_session);
    u.tls_session = nullptr;
}

void Worker::free_upstream_tls_sessions() {
    for (auto& [_, session] : upstream_tls_sessions_) SSL_SESSION_free(session);
    upstream_tls_sessions_.clear();
}

void Worker::upstream_tls_receive(Upstream& u, const char* data, std::size_t n) {
    tls::TlsClientSession& t = *u.tls_session;
    const bool was_done = t.handshake_done();
    const auto status = t.receive({data, n}, u.in);
    if (!was_done && t.handshake_done()) {
        stats_.upstream_tls_handshakes.inc();
        if (t.resumed()) stats_.upstream_tls_resumed.inc();
        // The connect phase ends here; the read timeout starts once the request is out.
        if (u.session && u.session->state == Session::State::AwaitResponse)
            set_upstream_timer(u, Upstream::Timer::Read, u.session->policy.read_timeout_ms);
        else if (u.timer == Upstream::Timer::Connect)
            set_upstream_timer(u, Upstream::Timer::None, 0);
    }
    if (SSL_SESSION* fresh = t.take_session()) {
        auto it = upstream_tls_sessions_.find(std::string_view(u.key));
        if (it != upstream_tls_sessions_.end()) {
            SSL_SESSION_free(it->second);
            it->second = fresh;
        } else {
            if (upstream_tls_sessions_.size() >= kMaxCachedSessions) free_upstream_tls_sessions();
            upstream_tls_sessions_.emplace(u.key, fresh);
        }
    }
    switch (status) {
        case tls::TlsClientSession::Status::Ok: break;
        case tls::TlsClientSession::Status::Closed: u.eof = true; break;
        case tls::TlsClientSession::Status::Error: {
            stats_.upstream_tls_errors.inc();
            const bool handshake = !t.handshake_done();
            spdlog::warn("upstream {}: TLS {}", u.key, t.error());
            if (handshake) {
                if (auto it = upstream_tls_sessions_.find(std::string_view(u.key)); it != upstream_tls_sessions_.end()) {
                    SSL_SESSION_free(it->second);
                    upstream_tls_sessions_.erase(it);
                }
            }
            upstream_failed(u, handshake ? "TLS handshake failed" : "bad TLS record",
                            handshake ? UpstreamFailure::Protocol : UpstreamFailure::Io);
            return;
        }
    }
    flush_upstream_tls(u);  // handshake flights, then the request that waited for the handshake
}

void Worker::upstream_tls_closed_early(Upstream& u) {
    stats_.upstream_tls_errors.inc();
    spdlog::warn("upstream {}: closed during the TLS handshake (not a TLS endpoint?)", u.key);
    if (auto it = upstream_tls_sessions_.find(std::string_view(u.key)); it != upstream_tls_sessions_.end()) {
        SSL_SESSION_free(it->second);
        upstream_tls_sessions_.erase(it);
    }
    upstream_failed(u, "closed during the TLS handshake", UpstreamFailure::Protocol);
}

void Worker::flush_upstream_tls(Upstream& u) {
    if (u.send_inflight || u.closing || !u.connected) return;
    tls::TlsClientSession& t = *u.tls_session;
    if (!u.out.empty() && t.handshake_done()) {
        if (t.send(u.out) != tls::TlsClientSession::Status::Ok) {
            // Cannot happen short of a failed session; end the connection and let
            // the receive path report it (callers keep using the session after flush).
            spdlog::warn("upstream {}: TLS {}", u.key, t.error());
            stats_.upstream_tls_errors.inc();
            if (u.fd >= 0) shutdown(u.fd, SHUT_RDWR);
            return;
        }
        u.out.clear();
    }
    if (t.outbound().empty()) return;
    u.sending.swap(t.outbound());
    t.outbound().clear();
    u.sent = 0;
    io_uring_sqe* e = sqe();
    io_uring_prep_send(e, u.fd, u.sending.data(), u.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(&u, Op::UpSend));
    u.send_inflight = true;
    ++u.inflight;
    if (!u.send_deadline_ms) u.send_deadline_ms = now_ms_ + send_timeout_for(u, false);
}

}  // namespace xgress::io

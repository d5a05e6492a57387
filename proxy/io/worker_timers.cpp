// Timers on the ring. One IORING_OP_TIMEOUT per worker ticks every
// timer_tick_ms; each tick walks the worker's connection objects and fires
// the deadlines that passed. Deadlines are plain integers set and cleared on
// the request path (no syscall, no heap), so the cost of a timer that never
// fires is one store; the scan costs O(connections) per tick, which at the
// default 100 ms tick is far below the per-request work even at 10k
// connections. Expiry decides what the peer sees:
//   client idle keep-alive    close silently
//   client header / body      408 (when no response started), then close
//   client send stall         close
//   tunnel idle (either way)  close both sides
//   upstream connect          passive-health failure, retry elsewhere or 504
//   upstream send / read      504 (when no response started), else close
//   pooled upstream idle      close
#include <time.h>

#include <spdlog/spdlog.h>

#include "io/worker.h"

namespace xgress::io {

void Worker::refresh_clock() {
    timespec ts{};
    // Not _COARSE: upstream latency histograms need better than its 4 ms
    // steps; one vDSO call per completion batch either way.
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_us_ = static_cast<std::uint64_t>(ts.tv_sec) * 1000000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
    now_ms_ = now_us_ / 1000;
}

std::uint32_t Worker::send_timeout_for(const Stream& s, bool client) const {
    if (client) return options_.client_send_timeout_ms;
    const auto& u = static_cast<const Upstream&>(s);
    return u.session ? u.session->policy.send_timeout_ms : options_.route_defaults.send_timeout_ms;
}

void Worker::arm_tick() {
    const std::uint32_t ms = options_.timer_tick_ms ? options_.timer_tick_ms : 100;
    tick_.tv_sec = ms / 1000;
    tick_.tv_nsec = static_cast<long long>(ms % 1000) * 1000000;
    io_uring_sqe* e = sqe();
    io_uring_prep_timeout(e, &tick_, 0, 0);
    io_uring_sqe_set_data64(e, tag(Control::Tick));
}

void Worker::set_session_timer(Session& s, Session::Timer t, std::uint32_t ms) {
    s.timer = t;
    s.read_deadline_ms = t == Session::Timer::None ? 0 : now_ms_ + ms;
}

void Worker::set_upstream_timer(Upstream& u, Upstream::Timer t, std::uint32_t ms) {
    u.timer = t;
    u.read_deadline_ms = t == Upstream::Timer::None ? 0 : now_ms_ + ms;
}

void Worker::on_tick() {
    if (!stopping_.load(std::memory_order_relaxed)) arm_tick();
    refresh_clock();
    const std::uint64_t now = now_ms_;
    // Index loops: expiring may append to the pools (a retry's new upstream),
    // which may reallocate the vectors but never moves the objects.
    for (std::size_t i = 0; i < sessions_.size(); ++i) {
        Session& s = *sessions_[i];
        if (s.fd < 0 || s.closing) continue;
        if ((s.read_deadline_ms && s.read_deadline_ms <= now) || (s.send_deadline_ms && s.send_deadline_ms <= now))
            expire_session(s);
    }
    for (std::size_t i = 0; i < upstreams_.size(); ++i) {
        Upstream& u = *upstreams_[i];
        if (u.fd < 0 || u.closing) continue;
        if ((u.read_deadline_ms && u.read_deadline_ms <= now) || (u.send_deadline_ms && u.send_deadline_ms <= now))
            expire_upstream(u);
    }
}

void Worker::expire_session(Session& s) {
    const bool send_stalled = s.send_deadline_ms && s.send_deadline_ms <= now_ms_;
    if (!send_stalled && s.timer == Session::Timer::Body && !s.recv_armed && !s.eof) {
        // We stopped reading (backpressure from a slow upstream): not the client's fault.
        s.read_deadline_ms = now_ms_ + options_.client_body_timeout_ms;
        return;
    }
    stats_.client_timeouts.inc();
    if (send_stalled) {
        spdlog::debug("client {}: send timeout", s.client_ip);
        close_session(s);
        return;
    }
    switch (s.timer) {
        case Session::Timer::None:
        case Session::Timer::Idle:
            close_session(s);
            return;
        case Session::Timer::Tunnel:
            spdlog::debug("client {}: tunnel idle timeout", s.client_ip);
            close_session(s);
            return;
        case Session::Timer::Handshake:
            spdlog::debug("client {}: TLS handshake timeout", s.client_ip);
            stats_.tls_handshake_errors.inc();
            close_session(s);
            return;
        case Session::Timer::Header:
        case Session::Timer::Body:
            spdlog::debug("client {}: request {} timeout", s.client_ip,
                          s.timer == Session::Timer::Header ? "header" : "body");
            set_session_timer(s, Session::Timer::None, 0);
            abandon_request(s, 408);
            return;
    }
}

void Worker::expire_upstream(Upstream& u) {
    if (u.timer == Upstream::Timer::Idle || !u.session) {
        unpark_upstream(u);
        close_stream(u);
        maybe_release(u, false);
        return;
    }
    const bool send_stalled = u.send_deadline_ms && u.send_deadline_ms <= now_ms_;
    if (!send_stalled && u.timer == Upstream::Timer::Read && u.connected && !u.recv_armed && !u.eof) {
        // Reading paused because the client is slow to take the response.
        u.read_deadline_ms = now_ms_ + u.session->policy.read_timeout_ms;
        return;
    }
    stats_.upstream_timeouts.inc();
    if (send_stalled) {
        upstream_failed(u, "send timeout", UpstreamFailure::SendTimeout);
        return;
    }
    switch (u.timer) {
        case Upstream::Timer::Connect: upstream_failed(u, "connect timeout", UpstreamFailure::ConnectTimeout); return;
        case Upstream::Timer::Read: upstream_failed(u, "read timeout", UpstreamFailure::ReadTimeout); return;
        default: return;
    }
}

}  // namespace xgress::io

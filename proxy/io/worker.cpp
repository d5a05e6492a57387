// The worker's event loop and its I/O plumbing: accepting, multishot receive
// into the buffer ring, ordered sends, connects and the lifetime of pooled
// connection objects. What the bytes mean is decided in http_flow.cpp.
#include "io/worker.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "io/ring.h"

namespace xgress::io {

namespace {
constexpr std::uint64_t kOpMask = 7;
constexpr std::size_t kMaxClientInput = 64 * 1024;  // pipelined requests waiting their turn
}  // namespace

Worker::Worker(unsigned index, int listen_fd, WorkerOptions options)
    : index_(index), listen_fd_(listen_fd), options_(options) {}

Worker::~Worker() {
    stop();
    wait();
    free_upstream_tls_sessions();
}

void Worker::start() { thread_ = std::thread([this] { run(); }); }

void Worker::stop() {
    stopping_.store(true, std::memory_order_release);
    if (wake_fd_ >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    }
}

void Worker::wait() {
    if (thread_.joinable()) thread_.join();
}

std::expected<void, std::string> Worker::setup() {
    const bool min_wait = options_.wait_nr > 1 || options_.min_wait_us > 0;
    auto mode = init_ring(ring_, RingOptions{options_.ring_entries, options_.ring_mode, min_wait});
    if (!mode) return std::unexpected(mode.error());
    ring_ready_ = true;
    const unsigned initial = std::min(options_.buffer_initial, options_.buffer_count);
    if (auto r = buffers_.setup(ring_, 0, options_.buffer_count, options_.buffer_size, initial); !r) return r;
    stats_.recv_buffer_bytes.inc(static_cast<std::uint64_t>(buffers_.provided()) * options_.buffer_size);
    spdlog::info("worker {}: io_uring {}, wait for {} completion(s){} ({} x {} byte receive buffers, {} provided at start)",
                 index_, *mode, options_.wait_nr, min_wait ? fmt::format(" up to {} us", options_.min_wait_us) : "",
                 options_.buffer_count, options_.buffer_size, buffers_.provided());
    return {};
}

void Worker::run() {
    // The wake eventfd exists before setup so stop() can always reach us.
    wake_fd_ = eventfd(0, EFD_CLOEXEC);
    if (auto r = setup(); !r) {
        spdlog::error("worker {}: {}", index_, r.error());
        return;
    }
    loop();
    // Closing the ring cancels everything still in flight; then the fds go.
    io_uring_queue_exit(&ring_);
    for (auto& s : sessions_)
        if (s->fd >= 0) close(s->fd);
    for (auto& u : upstreams_)
        if (u->fd >= 0) close(u->fd);
    close(wake_fd_);
}

io_uring_sqe* Worker::sqe() {
    io_uring_sqe* e = io_uring_get_sqe(&ring_);
    while (!e) {
        io_uring_submit(&ring_);
        e = io_uring_get_sqe(&ring_);
    }
    return e;
}

void Worker::loop() {
    refresh_clock();
    arm_accept();
    arm_accept_tls();
    arm_wake();
    arm_tick();
    const bool min_wait = options_.wait_nr > 1 || options_.min_wait_us > 0;
    while (!stopping_.load(std::memory_order_acquire)) {
        // The tick timeout completes every timer_tick_ms, so the idle bound
        // of the min-wait form never fires in practice.
        int rc = min_wait ? submit_and_wait_min(ring_, options_.wait_nr, options_.min_wait_us, 1000)
                          : io_uring_submit_and_wait(&ring_, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
            spdlog::error("worker {}: io_uring_submit_and_wait: {}", index_, std::strerror(-rc));
            break;
        }
        refresh_clock();
        if (slot_.refresh(slot_seen_, next_table_)) adopt_table();
        tls_slot_.refresh(tls_seen_, tls_);
        unsigned head;
        unsigned count = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            handle(cqe);
            ++count;
        }
        io_uring_cq_advance(&ring_, count);
        if (draining_.load(std::memory_order_relaxed) && !drain_started_) start_drain();
        rearm_starved();
        send_queued();  // before release_pending: queued streams are still valid objects
        release_pending();
        if (access_log_) access_log_->publish();  // once per batch: one short lock, never a write()
    }
    if (access_log_) access_log_->publish();
}

void Worker::handle(io_uring_cqe* cqe) {
    const Op op = static_cast<Op>(cqe->user_data & kOpMask);
    void* ptr = reinterpret_cast<void*>(cqe->user_data & ~kOpMask);
    switch (op) {
        case Op::Control:
            switch (static_cast<Control>(cqe->user_data & ~kOpMask)) {
                case Control::Accept:
                    on_accept(cqe->res, false);
                    if (!(cqe->flags & IORING_CQE_F_MORE)) {
                        accept_armed_ = false;
                        arm_accept();
                    }
                    break;
                case Control::AcceptTls:
                    on_accept(cqe->res, true);
                    if (!(cqe->flags & IORING_CQE_F_MORE)) {
                        accept_tls_armed_ = false;
                        arm_accept_tls();
                    }
                    break;
                case Control::Wake: arm_wake(); break;
                case Control::Tick: on_tick(); break;
            }
            break;
        case Op::ClientRecv: on_recv(*static_cast<Session*>(ptr), true, cqe); break;
        case Op::UpRecv: on_recv(*static_cast<Upstream*>(ptr), false, cqe); break;
        case Op::ClientSend: on_send(*static_cast<Session*>(ptr), true, cqe->res); break;
        case Op::UpSend: on_send(*static_cast<Upstream*>(ptr), false, cqe->res); break;
        case Op::UpConnect: on_connect(*static_cast<Upstream*>(ptr), cqe->res); break;
        case Op::Ignore: break;
    }
}

void Worker::arm_accept() {
    if (accept_armed_ || stopping_.load(std::memory_order_relaxed) || draining_.load(std::memory_order_relaxed)) return;
    io_uring_sqe* e = sqe();
    io_uring_prep_multishot_accept(e, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(e, tag(Control::Accept));
    accept_armed_ = true;
}

void Worker::arm_accept_tls() {
    if (tls_listen_fd_ < 0 || accept_tls_armed_ || stopping_.load(std::memory_order_relaxed) ||
        draining_.load(std::memory_order_relaxed))
        return;
    io_uring_sqe* e = sqe();
    io_uring_prep_multishot_accept(e, tls_listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(e, tag(Control::AcceptTls));
    accept_tls_armed_ = true;
}

void Worker::arm_wake() {
    io_uring_sqe* e = sqe();
    io_uring_prep_read(e, wake_fd_, &wake_value_, sizeof wake_value_, 0);
    io_uring_sqe_set_data64(e, tag(Control::Wake));
}

void Worker::arm_recv(Stream& s, Op op) {
    io_uring_sqe* e = sqe();
    io_uring_prep_recv_multishot(e, s.fd, nullptr, 0, 0);
    e->flags |= IOSQE_BUFFER_SELECT;
    e->buf_group = buffers_.group();
    io_uring_sqe_set_data64(e, tag(&s, op));
    s.recv_armed = true;
    s.cancel_sent = false;
    ++s.inflight;
}

void Worker::cancel_recv(Stream& s, Op op) {
    if (!s.recv_armed || s.cancel_sent) return;
    io_uring_sqe* e = sqe();
    io_uring_prep_cancel64(e, tag(&s, op), 0);
    io_uring_sqe_set_data64(e, tag(nullptr, Op::Ignore));
    s.cancel_sent = true;
}

void Worker::flush(Stream& s, Op op) {
    if (op == Op::ClientSend && static_cast<Session&>(s).tls_session) [[unlikely]] {
        flush_tls(static_cast<Session&>(s));
        return;
    }
    if (op == Op::UpSend && static_cast<Upstream&>(s).tls_session) [[unlikely]] {
        flush_upstream_tls(static_cast<Upstream&>(s));
        return;
    }
    if (s.send_inflight || s.closing || !s.has_output() || s.flush_queued) return;
    // The send is prepared at the end of the completion batch, not now:
    // SQEs only reach the kernel at the next submit anyway, and bytes that
    // later completions of the same batch add (the rest of a response that
    // arrived in two receives) then go in the same send.
    s.flush_queued = true;
    to_flush_.emplace_back(&s, op);
}

void Worker::send_queued() {
    for (auto [s, op] : to_flush_) {
        s->flush_queued = false;
        send_out(*s, op);
    }
    to_flush_.clear();
}

void Worker::send_out(Stream& s, Op op) {
    if (s.send_inflight || s.closing || !s.has_output()) return;
    s.sending.swap(s.out);
    s.out.clear();
    s.sent = 0;
    if (s.held_count) {
        std::copy_n(s.held, s.held_count, s.sending_held);
        s.sending_held_count = s.held_count;
        s.sending_held_bytes = s.held_bytes;
        s.held_count = 0;
        s.held_bytes = 0;
        send_with_held(s, op);
        if (!s.send_deadline_ms) s.send_deadline_ms = now_ms_ + send_timeout_for(s, op == Op::ClientSend);
        return;
    }
    io_uring_sqe* e = sqe();
    io_uring_prep_send(e, s.fd, s.sending.data(), s.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(&s, op));
    s.send_inflight = true;
    ++s.inflight;
    if (!s.send_deadline_ms) s.send_deadline_ms = now_ms_ + send_timeout_for(s, op == Op::ClientSend);
}

void Worker::send_with_held(Stream& s, Op op) {
    // The logical output is `sending` with each slice inserted at its offset;
    // skip what a short send already delivered.
    std::size_t skip = s.sent;
    int k = 0;
    auto add = [&](const char* p, std::size_t n) {
        if (skip >= n) {
            skip -= n;
            return;
        }
        s.iov[k++] = iovec{const_cast<char*>(p + skip), n - skip};
        skip = 0;
    };
    std::size_t pos = 0;
    for (std::uint8_t j = 0; j < s.sending_held_count; ++j) {
        const HeldSlice& h = s.sending_held[j];
        add(s.sending.data() + pos, h.at - pos);
        pos = h.at;
        add(h.data, h.len);
    }
    add(s.sending.data() + pos, s.sending.size() - pos);
    s.msg = msghdr{};
    s.msg.msg_iov = s.iov;
    s.msg.msg_iovlen = static_cast<std::size_t>(k);
    io_uring_sqe* e = sqe();
    io_uring_prep_sendmsg(e, s.fd, &s.msg, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(e, tag(&s, op));
    s.send_inflight = true;
    ++s.inflight;
}

void Worker::recycle_held(Stream& s) {
    for (std::uint8_t j = 0; j < s.sending_held_count; ++j) buffers_.recycle(s.sending_held[j].bid);
    for (std::uint8_t j = 0; j < s.held_count; ++j) buffers_.recycle(s.held[j].bid);
    held_buffers_ -= s.sending_held_count + s.held_count;
    s.sending_held_count = s.held_count = 0;
    s.sending_held_bytes = s.held_bytes = 0;
}

// A multishot receive ends with ENOBUFS when the ring has no free buffer.
// The kernel picks the buffer before it looks at the socket, so re-arming at
// once, while the ring is still empty, ends again at once, with or without
// data waiting: the worker used to spin on that, and after a batch that
// returned a few buffers it re-armed every starved stream, most of which
// failed again (16 streams on a 4-buffer ring: ~14 ENOBUFS per request).
// Instead a starved stream waits here until the end of the batch and then
// gets one of the buffers that are free: every receive completion of the
// batch has been handled, so all buffers but the held ones are in the ring.
void Worker::grow_buffers() {
    const unsigned added = buffers_.grow(buffers_.provided());
    if (!added) return;
    stats_.recv_buffer_bytes.inc(static_cast<std::uint64_t>(added) * options_.buffer_size);
    spdlog::debug("worker {}: {} receive buffers provided", index_, buffers_.provided());
}

void Worker::starve(Stream& s, bool client) {
    stats_.recv_enobufs.inc();
    grow_buffers();  // the ring ran dry: provide more before anyone re-arms
    if (s.recv_starved || s.closing) return;
    s.recv_starved = true;
    starved_.emplace_back(&s, client);
}

void Worker::rearm_starved() {
    if (starved_.empty()) return;
    const std::size_t free = buffers_.provided() - held_buffers_;
    std::size_t armed = 0, i = 0;
    for (; i < starved_.size() && armed < free; ++i) {
        auto [s, client] = starved_[i];
        if (!s->recv_starved) continue;  // released (and maybe reused) since
        s->recv_starved = false;
        if (s->closing) continue;
        if (client) update_client_recv(*static_cast<Session*>(s));
        else update_upstream_recv(*static_cast<Upstream*>(s));
        if (s->recv_armed) ++armed;
    }
    starved_.erase(starved_.begin(), starved_.begin() + static_cast<std::ptrdiff_t>(i));
    if (!starved_.empty()) {
        // More starved streams than free buffers. The ones just re-armed may
        // find nothing to read and take no buffer, so nothing might complete
        // to end the next wait: a no-op completion makes sure another batch
        // (and another pass) follows.
        io_uring_sqe* e = sqe();
        io_uring_prep_nop(e);
        io_uring_sqe_set_data64(e, tag(nullptr, Op::Ignore));
    }
}

void Worker::on_accept(int res, bool tls_listener) {
    if (res < 0) {
        if (res != -ECANCELED) spdlog::warn("worker {}: accept: {}", index_, std::strerror(-res));
        return;
    }
    Session* s = new_session();
    s->fd = res;
    stats_.active_connections.inc();
    set_session_timer(*s, Session::Timer::Idle, options_.client_idle_timeout_ms);
    int one = 1;
    setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    s->client_ip[0] = '\0';
    if (getpeername(res, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
        if (peer.ss_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&peer)->sin_addr, s->client_ip, sizeof s->client_ip);
        else
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr, s->client_ip, sizeof s->client_ip);
    }
    bool https = tls_listener;
    s->local.ss_family = AF_UNSPEC;
    s->table_routing = nullptr;
    if (!tls_listener && table_ && table_->has_frontends() && !start_frontend(*s, https)) return;
    if (https && !start_tls(*s)) {
        spdlog::warn("worker {}: no TLS context for a connection from {}", index_, s->client_ip);
        close_session(*s);
        return;
    }
    if (https) set_session_timer(*s, Session::Timer::Handshake, options_.tls_handshake_timeout_ms);
    arm_recv(*s, Op::ClientRecv);
}

void Worker::on_recv(Stream& s, bool client, io_uring_cqe* cqe) {
    const int res = cqe->res;
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        s.recv_armed = false;
        s.cancel_sent = false;
        --s.inflight;
    }
    if (res == -ENOBUFS) [[unlikely]] starve(s, client);
    // A plain upstream's bytes stay in the receive buffer until
    // drive_upstream has read them in place (it keeps only leftovers); the
    // buffer goes back to the ring after that.
    std::string_view fresh;
    std::uint16_t fresh_bid = 0;
    if (cqe->flags & IORING_CQE_F_BUFFER) {
        const auto bid = static_cast<std::uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (res > 0 && !s.closing) {
            if (client && static_cast<Session&>(s).tls_session) [[unlikely]]
                tls_receive(static_cast<Session&>(s), buffers_.data(bid), static_cast<std::size_t>(res));
            else if (!client && static_cast<Upstream&>(s).tls_session) [[unlikely]]
                upstream_tls_receive(static_cast<Upstream&>(s), buffers_.data(bid), static_cast<std::size_t>(res));
            else if (client)
                s.in.append(buffers_.data(bid), static_cast<std::size_t>(res));
            else {
                fresh = std::string_view(buffers_.data(bid), static_cast<std::size_t>(res));
                fresh_bid = bid;
            }
        }
        if (fresh.empty()) buffers_.recycle(bid);
    }
    if (s.closing) {
        maybe_release(s, client);
        return;
    }
    if (res == 0) s.eof = true;
    if (res > 0) {
        // Read timeouts measure silence: any byte restarts them.
        if (client) {
            auto& session = static_cast<Session&>(s);
            if (session.timer == Session::Timer::Body)
                session.read_deadline_ms = now_ms_ + options_.client_body_timeout_ms;
        } else {
            auto& u = static_cast<Upstream&>(s);
            if (u.timer == Upstream::Timer::Read && u.session)
                u.read_deadline_ms = now_ms_ + u.session->policy.read_timeout_ms;
        }
    }
    if (client) {
        auto& session = static_cast<Session&>(s);
        if (res < 0 && res != -ENOBUFS && res != -ECANCELED) {
            client_gone(session);
            return;
        }
        drive_client(session);
        if (session.tls_session && !session.closing) flush_tls(session);  // handshake flights, tickets
        if (!session.closing) update_client_recv(session);
    } else {
        auto& u = static_cast<Upstream&>(s);
        if (res < 0 && res != -ENOBUFS && res != -ECANCELED) {
            upstream_failed(u, "receive error", UpstreamFailure::Io);
            return;
        }
        if (u.tls_session && u.eof && !u.tls_session->handshake_done()) [[unlikely]] {
            upstream_tls_closed_early(u);
            return;
        }
        fresh_taken_ = false;
        fresh_bid_ = fresh_bid;
        drive_upstream(u, fresh);
        if (!fresh.empty() && !fresh_taken_) buffers_.recycle(fresh_bid);
        fresh_taken_ = false;
        if (!u.closing) update_upstream_recv(u);
    }
}

void Worker::on_send(Stream& s, bool client, int res) {
    --s.inflight;
    s.send_inflight = false;
    if (s.closing) {
        maybe_release(s, client);
        return;
    }
    if (res <= 0) {
        if (client) client_gone(static_cast<Session&>(s));
        else upstream_failed(static_cast<Upstream&>(s), "send error", UpstreamFailure::Io);
        return;
    }
    s.sent += static_cast<std::size_t>(res);
    // Progress: the send timeout measures a stall, not the whole transfer.
    s.send_deadline_ms = now_ms_ + send_timeout_for(s, client);
    const Op op = client ? Op::ClientSend : Op::UpSend;
    if (s.sending_held_count) {
        if (s.sent < s.sending.size() + s.sending_held_bytes) {
            send_with_held(s, op);  // short send: the rest first, before anything newer
            return;
        }
        // Sent whole: its buffers go back (slices queued since stay held).
        for (std::uint8_t j = 0; j < s.sending_held_count; ++j) buffers_.recycle(s.sending_held[j].bid);
        held_buffers_ -= s.sending_held_count;
        s.sending_held_count = 0;
        s.sending_held_bytes = 0;
    }
    if (s.sent < s.sending.size()) {
        // Short send: the rest of the same buffer goes next, before anything newer.
        io_uring_sqe* e = sqe();
        io_uring_prep_send(e, s.fd, s.sending.data() + s.sent, s.sending.size() - s.sent, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(e, tag(&s, op));
        s.send_inflight = true;
        ++s.inflight;
        return;
    }
    s.sending.clear();
    s.sent = 0;
    s.send_deadline_ms = 0;
    flush(s, op);
    if (client) {
        auto& session = static_cast<Session&>(s);
        after_client_send(session);
        if (!session.closing && session.up) update_upstream_recv(*session.up);
    } else {
        auto& u = static_cast<Upstream&>(s);
        if (u.session && u.session->state == Session::State::Tunnel) pump_tunnel(*u.session);
        if (u.session && !u.session->closing) update_client_recv(*u.session);
    }
}

void Worker::on_connect(Upstream& u, int res) {
    --u.inflight;
    if (u.closing) {
        maybe_release(u, false);
        return;
    }
    if (res < 0) {
        upstream_failed(u, std::strerror(-res), UpstreamFailure::Connect);
        return;
    }
    u.connected = true;
    if (u.session && u.session->state == Session::State::Tunnel) {
        set_upstream_timer(u, Upstream::Timer::None, 0);  // tunnels have no read timeout
        arm_recv(u, Op::UpRecv);
        flush(u, Op::UpSend);
        pump_tunnel(*u.session);
        return;
    }
    // The read timeout starts once the whole request is out (an upload may
    // take longer than the upstream takes to answer). A TLS handshake still
    // counts as connecting: the connect timeout runs on until it is done.
    if (u.tls_session && !u.tls_session->handshake_done() && u.session)
        set_upstream_timer(u, Upstream::Timer::Connect, u.session->policy.connect_timeout_ms);
    else if (u.session && u.session->state == Session::State::AwaitResponse)
        set_upstream_timer(u, Upstream::Timer::Read, u.session->policy.read_timeout_ms);
    else
        set_upstream_timer(u, Upstream::Timer::None, 0);
    arm_recv(u, Op::UpRecv);
    flush(u, Op::UpSend);
}

void Worker::update_client_recv(Session& s) {
    if (s.closing || s.recv_starved) return;
    const bool want = !s.eof && s.in.size() < kMaxClientInput &&
                      (s.up == nullptr || s.up->pending_out() < options_.high_water) &&
                      s.pending_out() < options_.high_water;
    if (want && !s.recv_armed) arm_recv(s, Op::ClientRecv);
    else if (!want && s.recv_armed) cancel_recv(s, Op::ClientRecv);
}

void Worker::update_upstream_recv(Upstream& u) {
    if (u.closing || !u.connected || u.recv_starved) return;
    const bool want = !u.eof && (u.session == nullptr || u.session->pending_out() < options_.high_water);
    if (want && !u.recv_armed) arm_recv(u, Op::UpRecv);
    else if (!want && u.recv_armed) cancel_recv(u, Op::UpRecv);
}

void Worker::close_stream(Stream& s) {
    if (s.closing) return;
    s.closing = true;
    // shutdown() completes the pending multishot recv (and fails a pending
    // send or connect), so the in-flight count drains and the object can go.
    if (s.fd >= 0) shutdown(s.fd, SHUT_RDWR);
}

void Worker::maybe_release(Stream& s, bool client) {
    if (!s.closing || s.inflight > 0 || s.release_queued) return;
    s.release_queued = true;
    to_release_.emplace_back(&s, client);
}

// Released at the end of a completion batch, never in the middle, so no
// handler further up the stack can touch an object that was recycled.
void Worker::release_pending() {
    for (auto [s, client] : to_release_) {
        if (s->fd >= 0) close(s->fd);
        if (s->held_count || s->sending_held_count) recycle_held(*s);
        s->reset_stream();
        if (client) {
            auto* session = static_cast<Session*>(s);
            session->up = nullptr;
            session->state = Session::State::ReadHead;
            session->parser.reset();
            session->keep_alive = true;
            session->close_after_send = false;
            session->response_started = false;
            session->upstream_write_shut = session->client_write_shut = false;
            session->tls = false;
            if (session->tls_session) release_tls(*session);
            session->upstream_tls.reset();  // a recycled Session must not carry a route's TLS into an L4 tunnel
            session->extra.reset_connection();
            session->timer = Session::Timer::None;
            session->replay.clear();
            stats_.active_connections.dec();
            free_sessions_.push_back(session);
            --live_sessions_;
        } else {
            auto* u = static_cast<Upstream*>(s);
            u->session = nullptr;
            u->connected = u->idle = u->head_done = u->reused = false;
            u->timer = Upstream::Timer::None;
            u->parser.reset();
            if (u->tls_session) release_upstream_tls(*u);
            free_upstreams_.push_back(u);
        }
    }
    to_release_.clear();
}

Session* Worker::new_session() {
    ++live_sessions_;
    if (!free_sessions_.empty()) {
        Session* s = free_sessions_.back();
        free_sessions_.pop_back();
        return s;
    }
    sessions_.push_back(std::make_unique<Session>());
    return sessions_.back().get();
}

Upstream* Worker::new_upstream() {
    if (!free_upstreams_.empty()) {
        Upstream* u = free_upstreams_.back();
        free_upstreams_.pop_back();
        return u;
    }
    upstreams_.push_back(std::make_unique<Upstream>());
    return upstreams_.back().get();
}

}  // namespace xgress::io

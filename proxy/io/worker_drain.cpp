// Graceful drain of one worker (SIGTERM): the multishot accept is cancelled
// (ProxyServer closes the listener once every worker stopped accepting, so
// the kernel stops queueing connections for us), idle keep-alive client
// connections are closed, and every response from now on says
// `Connection: close` (http_flow.cpp checks draining_). Requests in flight
// finish; ProxyServer waits for the active connection count to reach zero
// or the drain timeout, then stops the workers.
#include <unistd.h>

#include "io/worker.h"

namespace xgress::io {

void Worker::begin_drain() {
    draining_.store(true, std::memory_order_release);
    if (wake_fd_ >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    }
}

void Worker::start_drain() {
    drain_started_ = true;
    // Both multishot accepts: the plain listener and, with --listen-tls, the TLS one.
    if (accept_armed_) {
        io_uring_sqe* e = sqe();
        io_uring_prep_cancel64(e, tag(Control::Accept), 0);
        io_uring_sqe_set_data64(e, tag(nullptr, Op::Ignore));
    }
    if (accept_tls_armed_) {
        io_uring_sqe* e = sqe();
        io_uring_prep_cancel64(e, tag(Control::AcceptTls), 0);
        io_uring_sqe_set_data64(e, tag(nullptr, Op::Ignore));
    }
    for (auto& owned : sessions_) {
        Session& s = *owned;
        if (s.fd < 0 || s.closing || s.release_queued) continue;
        const bool idle = s.state == Session::State::ReadHead && s.in.empty() && !s.up && s.pending_out() == 0;
        if (idle) close_session(s);
    }
    accept_stopped_.store(true, std::memory_order_release);
}

}  // namespace xgress::io

// The HTTP/1.1 forwarding state machine of a worker: parse a client request,
// route it, hand it to a pooled or new upstream connection, stream the body
// each way, and decide afterwards whether either connection can be reused.
//
// Error policy: a malformed request is answered (400/431/501/505) and the
// client connection closed; an upstream failure before any response byte
// reached the client becomes 502, after that the client connection is closed
// (it cannot be told otherwise). Nothing here throws.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "http/head_writer.h"
#include "io/worker.h"

namespace xgress::io {

void Worker::drive_client(Session& s) {
    while (!s.closing && !s.close_after_send) {
        switch (s.state) {
            case Session::State::ReadHead: {
                http::ParseResult r = s.in.empty() ? http::ParseResult::incomplete() : s.parser.parse(s.in, s.req);
                if (r.status == http::ParseStatus::Incomplete) {
                    if (s.eof) {  // client done: finish sending what is queued, then close
                        s.close_after_send = true;
                        after_client_send(s);
                    }
                    return;
                }
                if (r.status == http::ParseStatus::Error) {
                    spdlog::debug("client {}: rejected request: {}", s.client_ip, r.reason);
                    s.in.clear();
                    respond_local(s, r.http_status, false);
                    return;
                }
                start_request(s);
                break;
            }
            case Session::State::RequestBody:
                forward_request_body(s);
                if (s.state == Session::State::RequestBody) return;  // wants more bytes
                break;
            case Session::State::AwaitResponse:
                return;  // pipelined bytes wait in s.in until the response is done
        }
    }
}

void Worker::start_request(Session& s) {
    const http::RequestHead& req = s.req;
    s.keep_alive = req.keep_alive;
    s.response_started = false;
    const std::uint32_t backend = table_ ? table_->route(req.host, req.path) : router::kNoBackend;
    const router::EndpointAddress* ep = backend == router::kNoBackend ? nullptr : picker_.pick(*table_, backend);
    if (!ep) {
        // A request body we would have to skip is not worth the trouble: close.
        const bool keep = s.keep_alive && req.body == http::BodyKind::None;
        s.in.erase(0, req.head_length);
        s.parser.reset();
        respond_local(s, backend == router::kNoBackend ? 404 : 503, keep);
        return;
    }
    Upstream* u = acquire_upstream(*ep);
    u->session = &s;
    u->request_is_head = req.is_head;
    u->head_done = false;
    u->parser.reset();
    s.up = u;
    http::write_request_head(u->out, req, http::ForwardingInfo{s.client_ip, "http", ep->text});
    s.body.start(req.body, req.content_length);
    s.in.erase(0, req.head_length);
    s.parser.reset();
    s.state = Session::State::RequestBody;
    if (u->connected) flush(*u, Op::UpSend);
    // drive_upstream may have been waiting for nothing; an idle upstream that
    // already had bytes would have been closed, so nothing to do here.
}

void Worker::forward_request_body(Session& s) {
    Upstream* u = s.up;
    if (!s.body.done() && !s.in.empty()) {
        auto n = s.body.consume(s.in);
        if (!n) {
            spdlog::debug("client {}: bad request body: {}", s.client_ip, n.error());
            if (!s.response_started) {
                if (u) {
                    u->session = nullptr;
                    s.up = nullptr;
                    close_stream(*u);
                    maybe_release(*u, false);
                }
                s.in.clear();
                s.state = Session::State::AwaitResponse;
                respond_local(s, 400, false);
            } else {
                close_session(s);
            }
            return;
        }
        if (u) u->out.append(s.in, 0, *n);
        s.in.erase(0, *n);
        if (u && u->connected) flush(*u, Op::UpSend);
    }
    if (s.body.done()) {
        s.state = Session::State::AwaitResponse;
    } else if (s.eof) {
        close_session(s);  // client went away mid-body
    }
}

void Worker::drive_upstream(Upstream& u) {
    Session* s = u.session;
    if (!s) {
        if (u.in.empty() && !u.eof) return;  // recv ended for lack of buffers; re-armed by the caller
        // Idle pooled connection: bytes or EOF here mean it is unusable.
        unpark_upstream(u);
        close_stream(u);
        maybe_release(u, false);
        return;
    }
    while (!u.head_done) {
        http::ParseResult r = u.parser.parse(u.in, u.request_is_head, u.resp);
        if (r.status == http::ParseStatus::Incomplete) {
            if (u.eof) upstream_failed(u, "closed before response head");
            return;
        }
        if (r.status == http::ParseStatus::Error) {
            upstream_failed(u, r.reason.data());
            return;
        }
        if (u.resp.status >= 100 && u.resp.status < 200) {
            if (u.resp.status == 101) {
                upstream_failed(u, "protocol upgrade not supported");
                return;
            }
            // Interim responses (100 Continue, 103) pass through to 1.1 clients.
            if (s->req.version == http::Version::Http11) s->out.append(u.in, 0, u.resp.head_length);
            u.in.erase(0, u.resp.head_length);
            u.parser.reset();
            continue;
        }
        u.head_done = true;
        if (u.resp.body == http::BodyKind::UntilClose) s->keep_alive = false;
        http::write_response_head(s->out, u.resp, s->req.version, s->keep_alive);
        s->response_started = true;
        u.body.start(u.resp.body, u.resp.content_length);
        u.in.erase(0, u.resp.head_length);
    }
    if (!u.body.done() && !u.in.empty()) {
        auto n = u.body.consume(u.in);
        if (!n) {
            upstream_failed(u, "bad response body framing");
            return;
        }
        s->out.append(u.in, 0, *n);
        u.in.erase(0, *n);
    }
    flush(*s, Op::ClientSend);
    if (u.body.done()) {
        finish_response(*s, u);
    } else if (u.eof) {
        if (u.body.kind() == http::BodyKind::UntilClose) {
            finish_response(*s, u);
        } else {
            upstream_failed(u, "closed mid-body");
        }
    }
}

void Worker::finish_response(Session& s, Upstream& u) {
    const bool request_complete = s.state == Session::State::AwaitResponse;
    const bool reusable = u.resp.keep_alive && request_complete && u.in.empty() && !u.eof &&
                          u.body.kind() != http::BodyKind::UntilClose;
    u.session = nullptr;
    s.up = nullptr;
    if (reusable) {
        park_upstream(u);
    } else {
        close_stream(u);
        maybe_release(u, false);
    }
    if (!request_complete) s.keep_alive = false;  // the rest of the request body cannot be skipped safely
    if (!s.keep_alive) {
        s.close_after_send = true;
        after_client_send(s);
        return;
    }
    s.state = Session::State::ReadHead;
    s.response_started = false;
    drive_client(s);  // a pipelined request may already be waiting
    if (!s.closing) update_client_recv(s);
}

void Worker::upstream_failed(Upstream& u, const char* why) {
    Session* s = u.session;
    if (s) spdlog::debug("upstream {}: {} (client {})", u.key, why, s->client_ip);
    u.session = nullptr;
    unpark_upstream(u);
    close_stream(u);
    maybe_release(u, false);
    if (!s) return;
    s->up = nullptr;
    if (s->response_started) {
        close_session(*s);
        return;
    }
    s->in.clear();
    s->state = Session::State::AwaitResponse;
    respond_local(*s, 502, false);
}

void Worker::client_gone(Session& s) { close_session(s); }

void Worker::respond_local(Session& s, int status, bool keep_alive) {
    http::write_local_response(s.out, status, keep_alive);
    s.response_started = true;
    if (!keep_alive) {
        s.keep_alive = false;
        s.close_after_send = true;
        // Stop reading: nothing more from this client will be looked at.
        s.eof = true;
        update_client_recv(s);
    } else {
        s.state = Session::State::ReadHead;
    }
    flush(s, Op::ClientSend);
    after_client_send(s);
}

void Worker::after_client_send(Session& s) {
    if (s.closing) return;
    if (s.close_after_send && s.pending_out() == 0) close_session(s);
}

void Worker::close_session(Session& s) {
    if (s.up) {
        Upstream* u = s.up;
        u->session = nullptr;
        s.up = nullptr;
        close_stream(*u);
        maybe_release(*u, false);
    }
    close_stream(s);
    maybe_release(s, true);
}

Upstream* Worker::acquire_upstream(const router::EndpointAddress& ep) {
    auto it = idle_.find(std::string_view(ep.text));
    if (it != idle_.end()) {
        while (!it->second.empty()) {
            Upstream* u = it->second.back();
            it->second.pop_back();
            u->idle = false;
            if (!u->closing && !u->eof) return u;
        }
    }
    Upstream* u = new_upstream();
    u->key.assign(ep.text);
    u->addr = ep.addr;
    u->addr_len = ep.len;
    u->connected = false;
    u->fd = socket(ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (u->fd < 0) {
        u->connected = true;  // fails on first send below, reported as 502
        return u;
    }
    int one = 1;
    setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    io_uring_sqe* e = sqe();
    io_uring_prep_connect(e, u->fd, reinterpret_cast<sockaddr*>(&u->addr), u->addr_len);
    io_uring_sqe_set_data64(e, tag(u, Op::UpConnect));
    ++u->inflight;
    return u;
}

void Worker::park_upstream(Upstream& u) {
    auto it = idle_.find(std::string_view(u.key));
    if (it == idle_.end()) it = idle_.emplace(u.key, std::vector<Upstream*>{}).first;
    if (it->second.size() >= options_.max_idle_per_endpoint || stopping_.load(std::memory_order_relaxed)) {
        close_stream(u);
        maybe_release(u, false);
        return;
    }
    u.idle = true;
    u.head_done = false;
    u.parser.reset();
    it->second.push_back(&u);
    update_upstream_recv(u);  // keep listening: an EOF while idle retires it
}

void Worker::unpark_upstream(Upstream& u) {
    if (!u.idle) return;
    u.idle = false;
    auto it = idle_.find(std::string_view(u.key));
    if (it == idle_.end()) return;
    auto& v = it->second;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == &u) {
            v[i] = v.back();
            v.pop_back();
            break;
        }
    }
}

}  // namespace xgress::io

// The HTTP/1.1 forwarding state machine of a worker: parse a client request,
// route it, hand it to a pooled or new upstream connection, stream the body
// each way, and decide afterwards whether either connection can be reused.
//
// Error policy: a malformed request is answered (400/431/501/505) and the
// client connection closed; an upstream failure before any response byte
// reached the client is retried once when that is safe (retry_request), else
// becomes 502 (504 for a timeout); after a response started the client
// connection is closed (it cannot be told otherwise). Every locally generated
// status is counted (WorkerStats::generated). Nothing here throws.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "http/head_writer.h"
#include "io/worker.h"

namespace xgress::io {

namespace {

// A request body kept for a possible retry is capped: bigger bodies stream
// without a copy and are not retried once a byte of them went upstream.
constexpr std::size_t kMaxReplayBytes = 64 * 1024;

// Body bytes at least this many are sent from their receive buffer instead
// of being copied into the client's output; fewer are cheaper to copy than
// a receive buffer is to hold.
constexpr std::size_t kMinHeldBytes = 2048;

// RFC 9110 9.2.2: repeating these has the same effect as sending them once.
bool idempotent_method(std::string_view m) {
    return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

}  // namespace

void Worker::drive_client(Session& s) {
    while (!s.closing && !s.close_after_send) {
        switch (s.state) {
            case Session::State::ReadHead: {
                http::ParseResult r = s.in.empty() ? http::ParseResult::incomplete() : s.parser.parse(s.in, s.req);
                if (r.status == http::ParseStatus::Incomplete) {
                    if (s.eof) {  // client done: finish sending what is queued, then close
                        s.close_after_send = true;
                        after_client_send(s);
                    } else if (s.in.empty()) {
                        // Still in the TLS handshake: its own deadline stands.
                        if (s.timer != Session::Timer::Idle && s.timer != Session::Timer::Handshake)
                            set_session_timer(s, Session::Timer::Idle, options_.client_idle_timeout_ms);
                    } else if (s.timer != Session::Timer::Header) {
                        // Started with the first byte and never extended: a
                        // trickling client cannot hold the slot (slowloris).
                        set_session_timer(s, Session::Timer::Header, options_.client_header_timeout_ms);
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
            case Session::State::Tunnel:
                pump_tunnel(s);
                return;
        }
    }
}

namespace {

// The host set this connection's requests route with: its frontend's class
// table (snapshot Frontend::ingress_class), else the default one. One hash
// lookup per connection and snapshot; nothing when the snapshot has no classes.
std::uint32_t request_table(const router::RouteTable& table, Session& s) {
    if (table.table_count() == 1 || s.local.ss_family == AF_UNSPEC) return 0;
    if (s.table_routing != table.routing_identity()) {
        s.table_index = table.table_for(reinterpret_cast<const sockaddr*>(&s.local));
        s.table_routing = table.routing_identity();
    }
    return s.table_index;
}

}  // namespace

void Worker::start_request(Session& s) {
    const http::RequestHead& req = s.req;
    stats_.requests.inc();
    set_session_timer(s, Session::Timer::None, 0);
    // While draining, every response says Connection: close.
    s.keep_alive = req.keep_alive && !draining_.load(std::memory_order_relaxed);
    s.response_started = false;
    s.extra.target.clear();
    s.extra.response_headers.clear();
    s.extra.hashed = false;
    router::Captures caps;
    const std::uint32_t route =
        table_ ? table_->match(request_table(*table_, s), req.host, req.path, scratch_, &caps) : router::kNoRoute;
    const router::RouteTarget* target = route != router::kNoRoute ? &table_->target(route) : nullptr;
    s.extra.route = route;
    s.extra.route_routing = table_ ? table_->routing_identity() : nullptr;
    s.extra.id_ready = false;
    s.extra.response_bytes = 0;
    if (access_log_) log_begin(s, target, true);
    // Policy order (snapshot.h Route): allowed_sources → ssl_redirect →
    // redirect → app_root → rewrite; then proxy with the route's limits.
    if (target && !target->plain && apply_route_policy(s, *target, caps)) return;
    const std::uint32_t backend = target ? target->backend : router::kNoBackend;
    std::uint32_t endpoint = upstream::kNoEndpoint;
    if (backend != router::kNoBackend) {
        s.policy = target->policy.resolve(options_.route_defaults);
        if (target->upstream_tls || s.upstream_tls) [[unlikely]] s.upstream_tls = target->upstream_tls;
        if (s.policy.max_body_bytes && req.body == http::BodyKind::ContentLength &&
            req.content_length > s.policy.max_body_bytes) {
            s.in.clear();
            s.state = Session::State::AwaitResponse;
            respond_local(s, 413, false);
            return;
        }
        endpoint = choose_endpoint(s, target, backend);
    }
    if (endpoint == upstream::kNoEndpoint) {
        answer_locally(s, backend == router::kNoBackend ? 404 : 503);
        return;
    }
    s.backend = backend;
    s.picker_epoch = picker_.epoch();
    s.idempotent = idempotent_method(req.method);
    s.retries = 0;
    s.upgrade = !req.upgrade.empty();
    s.replay_ok = true;
    s.body_received = 0;
    s.replay.clear();
    const auto& ep = table_->backends()[backend].endpoints[endpoint];
    fill_forwarding(s);
    http::write_request_head(
        s.replay, req,
        http::ForwardingInfo{.client_ip = s.client_ip,
                             .proto = s.tls ? std::string_view("https") : std::string_view("http"),
                             .fallback_host = ep.text,
                             .port = std::string_view(s.extra.port_text, s.extra.port_len),
                             .request_id = std::string_view(s.extra.request_id, sizeof s.extra.request_id),
                             .target = s.extra.target});
    s.body.start(req.body, req.content_length);
    s.in.erase(0, req.head_length);
    s.parser.reset();
    s.state = Session::State::RequestBody;
    if (req.body != http::BodyKind::None)
        set_session_timer(s, Session::Timer::Body, options_.client_body_timeout_ms);
    attach_upstream(s, endpoint, true);
}

void Worker::answer_locally(Session& s, int status) {
    // A request body we would have to skip is not worth the trouble: close.
    const bool keep = s.keep_alive && s.req.body == http::BodyKind::None;
    s.in.erase(0, s.req.head_length);
    s.parser.reset();
    respond_local(s, status, keep);
}

void Worker::attach_upstream(Session& s, std::uint32_t endpoint, bool allow_pooled) {
    const auto& ep = table_->backends()[s.backend].endpoints[endpoint];
    Upstream* u = acquire_upstream(ep, allow_pooled, s.upstream_tls);
    u->session = &s;
    u->request_is_head = s.req.is_head;  // a bool, still valid after the head's bytes are gone
    u->head_done = false;
    u->parser.reset();
    u->endpoint = endpoint;
    u->backend = s.backend;
    u->picker_epoch = picker_.token(s.backend);  // health reports are per backend state
    s.up = u;
    count_outstanding(s, endpoint);
    s.extra.upstream_start_us = now_us_;
    u->out.append(s.replay);
    if (!u->connected) {
        set_upstream_timer(*u, Upstream::Timer::Connect, s.policy.connect_timeout_ms);
    } else {
        set_upstream_timer(*u, Upstream::Timer::None, 0);  // Read starts once the request is sent whole
        flush(*u, Op::UpSend);
    }
}

void Worker::forward_request_body(Session& s) {
    Upstream* u = s.up;
    if (!s.body.done() && !s.in.empty()) {
        auto n = s.body.consume(s.in);
        if (!n) {
            spdlog::debug("client {}: bad request body: {}", s.client_ip, n.error());
            abandon_request(s, 400);
            return;
        }
        s.body_received += *n;
        if (s.policy.max_body_bytes && s.body_received > s.policy.max_body_bytes) {
            // Only chunked bodies get here (a Content-Length is checked up front).
            abandon_request(s, 413);
            return;
        }
        if (u) u->out.append(s.in, 0, *n);
        if (s.replay_ok) {
            if (s.replay.size() + *n <= kMaxReplayBytes) s.replay.append(s.in, 0, *n);
            else s.replay_ok = false;
        }
        s.in.erase(0, *n);
        if (u && u->connected) flush(*u, Op::UpSend);
    }
    if (s.body.done()) {
        s.state = Session::State::AwaitResponse;
        set_session_timer(s, Session::Timer::None, 0);
        if (u && u->connected && u->timer != Upstream::Timer::Read)
            set_upstream_timer(*u, Upstream::Timer::Read, s.policy.read_timeout_ms);
    } else if (s.eof) {
        close_session(s);  // client went away mid-body
    }
}

void Worker::drive_upstream(Upstream& u, std::string_view fresh) {
    Session* s = u.session;
    // `fresh`: bytes just received, still in the ring's receive buffer. When
    // nothing older waits in u.in they are read in place: the response head
    // is parsed there and the body copied from there into the client's
    // output once, instead of buffer -> u.in -> (erase the head: a memmove
    // of the whole body) -> s.out. Only what is left over is kept in u.in.
    if (!fresh.empty() && (!s || s->state == Session::State::Tunnel || !u.in.empty())) {
        u.in.append(fresh);
        fresh = {};
    }
    if (s && s->state == Session::State::Tunnel) {
        pump_tunnel(*s);
        return;
    }
    if (!s) {
        if (u.in.empty() && !u.eof) return;  // recv ended for lack of buffers; re-armed by the caller
        // Idle pooled connection: bytes or EOF here mean it is unusable.
        unpark_upstream(u);
        close_stream(u);
        maybe_release(u, false);
        return;
    }
    const bool in_place = !fresh.empty();
    const std::string_view data = in_place ? fresh : std::string_view(u.in);
    std::size_t used = 0;  // leading bytes of `data` consumed
    // Leaves exactly the unconsumed bytes in u.in (one copy or one erase).
    auto keep_rest = [&] {
        if (in_place) u.in.assign(data.substr(used));
        else u.in.erase(0, used);
        used = 0;
    };
    while (!u.head_done) {
        http::ParseResult r = u.parser.parse(data.substr(used), u.request_is_head, u.resp);
        if (r.status == http::ParseStatus::Incomplete) {
            keep_rest();
            if (u.eof) upstream_failed(u, "closed before response head", UpstreamFailure::Io);
            return;
        }
        if (r.status == http::ParseStatus::Error) {
            keep_rest();
            upstream_failed(u, r.reason.data(), UpstreamFailure::Protocol);
            return;
        }
        if (u.resp.status >= 100 && u.resp.status < 200) {
            if (u.resp.status == 101) {
                keep_rest();  // the tunnel takes over u.in, head first
                // Only an answer to an Upgrade request whose body is done
                // (it has none) may switch; anything else is a broken upstream.
                if (!s->upgrade || s->state != Session::State::AwaitResponse) {
                    upstream_failed(u, "unsolicited 101", UpstreamFailure::Protocol);
                    return;
                }
                start_upgraded_tunnel(*s, u);
                return;
            }
            // Interim responses (100 Continue, 103) pass through to 1.1 clients.
            if (s->req.version == http::Version::Http11) s->out.append(data.substr(used, u.resp.head_length));
            used += u.resp.head_length;
            u.parser.reset();
            continue;
        }
        u.head_done = true;
        picker_.report_success(u.picker_epoch, u.backend, u.endpoint);
        observe_response(u, u.resp.status);
        count_route(*s, u.resp.status);
        if (u.resp.body == http::BodyKind::UntilClose) s->keep_alive = false;
        if (draining_.load(std::memory_order_relaxed)) s->keep_alive = false;
        const std::size_t before = s->out.size();
        http::write_response_head(s->out, u.resp, s->req.version, s->keep_alive, s->extra.response_headers);
        s->extra.response_bytes += s->out.size() - before;
        s->extra.log_status = static_cast<std::uint16_t>(u.resp.status);
        s->response_started = true;
        u.body.start(u.resp.body, u.resp.content_length);
        used += u.resp.head_length;  // the head's views into `data` are not used past this point
    }
    if (!u.body.done() && used < data.size()) {
        auto n = u.body.consume(data.substr(used));
        if (!n) {
            keep_rest();
            upstream_failed(u, "bad response body framing", UpstreamFailure::Protocol);
            return;
        }
        const bool can_hold = in_place && *n >= kMinHeldBytes && !s->tls_session && !fresh_taken_ &&
                              s->held_count < Stream::kMaxHeld;
        if (can_hold && held_buffers_ < options_.buffer_count / 4) {
            // Sent straight from the receive buffer (sendmsg): no copy in user space.
            s->held[s->held_count++] = HeldSlice{data.data() + used, static_cast<std::uint32_t>(*n),
                                                 static_cast<std::uint32_t>(s->out.size()), fresh_bid_};
            s->held_bytes += *n;
            ++held_buffers_;
            if (held_buffers_ > stats_.recv_held_peak.get()) stats_.recv_held_peak.inc();
            // Held buffers are out of the ring until their send completes:
            // provide more before they leave receives too few.
            if (held_buffers_ * 2 >= buffers_.provided()) grow_buffers();
            fresh_taken_ = true;
        } else {
            if (can_hold) stats_.recv_held_cap_hits.inc();
            s->out.append(data.data() + used, *n);
        }
        s->extra.response_bytes += *n;
        used += *n;
    }
    if (used > 0 || in_place) keep_rest();
    flush(*s, Op::ClientSend);
    if (u.body.done()) {
        finish_response(*s, u);
    } else if (u.eof) {
        if (u.body.kind() == http::BodyKind::UntilClose) {
            finish_response(*s, u);
        } else {
            upstream_failed(u, "closed mid-body", UpstreamFailure::Io);
        }
    }
}

void Worker::finish_response(Session& s, Upstream& u) {
    const bool request_complete = s.state == Session::State::AwaitResponse;
    const bool reusable = u.resp.keep_alive && request_complete && u.in.empty() && !u.eof &&
                          u.body.kind() != http::BodyKind::UntilClose;
    if (s.extra.log_open)
        log_end(s, u.resp.status, u.key, static_cast<std::int64_t>(now_us_ - s.extra.upstream_start_us));
    u.session = nullptr;
    s.up = nullptr;
    end_outstanding(s);
    if (draining_.load(std::memory_order_relaxed)) s.keep_alive = false;
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

void Worker::upstream_failed(Upstream& u, const char* why, UpstreamFailure kind) {
    Session* s = u.session;
    if (s) spdlog::debug("upstream {}: {} (client {})", u.key, why, s->client_ip);
    const bool connect_failed = kind == UpstreamFailure::Connect || kind == UpstreamFailure::ConnectTimeout;
    if (connect_failed && picker_.report_failure(u.picker_epoch, u.backend, u.endpoint, now_ms_))
        stats_.endpoint_ejections.inc();
    u.session = nullptr;
    unpark_upstream(u);
    close_stream(u);  // the object (and what retry_request reads) lives until the batch ends
    maybe_release(u, false);
    if (!s) return;
    s->up = nullptr;
    end_outstanding(*s);
    if (retry_request(*s, u, kind)) return;
    if (s->response_started || s->state == Session::State::Tunnel) {
        close_session(*s);
        return;
    }
    const bool timeout = kind == UpstreamFailure::ConnectTimeout || kind == UpstreamFailure::ReadTimeout ||
                         kind == UpstreamFailure::SendTimeout;
    s->in.clear();
    s->state = Session::State::AwaitResponse;
    respond_local(*s, timeout ? 504 : 502, false);
}

// Safe to send again when the failed attempt cannot have had an effect the
// client would see twice: nothing reached the upstream (the connect failed),
// or the method is idempotent and the connection broke (typically a pooled
// connection the server had just closed) before any response byte. Timeouts
// after the request was sent and malformed responses are not retried. The
// retry uses a fresh connection, on another endpoint after a connect failure.
// One retry per request, plus one more when that retry's connect fails or
// (idempotent requests) its connection breaks: an endpoint killed with
// requests in flight breaks them (Io), and their retry may pick the same,
// not yet ejected, endpoint and be refused, or be accepted from its dying
// listener's queue and reset. The second try avoids the endpoint that just
// failed. Both are safe: nothing reached an upstream, or the method may be
// repeated (nginx tries every server for those by default).
bool Worker::retry_request(Session& s, Upstream& failed, UpstreamFailure kind) {
    if (s.response_started || !s.replay_ok || s.closing) return false;
    if (failed.head_done || !failed.in.empty()) return false;
    const bool nothing_sent = kind == UpstreamFailure::Connect || kind == UpstreamFailure::ConnectTimeout;
    if (s.retries >= (nothing_sent || s.idempotent ? 2 : 1)) return false;
    if (!nothing_sent && !(kind == UpstreamFailure::Io && s.idempotent)) return false;
    if (!table_ || picker_.epoch() != s.picker_epoch) return false;
    const std::uint32_t avoid = nothing_sent || s.retries > 0 ? failed.endpoint : upstream::kNoEndpoint;
    const std::uint32_t endpoint = s.extra.hashed ? picker_.pick_hashed(table_->backends()[s.backend].ring, s.backend, s.extra.hash, now_ms_, avoid)
                                                  : picker_.pick(s.backend, now_ms_, avoid);
    if (endpoint == upstream::kNoEndpoint) return false;
    ++s.retries;
    stats_.upstream_retries.inc();
    // The affinity cookie must name where the request went, not the failed try.
    if (s.extra.route != router::kNoRoute && s.extra.route_routing == table_->routing_identity()) {
        const router::RouteTarget& route = table_->target(s.extra.route);
        if (!route.affinity_cookie.empty()) set_affinity_cookie(s, route, endpoint);
    }
    attach_upstream(s, endpoint, false);
    if (s.state == Session::State::AwaitResponse && s.up && s.up->connected)
        set_upstream_timer(*s.up, Upstream::Timer::Read, s.policy.read_timeout_ms);
    return true;
}

void Worker::client_gone(Session& s) { close_session(s); }

void Worker::respond_local(Session& s, int status, bool keep_alive) {
    stats_.generated[generated_index(status)].inc();
    count_route(s, status);
    set_session_timer(s, Session::Timer::None, 0);
    if (draining_.load(std::memory_order_relaxed)) keep_alive = false;
    // Only redirects carry the headers the policy code prepared (Location);
    // an error answer never sets an affinity cookie.
    const std::size_t before = s.out.size();
    http::write_local_response(s.out, status, keep_alive,
                               status < 400 ? std::string_view(s.extra.response_headers) : std::string_view());
    if (access_log_) {
        if (!s.extra.log_open) log_begin(s, nullptr, false);  // no parsed request (400, 408, 431 ...)
        s.extra.response_bytes = s.out.size() - before;
        log_end(s, status, {}, -1);
    }
    s.extra.response_headers.clear();
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
    if (s.state == Session::State::Tunnel) {
        pump_tunnel(s);
        return;
    }
    if (s.close_after_send && s.pending_out() == 0) close_session(s);
}

void Worker::detach_upstream(Session& s) {
    end_outstanding(s);
    if (!s.up) return;
    Upstream* u = s.up;
    u->session = nullptr;
    s.up = nullptr;
    close_stream(*u);
    maybe_release(*u, false);
}

void Worker::abandon_request(Session& s, int status) {
    if (s.response_started) {
        close_session(s);  // the client already has part of an answer: only closing is honest
        return;
    }
    detach_upstream(s);  // it holds a half-sent request
    s.in.clear();
    s.state = Session::State::AwaitResponse;
    respond_local(s, status, false);
}

void Worker::close_session(Session& s) {
    // A request that ends with the connection: the response was cut short
    // (its status as relayed) or never started (499, as nginx logs it).
    if (s.extra.log_open) log_end(s, s.response_started ? s.extra.log_status : 499, {}, -1);
    detach_upstream(s);
    close_stream(s);
    maybe_release(s, true);
}

Upstream* Worker::acquire_upstream(const router::EndpointAddress& ep, bool allow_pooled,
                                   const std::shared_ptr<const tls::UpstreamTls>& tls) {
    // TLS connections pool apart from plain ones (and per TLS setting).
    std::string_view key = ep.text;
    if (tls) [[unlikely]] {
        pool_key_.assign(ep.text);
        pool_key_ += tls->pool_tag();
        key = pool_key_;
    }
    auto it = allow_pooled ? idle_.find(key) : idle_.end();
    if (it != idle_.end()) {
        while (!it->second.empty()) {
            Upstream* u = it->second.back();
            it->second.pop_back();
            u->idle = false;
            stats_.idle_upstreams.dec();
            if (!u->closing && !u->eof) {
                u->reused = true;
                return u;
            }
        }
    }
    Upstream* u = new_upstream();
    u->reused = false;
    u->key.assign(key);
    u->addr = ep.addr;
    u->addr_len = ep.len;
    u->connected = false;
    if (tls && !start_upstream_tls(*u, tls)) {
        u->fd = -1;
        u->connected = true;  // fails on first send, reported as 502
        return u;
    }
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
    set_upstream_timer(u, Upstream::Timer::Idle, options_.upstream_idle_timeout_ms);
    u.parser.reset();
    it->second.push_back(&u);
    stats_.idle_upstreams.inc();
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
            stats_.idle_upstreams.dec();
            break;
        }
    }
}

void Worker::log_begin(Session& s, const router::RouteTarget* target, bool parsed) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME_COARSE, &now);  // vDSO: no syscall
    log::AccessRequest r{.unix_ms = static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000,
                         .client = s.client_ip};
    // Only a parsed head may be described: after a parse error s.req holds
    // views into bytes that are gone.
    if (parsed) {
        const http::RequestHead& req = s.req;
        r.method = req.method;
        r.host = req.host;
        r.target = req.target;
        if (target) r.route = target->name;
        for (std::size_t i = 0; i < req.header_count; ++i) {
            const http::Header& h = req.headers[i];
            if (h.id == http::HeaderId::XRequestId) {
                r.request_id = h.value;
                break;
            }
        }
        if (r.request_id.empty()) {
            ensure_request_id(s);
            r.request_id = std::string_view(s.extra.request_id, sizeof s.extra.request_id);
        }
    }
    log::format_access_begin(s.extra.log_line, r);
    s.extra.log_open = true;
    s.extra.log_status = 0;
}

void Worker::log_end(Session& s, int status, std::string_view upstream, std::int64_t upstream_latency_us) {
    s.extra.log_open = false;
    if (!access_log_) return;
    log::format_access_end(s.extra.log_line, status, s.extra.response_bytes, upstream, upstream_latency_us);
    access_log_->add(s.extra.log_line);
}

}  // namespace xgress::io

// Route policies applied at request start (snapshot.h Route, in its order):
// allowed_sources (403) → ssl_redirect (308, plain HTTP only) → redirect →
// app_root (302 for exactly "/") → rewrite_target; then the endpoint choice
// (consistent hashing for client_ip affinity, hash_by and affinity cookies,
// else the picker's balancing) and the headers the proxy adds upstream.
// Routes without any of these take the `plain` fast path and never get here
// except for the endpoint choice. Nothing allocates once the per-session
// strings have grown to their working size.
#include <sys/socket.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <random>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "http/request_fields.h"
#include "io/worker.h"
#include "router/rewrite.h"
#include "upstream/hash_key.h"

namespace xgress::io {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void hex64(std::uint64_t v, char* out) {
    for (int i = 15; i >= 0; --i) {
        out[i] = kHex[v & 15];
        v >>= 4;
    }
}

bool parse_hex64(std::string_view s, std::uint64_t& out) {
    if (s.size() != 16) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return ec == std::errc() && p == s.data() + s.size();
}

// The request target in origin form (path and query): an absolute-form
// target ("http://h/p?q") loses its scheme and authority.
std::string_view origin_form(const http::RequestHead& req) {
    if (!req.target.empty() && req.target.front() == '/') return req.target;
    const std::string_view q = http::query_of(req.target);
    return req.path.empty() ? std::string_view("/") : std::string_view(req.path.data(), req.path.size() + q.size());
}

}  // namespace

bool Worker::apply_route_policy(Session& s, const router::RouteTarget& route, const router::Captures& caps) {
    const http::RequestHead& req = s.req;
    if (!route.allowed_sources.empty() && !route.allowed_sources.contains(std::string_view(s.client_ip))) {
        answer_locally(s, 403);
        return true;
    }
    std::string& headers = s.extra.response_headers;
    if (route.ssl_redirect && !s.tls) {
        char buf[256];
        std::string_view host = router::normalize_host(req.host, buf, sizeof buf);
        headers.assign("Location: https://");
        headers.append(host);
        headers.append(origin_form(req));
        headers.append("\r\n");
        answer_locally(s, 308);
        return true;
    }
    if (route.redirect_status) {
        headers.assign("Location: ");
        headers.append(route.redirect_url);
        headers.append("\r\n");
        answer_locally(s, route.redirect_status);
        return true;
    }
    if (!route.app_root.empty() && req.path == "/") {
        headers.assign("Location: ");
        headers.append(route.app_root);
        headers.append("\r\n");
        answer_locally(s, 302);
        return true;
    }
    if (!route.rewrite_target.empty())
        router::rewrite_path(s.extra.target, route, req.path, http::query_of(req.target), caps);
    return false;
}

std::uint32_t Worker::choose_endpoint(Session& s, const router::RouteTarget* route, std::uint32_t backend) {
    const router::BackendTarget& b = table_->backends()[backend];
    if (b.endpoints.empty()) return upstream::kNoEndpoint;
    if (route && !route->affinity_cookie.empty() && !b.ring.empty()) {
        // Our cookie names the endpoint by its stable id; a value we did not
        // issue (or an endpoint gone or ejected) hashes onto the ring instead.
        bool found = false;
        const std::string_view value = http::cookie_value(s.req, route->affinity_cookie, &found);
        std::uint64_t id = 0;
        std::uint32_t endpoint = upstream::kNoEndpoint;
        if (found && parse_hex64(value, id)) {
            endpoint = b.find_id(id);
            if (endpoint == UINT32_MAX || picker_.ejected(backend, endpoint, now_ms_)) endpoint = upstream::kNoEndpoint;
        }
        s.extra.hashed = found;  // a retry walks the ring from the cookie's hash
        if (found) s.extra.hash = upstream::hash_text(value);
        if (endpoint == upstream::kNoEndpoint)
            endpoint = found ? picker_.pick_hashed(b.ring, backend, s.extra.hash, now_ms_) : picker_.pick(backend, now_ms_);
        s.extra.affinity_client_id = found ? id : 0;
        set_affinity_cookie(s, *route, endpoint);
        return endpoint;
    }
    if (route && !route->hash_by.empty() && !b.ring.empty()) {
        s.extra.hashed = true;
        s.extra.hash = upstream::hash_request_key(route->hash_by, s.req, s.client_ip);
        return picker_.pick_hashed(b.ring, backend, s.extra.hash, now_ms_);
    }
    if (b.affinity == snapshot::Affinity::ClientIp && !b.ring.empty()) {
        s.extra.hashed = true;
        s.extra.hash = upstream::hash_text(std::string_view(s.client_ip));
        return picker_.pick_hashed(b.ring, backend, s.extra.hash, now_ms_);
    }
    return picker_.pick(backend, now_ms_);
}

void Worker::set_affinity_cookie(Session& s, const router::RouteTarget& route, std::uint32_t endpoint) {
    const std::uint64_t id = table_->backends()[route.backend].endpoints[endpoint].id;
    std::string& h = s.extra.response_headers;  // holds nothing else on a proxied request
    if (s.extra.affinity_client_id == id) {
        h.clear();  // the client's cookie already names it
        return;
    }
    char idtext[16];
    hex64(id, idtext);
    h.assign("Set-Cookie: ");
    h.append(route.affinity_cookie);
    h.push_back('=');
    h.append(idtext, sizeof idtext);
    h.append("; Path=/; HttpOnly\r\n");
}

void Worker::count_route(Session& s, int status) {
    const std::uint32_t route = s.extra.route;
    s.extra.route = router::kNoRoute;  // once per request; a later parse error counts as unrouted
    const BackendMetrics* m = metrics_.get();
    if (!m || status < 100 || status >= 600) return;
    std::size_t slot = m->route_names.size() - 1;  // the "" (no route) entry
    if (route != router::kNoRoute) {
        if (s.extra.route_routing != m->routing || route >= slot) return;  // crossed a swap of the routes
        slot = route;
    }
    m->route_counters[slot][static_cast<std::size_t>(status / 100 - 1)].inc();
}

void Worker::observe_response(const Upstream& u, int status) {
    // Only while the upstream's backend index still means the same backend.
    if (!metrics_ || u.backend >= metrics_->names.size() || picker_.token(u.backend) != u.picker_epoch) return;
    metrics_->counters[u.backend].observe(status, now_us_ - u.session->extra.upstream_start_us);
}

void Worker::count_outstanding(Session& s, std::uint32_t endpoint) {
    end_outstanding(s);
    picker_.begin(s.backend, endpoint);
    s.extra.counted = true;
    s.extra.counted_backend = s.backend;
    s.extra.counted_endpoint = endpoint;
    s.extra.counted_token = picker_.token(s.backend);
}

void Worker::end_outstanding(Session& s) {
    if (!s.extra.counted) return;
    s.extra.counted = false;
    picker_.end(s.extra.counted_token, s.extra.counted_backend, s.extra.counted_endpoint);
}

void Worker::ensure_request_id(Session& s) {
    if (s.extra.id_ready) return;
    s.extra.id_ready = true;
    // X-Request-ID: 16 hex of a random per-worker prefix, 16 of a counter.
    if (request_id_prefix_ == 0) {
        std::random_device rd;
        request_id_prefix_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) | 1;
        hex64(request_id_prefix_, request_id_prefix_hex_);
    }
    std::memcpy(s.extra.request_id, request_id_prefix_hex_, 16);
    hex64(++request_counter_, s.extra.request_id + 16);
}

void Worker::fill_forwarding(Session& s) {
    ensure_request_id(s);
    if (s.extra.port_len == 0) {
        // Once per connection: the port the client dialled (the NodePort or
        // VIP port when the agent steers connections here).
        sockaddr_storage local{};
        socklen_t len = sizeof local;
        std::uint16_t port = 0;
        if (getsockname(s.fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
            port = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                                     : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
        auto [end, ec] = std::to_chars(s.extra.port_text, s.extra.port_text + sizeof s.extra.port_text, port);
        s.extra.port_len = ec == std::errc() ? static_cast<std::uint8_t>(end - s.extra.port_text) : 0;
    }
}

void Worker::adopt_table() {
    // Logged at debug (swap timing, issue 5): adoption runs on the data path.
    struct Timer {
        unsigned index;
        std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
        ~Timer() {
            spdlog::debug("worker {}: adopted a table in {:.2f} ms", index,
                          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
        }
    } timer{index_};
    picker_.set_balance(options_.balance);
    if (next_table_) picker_.reset(*next_table_, index_, table_.get());
    table_ = std::move(next_table_);
    if (!table_ || (metrics_ && metrics_->routing == table_->routing_identity())) return;  // a patch: same backends
    // New backend list: a new counter block, counts carried over by name.
    // Only non-zero counts need carrying, and a name usually keeps its index
    // (same routes, new backends): those are compared in place, and only the
    // rest looked up in a map of the old block's counted names. On a
    // 10,000-route swap this replaced two 10,000-entry maps on the data path.
    auto block = std::make_shared<BackendMetrics>();
    block->routing_owner = table_->routing_owner();
    const auto backends = table_->backends();
    block->routing = table_->routing_identity();
    block->counters = std::make_unique<BackendCounters[]>(backends.size());
    // Routes, by index, then the no-route entry.
    const std::size_t routes = table_->route_count();
    block->route_counters = std::make_unique<RouteCounters[]>(routes + 1);
    block->route_names.reserve(routes + 1);
    for (std::size_t r = 0; r < routes; ++r) block->route_names.push_back(table_->target(static_cast<std::uint32_t>(r)).name);
    block->route_names.emplace_back();
    block->names.reserve(backends.size());
    for (std::size_t b = 0; b < backends.size(); ++b) block->names.push_back(table_->backend_name(static_cast<std::uint32_t>(b)));
    if (metrics_) {
        const BackendMetrics& from = *metrics_;
        auto route_counted = [&](std::size_t r) {
            for (std::size_t c = 0; c < 5; ++c)
                if (from.route_counters[r][c].get() != 0) return true;
            return false;
        };
        auto backend_counted = [&](std::size_t b) {
            const BackendCounters& c = from.counters[b];
            if (c.latency_sum_us.get() != 0) return true;
            for (const auto& v : c.responses)
                if (v.get() != 0) return true;
            for (const auto& v : c.latency)
                if (v.get() != 0) return true;
            return false;
        };
        auto carry_route = [&](std::size_t to, std::size_t r) {
            for (std::size_t c = 0; c < 5; ++c) block->route_counters[to][c].inc(from.route_counters[r][c].get());
        };
        auto carry_backend = [&](std::size_t to_index, std::size_t b) {
            const BackendCounters& f = from.counters[b];
            BackendCounters& to = block->counters[to_index];
            for (std::size_t i = 0; i < to.responses.size(); ++i) to.responses[i].inc(f.responses[i].get());
            for (std::size_t i = 0; i < to.latency.size(); ++i) to.latency[i].inc(f.latency[i].get());
            to.latency_sum_us.inc(f.latency_sum_us.get());
        };
        // Counted entries whose name moved to another index (or went away).
        std::unordered_map<std::string_view, std::size_t> moved_routes, moved_backends;
        for (std::size_t r = 0; r < from.route_names.size(); ++r) {
            if (!route_counted(r)) continue;
            if (r < block->route_names.size() && block->route_names[r] == from.route_names[r]) carry_route(r, r);
            else moved_routes.emplace(from.route_names[r], r);
        }
        for (std::size_t b = 0; b < from.names.size(); ++b) {
            if (!backend_counted(b)) continue;
            if (b < block->names.size() && block->names[b] == from.names[b]) carry_backend(b, b);
            else moved_backends.emplace(from.names[b], b);
        }
        // Entries matched in place are skipped here, so no count is carried twice onto one index.
        if (!moved_routes.empty())
            for (std::size_t r = 0; r < block->route_names.size(); ++r) {
                if (r < from.route_names.size() && from.route_names[r] == block->route_names[r]) continue;
                if (auto it = moved_routes.find(block->route_names[r]); it != moved_routes.end()) carry_route(r, it->second);
            }
        if (!moved_backends.empty())
            for (std::size_t b = 0; b < block->names.size(); ++b) {
                if (b < from.names.size() && from.names[b] == block->names[b]) continue;
                if (auto it = moved_backends.find(block->names[b]); it != moved_backends.end()) carry_backend(b, it->second);
            }
    }
    std::lock_guard lock(metrics_mutex_);
    metrics_ = std::move(block);
}

void Worker::add_backend_metrics(BackendTotalsByName& out) const {
    std::shared_ptr<BackendMetrics> block;
    {
        std::lock_guard lock(metrics_mutex_);
        block = metrics_;
    }
    if (!block) return;
    for (std::size_t b = 0; b < block->names.size(); ++b) out[std::string(block->names[b])].add(block->counters[b]);
}

void Worker::add_route_metrics(RouteTotalsByName& out) const {
    std::shared_ptr<BackendMetrics> block;
    {
        std::lock_guard lock(metrics_mutex_);
        block = metrics_;
    }
    if (!block) return;
    for (std::size_t r = 0; r < block->route_names.size(); ++r) {
        const RouteCounters& c = block->route_counters[r];
        std::array<std::uint64_t, 5> v{};
        bool any = false;
        for (std::size_t i = 0; i < v.size(); ++i) any |= (v[i] = c[i].get()) != 0;
        if (!any) continue;  // untouched routes add no series
        auto& to = out[std::string(block->route_names[r])];
        for (std::size_t i = 0; i < v.size(); ++i) to[i] += v[i];
    }
}

}  // namespace xgress::io

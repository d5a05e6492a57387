#include "router/route_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace xgress::router {

std::string_view normalize_host(std::string_view host, char* out, std::size_t cap) {
    if (!host.empty() && host.front() == '[') {
        std::size_t close = host.find(']');
        if (close != std::string_view::npos) host = host.substr(0, close + 1);
    } else {
        std::size_t colon = host.find(':');
        if (colon != std::string_view::npos) host = host.substr(0, colon);
    }
    if (host.size() > cap) return {};
    for (std::size_t i = 0; i < host.size(); ++i) {
        char c = host[i];
        out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    return {out, host.size()};
}

std::uint32_t RouteTable::HostRules::match(std::string_view path, MatchScratch& scratch, Captures* caps) const {
    if (!exact.empty()) {
        auto it = exact.find(path);
        if (it != exact.end()) return it->second;
    }
    for (const RegexRule& r : regexes)
        if (r.regex.match(path, scratch, caps)) return r.route;
    for (const PrefixRule& p : prefixes) {
        if (p.prefix == "/") return p.route;
        if (path.starts_with(p.prefix) && (path.size() == p.prefix.size() || path[p.prefix.size()] == '/'))
            return p.route;
    }
    return kNoRoute;
}

std::uint32_t RouteTable::match(std::string_view host, std::string_view path, MatchScratch& scratch,
                                Captures* caps) const {
    const Routing& r = *routing_;
    char buf[256];
    std::string_view h = normalize_host(host, buf, sizeof buf);
    if (!h.empty()) {
        auto it = r.hosts.find(h);
        if (it != r.hosts.end()) {
            std::uint32_t m = it->second.match(path, scratch, caps);
            if (m != kNoRoute) return m;
        }
        // One label, then the suffix: ".example.com". An empty first label
        // (".example.com" as Host) is not a match.
        std::size_t dot = h.find('.');
        if (!r.wildcards.empty() && dot != std::string_view::npos && dot > 0) {
            auto w = r.wildcards.find(h.substr(dot));
            if (w != r.wildcards.end()) {
                std::uint32_t m = w->second.match(path, scratch, caps);
                if (m != kNoRoute) return m;
            }
        }
    }
    std::uint32_t m = r.any_host.match(path, scratch, caps);
    return m != kNoRoute ? m : r.default_route;
}

std::uint32_t RouteTable::find_backend(std::string_view name) const {
    auto it = routing_->backend_index.find(name);
    return it == routing_->backend_index.end() ? kNoBackend : it->second;
}

std::uint32_t RouteTable::route(std::string_view host, std::string_view path) const {
    static thread_local MatchScratch scratch;
    const std::uint32_t m = match(host, path, scratch, nullptr);
    return m == kNoRoute ? kNoBackend : routing_->routes[m].backend;
}

std::uint64_t endpoint_id(std::string_view text) {
    Fnv1a h;
    h.add("xgress-endpoint:", 16);
    h.add(text.data(), text.size());
    return h.done();
}

std::uint32_t BackendTarget::find_id(std::uint64_t id) const {
    auto it = std::lower_bound(by_id.begin(), by_id.end(), std::pair<std::uint64_t, std::uint32_t>{id, 0});
    return it != by_id.end() && it->first == id ? it->second : UINT32_MAX;
}

namespace {

std::expected<EndpointAddress, std::string> resolve(const snapshot::Endpoint& ep) {
    EndpointAddress out;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (inet_pton(AF_INET, ep.address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(ep.port);
        out.len = sizeof(sockaddr_in);
        out.text = ep.address + ":" + std::to_string(ep.port);
    } else if (inet_pton(AF_INET6, ep.address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(ep.port);
        out.len = sizeof(sockaddr_in6);
        out.text = "[" + ep.address + "]:" + std::to_string(ep.port);
    } else {
        return std::unexpected("bad endpoint address \"" + ep.address + "\"");
    }
    out.id = endpoint_id(out.text);
    return out;
}

}  // namespace

namespace {

// Builds the frontend key into `buf`; returns its length (0: not an IP socket address).
std::size_t frontend_key(const sockaddr* sa, bool with_address, char* buf) {
    if (sa->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(sa);
        std::memcpy(buf, &v4->sin_port, 2);
        if (!with_address) return 2;
        std::memcpy(buf + 2, &v4->sin_addr, 4);
        return 6;
    }
    if (sa->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(sa);
        std::memcpy(buf, &v6->sin6_port, 2);
        if (!with_address) return 2;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            std::memcpy(buf + 2, reinterpret_cast<const char*>(&v6->sin6_addr) + 12, 4);
            return 6;
        }
        std::memcpy(buf + 2, &v6->sin6_addr, 16);
        return 18;
    }
    return 0;
}

}  // namespace

const FrontendTarget* RouteTable::frontend(const sockaddr* local) const {
    const auto& frontends = routing_->frontends;
    if (frontends.empty()) return nullptr;
    char key[18];
    std::size_t n = frontend_key(local, true, key);
    if (n == 0) return nullptr;
    if (auto it = frontends.find(std::string_view(key, n)); it != frontends.end()) return &it->second;
    if (auto it = frontends.find(std::string_view(key, 2)); it != frontends.end()) return &it->second;
    return nullptr;
}

namespace {

std::expected<std::shared_ptr<const BackendTarget>, std::string> make_backend(const snapshot::Backend& b,
                                                                              bool hashed_by_routes) {
    auto t = std::make_shared<BackendTarget>();
    t->name = b.name;
    t->affinity = b.affinity;
    t->endpoints.reserve(b.endpoints.size());
    for (const auto& ep : b.endpoints) {
        auto addr = resolve(ep);
        if (!addr) return std::unexpected("backend \"" + b.name + "\": " + addr.error());
        t->endpoints.push_back(std::move(*addr));
    }
    if (hashed_by_routes || b.affinity == snapshot::Affinity::ClientIp) {
        std::vector<std::uint64_t> ids;
        ids.reserve(t->endpoints.size());
        for (std::uint32_t i = 0; i < t->endpoints.size(); ++i) {
            ids.push_back(t->endpoints[i].id);
            t->by_id.emplace_back(t->endpoints[i].id, i);
        }
        std::sort(t->by_id.begin(), t->by_id.end());
        t->ring.build(ids);
    }
    return std::shared_ptr<const BackendTarget>(std::move(t));
}

// The route's policy, compiled; errors are prefixed with the route's name by the caller.
std::expected<RouteTarget, std::string> make_route(const snapshot::Route& r, std::string name) {
    RouteTarget t;
    t.name = std::move(name);
    t.policy = RoutePolicy{.connect_timeout_ms = r.connect_timeout_ms, .send_timeout_ms = r.send_timeout_ms,
                           .read_timeout_ms = r.read_timeout_ms, .max_body_bytes = r.max_body_bytes};
    for (const auto& c : r.allowed_sources)
        if (auto e = t.allowed_sources.add(c); !e) return std::unexpected("allowed_sources: " + e.error());
    t.ssl_redirect = r.ssl_redirect;
    t.redirect_status = r.redirect.status;
    t.redirect_url = r.redirect.url;
    t.app_root = r.app_root;
    t.regex = r.regex;
    t.exact = r.match == snapshot::PathMatch::Exact;
    t.rewrite_target = r.rewrite_target;
    if (!r.hash_by.empty()) {
        auto k = KeyTemplate::compile(r.hash_by);
        if (!k) return std::unexpected("hash_by: " + k.error());
        t.hash_by = std::move(*k);
    }
    t.affinity_cookie = r.affinity_cookie;
    if (r.backend_protocol == snapshot::BackendProtocol::Https) {
        auto tls = tls::UpstreamTls::get({.server_name = r.upstream_server_name, .verify = r.upstream_verify,
                                          .ca_pem = r.upstream_ca_pem});
        if (!tls) return std::unexpected("upstream TLS: " + tls.error());
        t.upstream_tls = std::move(*tls);
    }
    t.plain = t.allowed_sources.empty() && !t.ssl_redirect && !t.redirect_status && t.app_root.empty() &&
              t.rewrite_target.empty() && t.hash_by.empty() && t.affinity_cookie.empty();
    return t;
}

}  // namespace

std::expected<std::shared_ptr<const RouteTable>, std::string> RouteTable::build(const snapshot::Snapshot& snap) {
    auto routing = std::make_shared<Routing>();
    Routing& rt = *routing;
    // Sized once: rehashing 10,000-entry tables while filling them was a
    // visible part of a full build.
    std::size_t route_count = 0;
    for (const auto& vh : snap.virtual_hosts) route_count += vh.routes.size();
    rt.routes.reserve(route_count + 1);
    rt.hosts.reserve(snap.virtual_hosts.size());
    rt.backend_index.reserve(snap.backends.size());
    for (const auto& b : snap.backends)
        rt.backend_index.emplace(b.name, static_cast<std::uint32_t>(rt.backend_index.size()));
    rt.hashed_by_routes.assign(snap.backends.size(), false);
    auto lookup = [&](const std::string& name) -> std::expected<std::uint32_t, std::string> {
        auto it = rt.backend_index.find(name);
        if (it == rt.backend_index.end()) return std::unexpected("unknown backend \"" + name + "\"");
        return it->second;
    };
    for (const auto& vh : snap.virtual_hosts) {
        char buf[256];
        std::string host(normalize_host(vh.host, buf, sizeof buf));
        HostRules* target = &rt.any_host;
        if (host.starts_with("*.") && host.size() > 2)
            target = &rt.wildcards[host.substr(1)];  // key ".example.com"
        else if (!vh.host.empty())
            target = &rt.hosts[host];
        HostRules& rules = *target;
        for (const auto& r : vh.routes) {
            std::string name = (vh.host.empty() ? std::string("*") : vh.host) + " " + r.path;
            auto route = make_route(r, name);
            if (!route) return std::unexpected("route " + name + ": " + route.error());
            if (!r.backend.empty()) {
                auto b = lookup(r.backend);
                if (!b) return std::unexpected("route " + name + ": " + b.error());
                route->backend = *b;
                if (!route->hash_by.empty() || !route->affinity_cookie.empty()) rt.hashed_by_routes[*b] = true;
            } else if (!route->redirect_status) {
                return std::unexpected("route " + name + ": no backend and no redirect");
            }
            const auto index = static_cast<std::uint32_t>(rt.routes.size());
            if (r.regex) {
                auto re = PathRegex::compile(r.path);
                if (!re) return std::unexpected("route " + name + ": " + re.error());
                rules.regexes.push_back({std::move(*re), r.path.size(), index});
            } else if (r.match == snapshot::PathMatch::Exact) {
                rules.exact.emplace(r.path, index);  // first rule for a path wins
            } else {
                std::string prefix = r.path;
                while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
                route->prefix = prefix;
                rules.prefixes.push_back({std::move(prefix), index});
            }
            rt.routes.push_back(std::move(*route));
        }
    }
    auto sort_rules = [](HostRules& rules) {
        if (rules.prefixes.size() > 1)
            std::stable_sort(rules.prefixes.begin(), rules.prefixes.end(),
                         [](const PrefixRule& a, const PrefixRule& b) { return a.prefix.size() > b.prefix.size(); });
        if (rules.regexes.size() > 1)
            std::stable_sort(rules.regexes.begin(), rules.regexes.end(),
                         [](const RegexRule& a, const RegexRule& b) { return a.length > b.length; });
    };
    sort_rules(rt.any_host);
    for (auto& [_, rules] : rt.hosts) sort_rules(rules);
    for (auto& [_, rules] : rt.wildcards) sort_rules(rules);
    if (!snap.default_backend.empty()) {
        auto b = lookup(snap.default_backend);
        if (!b) return std::unexpected("default_backend: " + b.error());
        RouteTarget def;
        def.backend = *b;
        def.name = "default_backend";
        rt.default_route = static_cast<std::uint32_t>(rt.routes.size());
        rt.routes.push_back(std::move(def));
    }
    for (const auto& f : snap.frontends) {
        FrontendTarget target{f.protocol, kNoBackend};
        if (f.protocol == snapshot::FrontendProtocol::Tcp) {
            auto b = lookup(f.backend);
            if (!b) return std::unexpected("frontend port " + std::to_string(f.port) + ": " + b.error());
            target.backend = *b;
        }
        EndpointAddress where;  // reuse the endpoint parser for the address
        if (!f.address.empty()) {
            auto a = resolve(snapshot::Endpoint{f.address, f.port});
            if (!a) return std::unexpected("frontend: " + a.error());
            where = *a;
        } else {
            auto* v4 = reinterpret_cast<sockaddr_in*>(&where.addr);
            v4->sin_family = AF_INET;
            v4->sin_port = htons(f.port);
        }
        char key[18];
        std::size_t n = frontend_key(reinterpret_cast<const sockaddr*>(&where.addr), !f.address.empty(), key);
        rt.frontends.emplace(std::string(key, n), target);
    }
    auto table = std::make_shared<RouteTable>();
    table->version_ = snap.version;
    table->backends_.reserve(snap.backends.size());
    for (std::size_t i = 0; i < snap.backends.size(); ++i) {
        auto b = make_backend(snap.backends[i], rt.hashed_by_routes[i]);
        if (!b) return std::unexpected(b.error());
        table->backends_.push_back(std::move(*b));
    }
    table->routing_ = std::move(routing);
    return std::shared_ptr<const RouteTable>(std::move(table));
}

std::expected<std::shared_ptr<const RouteTable>, std::string> RouteTable::with_endpoints(
    const snapshot::EndpointsPatch& patch) const {
    if (patch.base_version != version_)
        return std::unexpected("patch base version " + std::to_string(patch.base_version) +
                               " is not the serving version " + std::to_string(version_));
    auto table = std::make_shared<RouteTable>();
    table->routing_ = routing_;
    table->backends_ = backends_;  // pointer copies; the patched ones are replaced below
    table->version_ = patch.version;
    for (const auto& b : patch.backends) {
        auto it = routing_->backend_index.find(b.name);
        if (it == routing_->backend_index.end()) return std::unexpected("patch names unknown backend \"" + b.name + "\"");
        auto built = make_backend(b, routing_->hashed_by_routes[it->second]);
        if (!built) return std::unexpected(built.error());
        table->backends_[it->second] = std::move(*built);
    }
    return std::shared_ptr<const RouteTable>(std::move(table));
}

}  // namespace xgress::router

#include "router/route_table.h"

#include "xgress/ipv4_literal.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
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

std::uint32_t RouteTable::match(std::uint32_t table, std::string_view host, std::string_view path,
                                MatchScratch& scratch, Captures* caps) const {
    const Routing& rt = *routing_;
    const HostSet& r = rt.tables[table < rt.tables.size() ? table : 0];
    char buf[256];
    std::string_view h = normalize_host(host, buf, sizeof buf);
    if (!h.empty()) {
        if (const std::uint32_t at = r.host_index.find(h); at != NameIndex::npos) {
            std::uint32_t m = r.host_rules[at].match(path, scratch, caps);
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
    const std::uint32_t at = routing_->backend_index.find(name);
    return at == NameIndex::npos ? kNoBackend : at;
}

std::uint32_t RouteTable::class_table(std::string_view ingress_class) const {
    auto it = routing_->class_tables.find(ingress_class);
    return it == routing_->class_tables.end() ? 0 : it->second;
}

std::uint32_t RouteTable::route(std::uint32_t table, std::string_view host, std::string_view path) const {
    static thread_local MatchScratch scratch;
    const std::uint32_t m = match(table, host, path, scratch, nullptr);
    return m == kNoRoute ? kNoBackend : routing_->routes[m].backend;
}

std::uint64_t endpoint_id(std::string_view text) {
    // The FNV state after the constant prefix, computed at compile time:
    // hashing its 16 bytes again per endpoint was a sixth of resolving the
    // 10,000 endpoints of a swap. Same ids as hashing prefix + text.
    static constexpr Fnv1a kPrefixed = [] {
        Fnv1a h;
        h.add(std::string_view("xgress-endpoint:"));
        return h;
    }();
    Fnv1a h = kPrefixed;
    h.add(text.data(), text.size());
    return h.done();
}

std::uint32_t BackendTarget::find_id(std::uint64_t id) const {
    auto it = std::lower_bound(by_id.begin(), by_id.end(), std::pair<std::uint64_t, std::uint32_t>{id, 0});
    return it != by_id.end() && it->first == id ? it->second : UINT32_MAX;
}

namespace {

// Fills `out` (a value-initialised EndpointAddress, in place: returning it by
// value copied its 128-byte sockaddr_storage once more per endpoint).
// false: not an address (the caller words the error).
bool resolve_view(std::string_view address, std::uint16_t port, EndpointAddress& out) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    // "[" address "]:" port, built in place: temporaries per endpoint showed up
    // when building 100,000 endpoints.
    char text[INET6_ADDRSTRLEN + 16];
    std::size_t n = 0;
    if (address.size() >= INET6_ADDRSTRLEN) return false;
    char z[INET6_ADDRSTRLEN];  // NUL-terminated for inet_pton
    const bool dotted = parse_ipv4_literal(address, v4->sin_addr);
    if (!dotted) {
        std::memcpy(z, address.data(), address.size());
        z[address.size()] = 0;
    }
    if (dotted || inet_pton(AF_INET, z, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.len = sizeof(sockaddr_in);
        std::memcpy(text, address.data(), address.size());
        n = address.size();
    } else if (inet_pton(AF_INET6, z, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.len = sizeof(sockaddr_in6);
        text[0] = '[';
        std::memcpy(text + 1, address.data(), address.size());
        n = address.size() + 1;
        text[n++] = ']';
    } else {
        return false;
    }
    text[n++] = ':';
    n = static_cast<std::size_t>(std::to_chars(text + n, text + sizeof text, port).ptr - text);
    out.text.assign(text, n);
    out.id = endpoint_id(out.text);
    return true;
}

std::expected<void, std::string> resolve(const snapshot::Endpoint& ep, EndpointAddress& out) {
    if (!resolve_view(ep.address, ep.port, out)) return std::unexpected("bad endpoint address \"" + ep.address + "\"");
    return {};
}

// Whether `e` was resolved from `ep` (its text is "addr:port" or "[addr]:port").
bool same_endpoint(const EndpointAddress& e, const snapshot::Endpoint& ep) {
    std::string_view t = e.text;
    const bool v6 = !t.empty() && t.front() == '[';
    if (v6) t.remove_prefix(1);
    if (!t.starts_with(ep.address)) return false;
    t.remove_prefix(ep.address.size());
    if (v6) {
        if (t.empty() || t.front() != ']') return false;
        t.remove_prefix(1);
    }
    if (t.empty() || t.front() != ':') return false;
    t.remove_prefix(1);
    char port[8];
    const auto end = std::to_chars(port, port + sizeof port, ep.port).ptr;
    return t == std::string_view(port, static_cast<std::size_t>(end - port));
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

// The Maglev ring and id index of a backend something hashes onto.
void build_hashing(BackendTarget& t) {
    t.hashed = true;
    std::vector<std::uint64_t> ids;
    ids.reserve(t.endpoints.size());
    for (std::uint32_t i = 0; i < t.endpoints.size(); ++i) {
        ids.push_back(t.endpoints[i].id);
        t.by_id.emplace_back(t.endpoints[i].id, i);
    }
    std::sort(t.by_id.begin(), t.by_id.end());
    t.ring.build(ids);
}

std::expected<std::shared_ptr<const BackendTarget>, std::string> make_backend(const snapshot::Backend& b,
                                                                              bool hashed_by_routes) {
    auto t = std::make_shared<BackendTarget>();
    t->name = b.name;
    t->affinity = b.affinity;
    t->endpoints.reserve(b.endpoints.size());
    for (const auto& ep : b.endpoints) {
        if (auto addr = resolve(ep, t->endpoints.emplace_back()); !addr)
            return std::unexpected("backend \"" + b.name + "\": " + addr.error());
    }
    if (hashed_by_routes || b.affinity == snapshot::Affinity::ClientIp) build_hashing(*t);
    return std::shared_ptr<const BackendTarget>(std::move(t));
}

// The route's policy, compiled into `t` (already in the table's route vector:
// building it aside and moving the ~400-byte target in was a tenth of a
// 10,000-route build); errors are prefixed with the route's name by the caller.
std::expected<void, std::string> make_route(const snapshot::Route& r, RouteTarget& t) {
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
    return {};
}

}  // namespace

namespace {

// Whether `old` (a built backend of the same name) can serve for `b` as it is.
bool unchanged(const BackendTarget& old, const snapshot::Backend& b, bool hashed) {
    if (old.affinity != b.affinity || old.hashed != hashed || old.endpoints.size() != b.endpoints.size()) return false;
    for (std::size_t i = 0; i < b.endpoints.size(); ++i)
        if (!same_endpoint(old.endpoints[i], b.endpoints[i])) return false;
    return true;
}

}  // namespace

void RouteTable::HostRules::order() {
    if (prefixes.size() > 1)
        std::stable_sort(prefixes.begin(), prefixes.end(),
                         [](const PrefixRule& a, const PrefixRule& b) { return a.prefix.size() > b.prefix.size(); });
    if (regexes.size() > 1)
        std::stable_sort(regexes.begin(), regexes.end(),
                         [](const RegexRule& a, const RegexRule& b) { return a.length > b.length; });
}

std::expected<std::shared_ptr<const RouteTable>, std::string> RouteTable::build(const snapshot::Snapshot& snap,
                                                                                const RouteTable* previous) {
    auto routing = std::make_shared<Routing>();
    Routing& rt = *routing;
    // Host sets: the default one, then one per class named anywhere (classes
    // numbered in order of first mention, so the numbering is deterministic).
    rt.tables.emplace_back();
    auto table_of = [&](const std::string& ingress_class) -> HostSet& {
        if (ingress_class.empty()) return rt.tables[0];
        auto [it, added] = rt.class_tables.try_emplace(ingress_class, static_cast<std::uint32_t>(rt.tables.size()));
        if (added) rt.tables.emplace_back();
        return rt.tables[it->second];
    };
    // Sized once: rehashing 10,000-entry tables while filling them was a
    // visible part of a full build.
    std::size_t route_count = 0;
    for (const auto& vh : snap.virtual_hosts) route_count += vh.routes.size();
    rt.routes.reserve(route_count + 1 + snap.class_default_backends.size());
    std::size_t host_bytes = 0, name_bytes = 0;
    for (const auto& vh : snap.virtual_hosts) host_bytes += vh.host.size();
    for (const auto& b : snap.backends) name_bytes += b.name.size();
    rt.tables[0].host_index.reserve(snap.virtual_hosts.size(), host_bytes);
    rt.tables[0].host_rules.reserve(snap.virtual_hosts.size());
    rt.backend_index.reserve(snap.backends.size(), name_bytes);
    // Backend i of the snapshot is index i (the decoder rejected duplicate names).
    for (const auto& b : snap.backends) rt.backend_index.insert(b.name);
    if (rt.backend_index.size() != snap.backends.size()) return std::unexpected("duplicate backend names");
    rt.hashed_by_routes.assign(snap.backends.size(), false);
    auto lookup = [&](const std::string& name) -> std::expected<std::uint32_t, std::string> {
        const std::uint32_t at = rt.backend_index.find(name);
        if (at == NameIndex::npos) return std::unexpected("unknown backend \"" + name + "\"");
        return at;
    };
    // Host rules to sort once filled: (host set, index in its host_rules), or
    // the set's wildcard rules (map nodes: stable addresses).
    struct SortLater {
        std::uint32_t set;
        std::uint32_t exact_host;  // kNoRoute: `wildcard` instead
        HostRules* wildcard;
    };
    std::vector<SortLater> to_sort;
    std::string name_prefix;
    for (const auto& vh : snap.virtual_hosts) {
        HostSet& set = table_of(vh.ingress_class);
        char buf[256];
        std::string_view host = normalize_host(vh.host, buf, sizeof buf);
        HostRules* target = &set.any_host;
        SortLater later{static_cast<std::uint32_t>(&set - rt.tables.data()), kNoRoute, nullptr};
        if (host.starts_with("*.") && host.size() > 2) {
            target = later.wildcard = &set.wildcards[std::string(host.substr(1))];  // key ".example.com"
        } else if (!vh.host.empty()) {
            const auto [at, added] = set.host_index.insert(host);
            if (added) set.host_rules.emplace_back();
            target = &set.host_rules[at];  // valid until the next host of this set is added
            later.exact_host = at;
        }
        HostRules& rules = *target;
        // Route names ("host path"; "[class] host path" in a class table) label
        // metrics and logs; a class prefix keeps a host served by two classes apart.
        name_prefix.clear();  // one buffer for every host
        if (!vh.ingress_class.empty()) name_prefix.append("[").append(vh.ingress_class).append("] ");
        name_prefix += vh.host.empty() ? std::string_view("*") : std::string_view(vh.host);
        name_prefix.push_back(' ');
        for (const auto& r : vh.routes) {
            const auto index = static_cast<std::uint32_t>(rt.routes.size());
            RouteTarget& route = rt.routes.emplace_back();  // reserved: no reallocation
            route.name = rt.text.add(name_prefix, r.path);
            if (auto made = make_route(r, route); !made)
                return std::unexpected("route " + std::string(route.name) + ": " + made.error());
            if (!r.backend.empty()) {
                auto b = lookup(r.backend);
                if (!b) return std::unexpected("route " + std::string(route.name) + ": " + b.error());
                route.backend = *b;
                if (!route.hash_by.empty() || !route.affinity_cookie.empty()) rt.hashed_by_routes[*b] = true;
            } else if (!route.redirect_status) {
                return std::unexpected("route " + std::string(route.name) + ": no backend and no redirect");
            }
            // Only hosts with more than one prefix or regex need sorting;
            // walking all 10,000 hosts' nodes again afterwards was measurable.
            if (rules.prefixes.size() + rules.regexes.size() == 1 && target != &set.any_host) to_sort.push_back(later);
            if (r.regex) {
                auto re = PathRegex::compile(r.path);
                if (!re) return std::unexpected("route " + std::string(route.name) + ": " + re.error());
                rules.regexes.push_back({std::move(*re), r.path.size(), index});
            } else if (r.match == snapshot::PathMatch::Exact) {
                rules.exact.emplace(r.path, index);  // first rule for a path wins
            } else {
                std::string_view prefix = r.path;
                while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
                // The path is the end of the name: the prefix is a view of it.
                route.prefix = route.name.substr(route.name.size() - r.path.size(), prefix.size());
                rules.prefixes.push_back({route.prefix, index});
            }
        }
    }
    auto add_default = [&](HostSet& set, const std::string& backend, std::string name) -> std::expected<void, std::string> {
        auto b = lookup(backend);
        if (!b) return std::unexpected(name + ": " + b.error());
        RouteTarget def;
        def.backend = *b;
        def.name = rt.text.add(name);
        set.default_route = static_cast<std::uint32_t>(rt.routes.size());
        rt.routes.push_back(std::move(def));
        return {};
    };
    if (!snap.default_backend.empty())
        if (auto e = add_default(rt.tables[0], snap.default_backend, "default_backend"); !e) return std::unexpected(e.error());
    for (const auto& c : snap.class_default_backends)
        if (auto e = add_default(table_of(c.ingress_class), c.backend, "[" + c.ingress_class + "] default_backend"); !e)
            return std::unexpected(e.error());
    for (const auto& f : snap.frontends) {
        FrontendTarget target{f.protocol, kNoBackend, 0};
        if (f.protocol == snapshot::FrontendProtocol::Tcp) {
            auto b = lookup(f.backend);
            if (!b) return std::unexpected("frontend port " + std::to_string(f.port) + ": " + b.error());
            target.backend = *b;
        } else if (!f.ingress_class.empty()) {
            // A class whose listeners serve no host yet still gets its own
            // (empty) table: its requests must not fall into the default one.
            HostSet& set = table_of(f.ingress_class);
            target.table = static_cast<std::uint32_t>(&set - rt.tables.data());
        }
        EndpointAddress where;  // reuse the endpoint parser for the address
        if (!f.address.empty()) {
            if (auto a = resolve(snapshot::Endpoint{f.address, f.port}, where); !a)
                return std::unexpected("frontend: " + a.error());
        } else {
            auto* v4 = reinterpret_cast<sockaddr_in*>(&where.addr);
            v4->sin_family = AF_INET;
            v4->sin_port = htons(f.port);
        }
        char key[18];
        std::size_t n = frontend_key(reinterpret_cast<const sockaddr*>(&where.addr), !f.address.empty(), key);
        rt.frontends.emplace(std::string(key, n), target);
    }
    for (HostSet& set : rt.tables) set.any_host.order();
    for (const SortLater& l : to_sort)
        (l.wildcard ? *l.wildcard : rt.tables[l.set].host_rules[l.exact_host]).order();
    auto table = std::make_shared<RouteTable>();
    table->version_ = snap.version;
    table->backends_.reserve(snap.backends.size());
    for (std::size_t i = 0; i < snap.backends.size(); ++i) {
        const snapshot::Backend& sb = snap.backends[i];
        const bool hashed = rt.hashed_by_routes[i] || sb.affinity == snapshot::Affinity::ClientIp;
        if (previous) {
            const std::uint32_t old = previous->find_backend(sb.name);
            if (old != kNoBackend && unchanged(*previous->backends_[old], sb, hashed)) {
                table->backends_.push_back(previous->backends_[old]);
                continue;
            }
        }
        auto b = make_backend(sb, rt.hashed_by_routes[i]);
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
        const std::uint32_t at = routing_->backend_index.find(b.name);
        if (at == NameIndex::npos) return std::unexpected("patch names unknown backend \"" + b.name + "\"");
        auto built = make_backend(b, routing_->hashed_by_routes[at]);
        if (!built) return std::unexpected(built.error());
        table->backends_[at] = std::move(*built);
    }
    return std::shared_ptr<const RouteTable>(std::move(table));
}

// --- Builder: the same table as build(), filled from views -----------------

struct RouteTable::Builder::State {
    std::shared_ptr<Routing> routing = std::make_shared<Routing>();
    std::vector<std::shared_ptr<BackendTarget>> backends;
    std::uint64_t version = 0;
    // The host whose routes are being added (begin_host).
    HostRules* rules = nullptr;
    bool any_host = false;
    struct SortLater {
        std::uint32_t set;
        std::uint32_t exact_host;  // kNoRoute: `wildcard` instead
        HostRules* wildcard;
    };
    SortLater later{};
    std::vector<SortLater> to_sort;
    std::string name_prefix;

    HostSet& table_of(std::string_view ingress_class) {
        Routing& rt = *routing;
        if (ingress_class.empty()) return rt.tables[0];
        if (auto it = rt.class_tables.find(ingress_class); it != rt.class_tables.end()) return rt.tables[it->second];
        const auto at = static_cast<std::uint32_t>(rt.tables.size());
        rt.class_tables.emplace(std::string(ingress_class), at);
        rt.tables.emplace_back();
        rules = nullptr;  // the sets may have moved
        return rt.tables[at];
    }
};

RouteTable::Builder::Builder() : s_(std::make_unique<State>()) { s_->routing->tables.emplace_back(); }
RouteTable::Builder::~Builder() = default;

void RouteTable::Builder::set_version(std::uint64_t version) { s_->version = version; }

void RouteTable::Builder::reserve(std::size_t hosts, std::size_t routes, std::size_t backends) {
    Routing& rt = *s_->routing;
    rt.routes.reserve(routes);
    rt.tables[0].host_index.reserve(hosts);
    rt.tables[0].host_rules.reserve(hosts);
    rt.backend_index.reserve(backends);
    rt.hashed_by_routes.reserve(backends);
    s_->backends.reserve(backends);
}

BackendTarget* RouteTable::Builder::add_backend(std::string_view name, snapshot::Affinity affinity,
                                                std::size_t endpoints) {
    Routing& rt = *s_->routing;
    if (!rt.backend_index.insert(name).second) return nullptr;
    rt.hashed_by_routes.push_back(false);
    auto t = std::make_shared<BackendTarget>();
    t->name.assign(name);
    t->affinity = affinity;
    t->endpoints.reserve(endpoints);
    s_->backends.push_back(std::move(t));
    return s_->backends.back().get();
}

bool RouteTable::Builder::add_endpoint(BackendTarget& backend, std::string_view address, std::uint16_t port) {
    if (resolve_view(address, port, backend.endpoints.emplace_back())) return true;
    backend.endpoints.pop_back();
    return false;
}

std::uint32_t RouteTable::Builder::find_backend(std::string_view name) const {
    const std::uint32_t at = s_->routing->backend_index.find(name);
    return at == NameIndex::npos ? kNoBackend : at;
}

RouteTable::Builder::HostState RouteTable::Builder::begin_host(std::string_view ingress_class,
                                                                 std::string_view host_name) {
    State& st = *s_;
    Routing& rt = *st.routing;
    HostSet& set = st.table_of(ingress_class);
    char buf[256];
    std::string_view host = normalize_host(host_name, buf, sizeof buf);
    st.rules = &set.any_host;
    st.any_host = true;
    st.later = {static_cast<std::uint32_t>(&set - rt.tables.data()), kNoRoute, nullptr};
    HostState state = kUnknown;
    if (host.starts_with("*.") && host.size() > 2) {
        st.rules = st.later.wildcard = &set.wildcards[std::string(host.substr(1))];  // key ".example.com"
        st.any_host = false;
    } else if (!host_name.empty()) {
        const auto [at, added] = set.host_index.insert(host);
        if (added) set.host_rules.emplace_back();
        st.rules = &set.host_rules[at];  // valid until the next host of this set is added
        st.later.exact_host = at;
        st.any_host = false;
        // Normalising changed nothing (same length: no port was cut, and
        // the codec lower-cased already): the set's key is the host itself.
        if (host.size() == host_name.size()) state = added ? kNewHost : kKnownHost;
    }
    st.name_prefix.clear();
    if (!ingress_class.empty()) st.name_prefix.append("[").append(ingress_class).append("] ");
    st.name_prefix += host_name.empty() ? std::string_view("*") : host_name;
    st.name_prefix.push_back(' ');
    return state;
}

std::expected<void, std::string> RouteTable::Builder::add_route(std::string_view path, bool exact, bool regex,
                                                                std::uint32_t backend,
                                                                const snapshot::Route* policy) {
    State& st = *s_;
    Routing& rt = *st.routing;
    HostRules& rules = *st.rules;
    const auto index = static_cast<std::uint32_t>(rt.routes.size());
    RouteTarget& route = rt.routes.emplace_back();
    route.name = rt.text.add(st.name_prefix, path);
    if (policy) {
        if (auto made = make_route(*policy, route); !made)
            return std::unexpected("route " + std::string(route.name) + ": " + made.error());
    }
    route.regex = regex;
    route.exact = exact;
    if (backend != kNoBackend) {
        route.backend = backend;
        if (!route.hash_by.empty() || !route.affinity_cookie.empty()) rt.hashed_by_routes[backend] = true;
    } else if (!route.redirect_status) {
        return std::unexpected("route " + std::string(route.name) + ": no backend and no redirect");
    }
    if (rules.prefixes.size() + rules.regexes.size() == 1 && !st.any_host) st.to_sort.push_back(st.later);
    if (regex) {
        auto re = PathRegex::compile(path);
        if (!re) return std::unexpected("route " + std::string(route.name) + ": " + re.error());
        rules.regexes.push_back({std::move(*re), path.size(), index});
    } else if (exact) {
        rules.exact.emplace(path, index);  // first rule for a path wins
    } else {
        std::string_view prefix = path;
        while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
        route.prefix = route.name.substr(route.name.size() - path.size(), prefix.size());
        rules.prefixes.push_back({route.prefix, index});
    }
    return {};
}

void RouteTable::Builder::add_default(std::string_view ingress_class, std::uint32_t backend) {
    State& st = *s_;
    Routing& rt = *st.routing;
    HostSet& set = st.table_of(ingress_class);
    RouteTarget def;
    def.backend = backend;
    def.name = ingress_class.empty() ? rt.text.add("default_backend")
                                     : rt.text.add("[" + std::string(ingress_class) + "] ", "default_backend");
    set.default_route = static_cast<std::uint32_t>(rt.routes.size());
    rt.routes.push_back(std::move(def));
}

void RouteTable::Builder::add_frontend(std::string_view address, std::uint16_t port,
                                       snapshot::FrontendProtocol protocol, std::uint32_t backend,
                                       std::string_view ingress_class) {
    State& st = *s_;
    Routing& rt = *st.routing;
    FrontendTarget target{protocol, kNoBackend, 0};
    if (protocol == snapshot::FrontendProtocol::Tcp) {
        target.backend = backend;
    } else if (!ingress_class.empty()) {
        HostSet& set = st.table_of(ingress_class);
        target.table = static_cast<std::uint32_t>(&set - rt.tables.data());
    }
    EndpointAddress where;
    if (address.empty() || !resolve_view(address, port, where)) {
        where = EndpointAddress{};
        auto* v4 = reinterpret_cast<sockaddr_in*>(&where.addr);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
    }
    char key[18];
    std::size_t n = frontend_key(reinterpret_cast<const sockaddr*>(&where.addr), !address.empty(), key);
    rt.frontends.emplace(std::string(key, n), target);
}

std::shared_ptr<const RouteTable> RouteTable::Builder::finish(const RouteTable* previous) {
    State& st = *s_;
    Routing& rt = *st.routing;
    for (HostSet& set : rt.tables) set.any_host.order();
    for (const State::SortLater& l : st.to_sort)
        (l.wildcard ? *l.wildcard : rt.tables[l.set].host_rules[l.exact_host]).order();
    auto table = std::make_shared<RouteTable>();
    table->version_ = st.version;
    table->backends_.reserve(st.backends.size());
    for (std::size_t i = 0; i < st.backends.size(); ++i) {
        BackendTarget& b = *st.backends[i];
        const bool hashed = rt.hashed_by_routes[i] || b.affinity == snapshot::Affinity::ClientIp;
        if (previous) {
            const std::uint32_t old = previous->find_backend(b.name);
            if (old != kNoBackend) {
                const BackendTarget& o = *previous->backends_[old];
                bool same = o.affinity == b.affinity && o.hashed == hashed && o.endpoints.size() == b.endpoints.size();
                for (std::size_t e = 0; same && e < b.endpoints.size(); ++e)
                    same = o.endpoints[e].text == b.endpoints[e].text;
                if (same) {
                    table->backends_.push_back(previous->backends_[old]);
                    continue;
                }
            }
        }
        if (hashed) build_hashing(b);
        table->backends_.push_back(std::move(st.backends[i]));
    }
    table->routing_ = std::move(st.routing);
    return table;
}

}  // namespace xgress::router

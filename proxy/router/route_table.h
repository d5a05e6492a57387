// The routing tree a worker consults for every request, built once from a
// snapshot (snapshot.h) off the data path and then shared read-only by all
// workers (a new snapshot builds a new table; workers swap their pointer).
//
// Matching: the request's Host (lower-cased, port stripped) is looked up by
// exact hash; its rules are tried first, then those of a wildcard host
// ("*.example.com" matches exactly one extra label: "a.example.com", never
// "example.com" or "a.b.example.com"), then the host-less ("") rules, then
// default_backend; nothing left means 404. A host that matches but has no rule
// for the path falls through to the next level in that order.
//
// Within one host, the nginx location order that ingress-nginx relies on:
//   1. an Exact path (`location = /p`);
//   2. regex routes (`location ~* ^pattern`: case-insensitive, anchored at the
//      path start), tried longest pattern first (ingress-nginx sorts a
//      server's locations by path length, longest first; ties keep snapshot
//      order); the first that matches wins;
//   3. the longest Prefix. Prefixes match whole path elements: "/foo" matches
//      "/foo", "/foo/" and "/foo/bar", never "/foobar".
//
// Per-class tables: hosts of a snapshot VirtualHost with an ingress_class
// (and that class's default backend) form a host set of their own, numbered
// from 1; table 0 is the default one. A connection's frontend names the
// table its requests route with (FrontendTarget::table); connections that
// match no frontend use table 0. The same host can route differently on two
// listeners this way.
//
// A match names a RouteTarget (the route with its policy: source allow list,
// redirects, rewrite, timeouts, body limit, hashing) and through it a
// BackendTarget. Backends are held by shared pointer so that an
// EndpointsPatch builds a new table that shares every route and every
// unchanged backend with the old one (with_endpoints): cost proportional to
// the patched backends, plus one pointer copy per backend.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "router/cidr.h"
#include "router/consistent_hash.h"
#include "router/key_template.h"
#include "router/name_index.h"
#include "router/path_regex.h"
#include "router/route_policy.h"
#include "router/text_arena.h"
#include "tls/upstream_tls.h"
#include "xgress/snapshot.h"

namespace xgress::router {

// An upstream address ready for connect(2).
struct EndpointAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;  // "10.0.0.1:8080", for logs and the idle-pool key
    std::uint64_t id = 0;  // stable hash of `text`: affinity cookie value and hash-ring identity
};

struct BackendTarget {
    std::string name;
    std::vector<EndpointAddress> endpoints;  // empty: 503
    RoutePolicy policy;                       // backend-level overrides (zero = worker default)
    snapshot::Affinity affinity = snapshot::Affinity::None;
    // Built only when something hashes onto this backend (client_ip affinity,
    // a route's hash_by or affinity_cookie); else empty.
    MaglevTable ring;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> by_id;  // sorted (id, endpoint index)
    bool hashed = false;  // `ring` and `by_id` were built
    // The endpoint whose id is `id`, or UINT32_MAX.
    std::uint32_t find_id(std::uint64_t id) const;
};

inline constexpr std::uint32_t kNoBackend = UINT32_MAX;
inline constexpr std::uint32_t kNoRoute = UINT32_MAX;

// One route of the snapshot, ready to apply (snapshot::Route).
struct RouteTarget {
    std::uint32_t backend = kNoBackend;  // kNoBackend: answers itself (redirect) or 404
    // "host path", for logs, errors and metrics labels; the text lives in the
    // table's routes (routing_owner()), as does `prefix`.
    std::string_view name;
    RoutePolicy policy;                  // timeouts / body limit overrides
    CidrSet allowed_sources;             // empty: everyone
    bool ssl_redirect = false;
    std::uint16_t redirect_status = 0;
    std::string redirect_url;
    std::string app_root;
    bool regex = false;
    bool exact = false;
    std::string_view prefix;     // Prefix routes: the matched prefix (no trailing '/', except "/")
    std::string rewrite_target;  // "" = no rewrite
    KeyTemplate hash_by;
    std::string affinity_cookie;
    // backend_protocol Https: how to speak TLS to the endpoints; null = plain HTTP.
    std::shared_ptr<const tls::UpstreamTls> upstream_tls;
    // Nothing to do before proxying but pick an endpoint: the fast path.
    bool plain = true;
};

// What a connection speaks, decided by the address it dialled (snapshot.h
// `frontends`): HTTP through the routing rules, or bytes relayed to a backend.
struct FrontendTarget {
    snapshot::FrontendProtocol protocol = snapshot::FrontendProtocol::Http;
    std::uint32_t backend = kNoBackend;  // Tcp only
    std::uint32_t table = 0;             // Http/Https: the host set requests route with (0 = default)
};

class RouteTable {
public:
    // `previous` (the serving table, may be null): backends whose name,
    // affinity and endpoints are unchanged are shared with it instead of
    // being built again, so workers keep their picker state for them and a
    // snapshot that changes a few Services costs little more than its routes.
    static std::expected<std::shared_ptr<const RouteTable>, std::string> build(const snapshot::Snapshot& snap,
                                                                               const RouteTable* previous = nullptr);

    // Fills a table piece by piece, from views (no snapshot::* objects): the
    // proxy's snapshot decoder (control/table_decoder.h) writes each backend,
    // endpoint, host and route straight into the table's storage as it reads
    // them. The caller has validated what the codec validates (names unique,
    // references known, addresses and ports good); build() keeps its own
    // path. Not thread-safe; one table per Builder.
    class Builder;

    // A table at patch.version with the listed backends' endpoints replaced;
    // routes and the other backends are shared with this one. Errors: version
    // mismatch, unknown backend, bad address.
    std::expected<std::shared_ptr<const RouteTable>, std::string> with_endpoints(
        const snapshot::EndpointsPatch& patch) const;

    // Index of the matching route (target()), or kNoRoute (404). `host` as
    // received (any case, optional port); `path` without query. `caps`
    // receives a regex route's groups.
    // `table`: the host set (FrontendTarget::table; 0 = default; out of range = 0).
    std::uint32_t match(std::uint32_t table, std::string_view host, std::string_view path, MatchScratch& scratch,
                        Captures* caps) const;
    std::uint32_t match(std::string_view host, std::string_view path, MatchScratch& scratch, Captures* caps) const {
        return match(0, host, path, scratch, caps);
    }
    const RouteTarget& target(std::uint32_t route) const { return routing_->routes[route]; }
    // Routes are indexed 0 .. route_count()-1, stable for one routing_identity().
    std::size_t route_count() const { return routing_->routes.size(); }

    // The backend named `name` (snapshot Backend::name), or kNoBackend: one hash lookup.
    std::uint32_t find_backend(std::string_view name) const;
    // Backend b's name, kept by the routes (routing_owner()): valid as long
    // as they are, across endpoint patches (which keep names and indices).
    std::string_view backend_name(std::uint32_t b) const { return routing_->backend_index.name(b); }

    // Backend index, or kNoBackend: match() then target().backend (tests, tools).
    std::uint32_t route(std::string_view host, std::string_view path) const { return route(0, host, path); }
    std::uint32_t route(std::uint32_t table, std::string_view host, std::string_view path) const;
    // Host sets: 1 + the number of classes with a table; the index of a class's, or 0.
    std::size_t table_count() const { return routing_->tables.size(); }
    std::uint32_t class_table(std::string_view ingress_class) const;
    // The table requests on a connection with this local address route with.
    std::uint32_t table_for(const sockaddr* local) const {
        const FrontendTarget* f = frontend(local);
        return f ? f->table : 0;
    }

    // The frontend for a connection's local address (getsockname): the exact
    // address first, then any address on that port. nullptr: no frontend
    // (serve HTTP). A v4-mapped v6 address counts as the v4 one.
    const FrontendTarget* frontend(const sockaddr* local) const;
    bool has_frontends() const { return !routing_->frontends.empty(); }

    // Indexable like a vector of BackendTarget.
    class BackendView {
    public:
        explicit BackendView(const std::vector<std::shared_ptr<const BackendTarget>>& v) : v_(&v) {}
        const BackendTarget& operator[](std::size_t i) const { return *(*v_)[i]; }
        std::size_t size() const { return v_->size(); }

    private:
        const std::vector<std::shared_ptr<const BackendTarget>>* v_;
    };
    BackendView backends() const { return BackendView(backends_); }
    // Identity of a backend's current object: unchanged across a patch that
    // did not touch it (the picker keeps its health and counts then).
    const BackendTarget* backend_identity(std::uint32_t b) const { return backends_[b].get(); }
    std::uint64_t version() const { return version_; }
    // Identity of the routes: shared by a table and its patched successors.
    const void* routing_identity() const { return routing_.get(); }
    // Keeps the routes (and so every target(r).name) alive without the rest
    // of the table: endpoint patches share it, a new routing replaces it.
    std::shared_ptr<const void> routing_owner() const { return routing_; }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct PrefixRule {
        std::string_view prefix;  // without trailing '/', except the root "/"; in Routing::text
        std::uint32_t route;
    };
    struct RegexRule {
        PathRegex regex;
        std::size_t length;  // pattern length, for the order
        std::uint32_t route;
    };
    struct HostRules {
        std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> exact;
        std::vector<RegexRule> regexes;    // longest pattern first
        std::vector<PrefixRule> prefixes;  // longest first
        std::uint32_t match(std::string_view path, MatchScratch& scratch, Captures* caps) const;
        // Puts prefixes and regexes in match order (stable: equal lengths keep
        // the snapshot's order). Once, after the last rule is added.
        void order();
    };
    // One routing table: the default one or a class's.
    struct HostSet {
        NameIndex host_index;              // exact host -> its rules in host_rules
        std::vector<HostRules> host_rules;
        // "*.example.com" is stored under ".example.com" so a lookup is the request
        // host from its first '.' on: no allocation on the request path.
        std::unordered_map<std::string, HostRules, StringHash, std::equal_to<>> wildcards;
        HostRules any_host;
        std::uint32_t default_route = kNoRoute;
    };
    // Everything but the backends: shared between a table and its patched successors.
    struct Routing {
        std::vector<HostSet> tables;  // [0] = default; then one per class
        std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> class_tables;
        std::vector<RouteTarget> routes;
        // Key: port (2 bytes, network order) + address bytes (none for "any").
        std::unordered_map<std::string, FrontendTarget, StringHash, std::equal_to<>> frontends;
        NameIndex backend_index;  // backend name -> index (snapshot order)
        std::vector<bool> hashed_by_routes;  // per backend: a route hashes onto it
        TextArena text;                      // route names and prefixes (RouteTarget::name, prefix)
    };

    std::shared_ptr<const Routing> routing_;
    std::vector<std::shared_ptr<const BackendTarget>> backends_;
    std::uint64_t version_ = 0;
};

class RouteTable::Builder {
public:
    Builder();
    ~Builder();
    void set_version(std::uint64_t version);
    // Room for what is coming (counts of the document's arrays).
    void reserve(std::size_t hosts, std::size_t routes, std::size_t backends);

    // Backends are numbered in the order added. nullptr: the name is taken.
    BackendTarget* add_backend(std::string_view name, snapshot::Affinity affinity, std::size_t endpoints);
    // false: not an IPv4/IPv6 literal.
    bool add_endpoint(BackendTarget& backend, std::string_view address, std::uint16_t port);
    std::uint32_t find_backend(std::string_view name) const;  // kNoBackend when absent

    // Routes that follow belong to this host (lower-cased, as the codec
    // leaves it) in this class's host set ("" = the default set).
    // Returns kNewHost / kKnownHost for a plain exact host (no port, no
    // wildcard, not ""), whose key in the set is the host itself: whether the
    // set already had it. kUnknown otherwise (the caller checks uniqueness).
    enum HostState { kNewHost, kKnownHost, kUnknown };
    HostState begin_host(std::string_view ingress_class, std::string_view host);
    // `policy`: the route's schema-2 fields (path, match, backend ignored),
    // or nullptr for a route with none. Errors are build()'s ("route NAME: ...").
    std::expected<void, std::string> add_route(std::string_view path, bool exact, bool regex, std::uint32_t backend,
                                               const snapshot::Route* policy);
    void add_default(std::string_view ingress_class, std::uint32_t backend);
    // `address`: "" = any node address; else a literal the caller checked.
    void add_frontend(std::string_view address, std::uint16_t port, snapshot::FrontendProtocol protocol,
                      std::uint32_t backend, std::string_view ingress_class);

    // The table; backends unchanged from `previous` are shared with it, as in build().
    std::shared_ptr<const RouteTable> finish(const RouteTable* previous);

private:
    struct State;
    std::unique_ptr<State> s_;
};

// Lower-cases `host` and strips a port (also from "[v6]:port") into `out`;
// returns the normalised view, or empty when it does not fit.
std::string_view normalize_host(std::string_view host, char* out, std::size_t cap);

// The stable endpoint id used for cookies and the hash ring.
std::uint64_t endpoint_id(std::string_view text);

}  // namespace xgress::router

// The routing tree a worker consults for every request, built once from a
// snapshot (snapshot.h) off the data path and then shared read-only by all
// workers (a new snapshot builds a new table; workers swap their pointer).
//
// Matching: the request's Host (lower-cased, port stripped) is looked up by
// exact hash; its rules are tried first, then those of a wildcard host
// ("*.example.com" matches exactly one extra label: "a.example.com", never
// "example.com" or "a.b.example.com"), then the host-less ("") rules, then
// default_backend; nothing left means 404. A host that matches but has no rule
// for the path falls through to the next level in that order. Within one host an Exact path beats
// any Prefix, and the longest Prefix wins. Prefixes match whole path elements:
// "/foo" matches "/foo", "/foo/" and "/foo/bar", never "/foobar".
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

#include "router/route_policy.h"
#include "xgress/snapshot.h"

namespace xgress::router {

// An upstream address ready for connect(2).
struct EndpointAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;  // "10.0.0.1:8080", for logs
};

struct BackendTarget {
    std::string name;
    std::vector<EndpointAddress> endpoints;  // empty: 503
    RoutePolicy policy;                       // overrides of the worker defaults (zero = default)
};

inline constexpr std::uint32_t kNoBackend = UINT32_MAX;

// What a connection speaks, decided by the address it dialled (snapshot.h
// `frontends`): HTTP through the routing rules, or bytes relayed to a backend.
struct FrontendTarget {
    snapshot::FrontendProtocol protocol = snapshot::FrontendProtocol::Http;
    std::uint32_t backend = kNoBackend;  // Tcp only
};

class RouteTable {
public:
    static std::expected<std::shared_ptr<const RouteTable>, std::string> build(const snapshot::Snapshot& snap);

    // Index into backends(), or kNoBackend (answer 404). `host` as received
    // (any case, optional port); `path` without query.
    std::uint32_t route(std::string_view host, std::string_view path) const;

    // The frontend for a connection's local address (getsockname): the exact
    // address first, then any address on that port. nullptr: no frontend
    // (serve HTTP). A v4-mapped v6 address counts as the v4 one.
    const FrontendTarget* frontend(const sockaddr* local) const;
    bool has_frontends() const { return !frontends_.empty(); }

    const std::vector<BackendTarget>& backends() const { return backends_; }
    std::uint64_t version() const { return version_; }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct PrefixRule {
        std::string prefix;  // without trailing '/', except the root "/"
        std::uint32_t backend;
    };
    struct HostRules {
        std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> exact;
        std::vector<PrefixRule> prefixes;  // longest first
        std::uint32_t match(std::string_view path) const;
    };

    std::unordered_map<std::string, HostRules, StringHash, std::equal_to<>> hosts_;
    // "*.example.com" is stored under ".example.com" so a lookup is the request
    // host from its first '.' on: no allocation on the request path.
    std::unordered_map<std::string, HostRules, StringHash, std::equal_to<>> wildcards_;
    HostRules any_host_;
    std::uint32_t default_backend_ = kNoBackend;
    std::vector<BackendTarget> backends_;
    // Key: port (2 bytes, network order) + address bytes (none for "any").
    std::unordered_map<std::string, FrontendTarget, StringHash, std::equal_to<>> frontends_;
    std::uint64_t version_ = 0;
};

// Lower-cases `host` and strips a port (also from "[v6]:port") into `out`;
// returns the normalised view, or empty when it does not fit.
std::string_view normalize_host(std::string_view host, char* out, std::size_t cap);

}  // namespace xgress::router

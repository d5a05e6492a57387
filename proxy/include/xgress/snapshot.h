// The routing snapshot: everything xgress-proxy needs to route requests,
// produced by xgress-agent and sent over the control channel (control.h).
//
// The proxy owns this format; the agent includes this header and links the
// codec library (xgress_snapshot). On the wire a snapshot is a JSON document
// (schema below); it is decoded off the data path, validated whole, and only
// then swapped in, so a bad snapshot never replaces a good one.
//
// Wire schema (version 1):
// {
//   "version": 7,                                // agent's monotonically increasing number
//   "virtual_hosts": [
//     { "host": "shop.example.com",              // "" = rules without host (match any Host)
//       "routes": [ { "path": "/api", "match": "prefix" | "exact",
//                     "backend": "default/api:80" } ] } ],
//   "default_backend": "default/web:80",         // "" = none: unmatched requests get 404
//   "frontends": [                               // what each dialled address:port speaks
//     { "address": "",                           // "" = any node address (NodePort); else a VIP
//       "port": 30080, "protocol": "http" | "tcp",
//       "backend": "" } ],                       // "tcp": the backend bytes are relayed to
//                                                // (L4 passthrough); "http": "" (Ingress routing)
//   "backends": [
//     { "name": "default/api:80",                // namespace/service:servicePort
//       "endpoints": [ { "address": "10.244.1.2", "port": 8080 } ] } ]
// }
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::snapshot {

enum class PathMatch : std::uint8_t { Prefix, Exact };

struct Route {
    std::string path;      // always starts with '/'
    PathMatch match = PathMatch::Prefix;
    std::string backend;   // name of an entry in Snapshot::backends
    bool operator==(const Route&) const = default;
};

struct VirtualHost {
    std::string host;      // lower-case; "" matches any host
    std::vector<Route> routes;
    bool operator==(const VirtualHost&) const = default;
};

struct Endpoint {
    std::string address;   // IPv4 or IPv6 literal, no brackets
    std::uint16_t port = 0;
    bool operator==(const Endpoint&) const = default;
};

struct Backend {
    std::string name;
    std::vector<Endpoint> endpoints;  // empty: requests routed here get 503
    bool operator==(const Backend&) const = default;
};

// Every listener socket the agent steers connections to may carry several
// frontends; the proxy tells them apart by the address the client dialled
// (getsockname() on the accepted socket): exact address first, then "" (any
// node address) for the port. A connection matching no frontend is served as
// HTTP, so a proxy running from --snapshot-file without frontends still works.
enum class FrontendProtocol : std::uint8_t { Http, Tcp };

struct Frontend {
    std::string address;   // "" = any node address; else an IPv4/IPv6 literal
    std::uint16_t port = 0;
    FrontendProtocol protocol = FrontendProtocol::Http;
    std::string backend;   // Tcp: backend to relay to; Http: ""
    bool operator==(const Frontend&) const = default;
};

struct Snapshot {
    std::uint64_t version = 0;
    std::vector<VirtualHost> virtual_hosts;
    std::string default_backend;
    std::vector<Frontend> frontends;
    std::vector<Backend> backends;
    bool operator==(const Snapshot&) const = default;
};

// Serialises to the wire schema above.
std::string encode(const Snapshot& snapshot);

// Parses and validates (every route names an existing backend, paths start
// with '/', addresses parse, ports non-zero). The error names the offending
// field, e.g. "virtual_hosts[0].routes[2].backend: unknown backend \"x\"".
std::expected<Snapshot, std::string> decode(std::string_view json);

}  // namespace xgress::snapshot

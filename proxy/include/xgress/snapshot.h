// The routing snapshot: everything xgress-proxy needs to route requests,
// produced by xgress-agent and sent over the control channel (control.h).
//
// The proxy owns this format; the agent includes this header and links the
// codec library (xgress_snapshot). On the wire a snapshot is a JSON document
// (schema below); it is decoded off the data path, validated whole, and only
// then swapped in, so a bad snapshot never replaces a good one.
//
// Wire schema (version 2; every field added after version 1 is optional and
// omitted by encode() when it has its default, so version-1 documents decode
// unchanged):
// {
//   "version": 7,                                // agent's monotonically increasing number
//   "virtual_hosts": [
//     { "host": "shop.example.com",              // "" = rules without host (match any Host)
//       "ingress_class": "",                     // optional: the class table this host belongs
//                                                // to; omitted/"" = the default table (hosts
//                                                // are unique per (ingress_class, host))
//       "passthrough_backend": "",               // non-empty: TLS connections whose SNI is this
//                                                // host are relayed undecrypted to this backend
//       "routes": [ { "path": "/api", "match": "prefix" | "exact",
//                     "backend": "default/api:80",
//                     ...RoutePolicy fields, see struct Route below } ] } ],
//   "default_backend": "default/web:80",         // "" = none: unmatched requests get 404
//                                                // (the default table's)
//   "class_default_backends": [                  // optional, omitted when empty: a class
//     { "ingress_class": "internal",             // table's default backend (that class's
//       "backend": "default/internal-web:80" } ],// Ingress defaultBackend)
//   "frontends": [                               // what each dialled address:port speaks
//     { "address": "",                           // "" = any node address (NodePort); else a VIP
//       "port": 30080, "protocol": "http" | "https" | "tcp",
//       "ingress_class": "",                     // optional, http/https only: the class table
//                                                // requests on this frontend route with;
//                                                // omitted/"" = the default table
//       "backend": "" } ],                       // "tcp": the backend bytes are relayed to
//                                                // (L4 passthrough); "http"/"https": "" (Ingress
//                                                // routing; "https" terminates TLS first)
//   "backends": [
//     { "name": "default/api:80",                // namespace/service:servicePort
//       "affinity": "none" | "client_ip",        // Service sessionAffinity
//       "affinity_timeout_s": 10800,             // sessionAffinityConfig.clientIP.timeoutSeconds
//                                                // (client_ip only; omitted = 0 = not stated;
//                                                // added after schema 2, optional: the proxy
//                                                // may ignore it, see Backend)
//       "endpoints": [ { "address": "10.244.1.2", "port": 8080 } ] } ],
//   "certificates": [                            // from kubernetes.io/tls Secrets, PEM text
//     { "name": "default/shop-tls", "hosts": ["shop.example.com", "*.example.com"],
//       "cert_pem": "-----BEGIN CERTIFICATE-----...", "key_pem": "-----BEGIN ...",
//       "ocsp_staple": "MIIB..." } ],           // optional: base64 DER OCSP response
//   "default_certificate": ""                    // name of the certificate for SNI misses and
//                                                // clients without SNI; "" = the proxy's own
//                                                // self-signed one
// }
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::snapshot {

enum class PathMatch : std::uint8_t { Prefix, Exact };

// A redirect answered by the proxy itself instead of proxying
// (permanent-redirect / temporal-redirect annotations).
struct Redirect {
    std::string url;          // absolute URL or path, sent as Location unchanged
    std::uint16_t status = 0; // 301, 302, 307 or 308; 0 = no redirect
    bool operator==(const Redirect&) const = default;
};

enum class BackendProtocol : std::uint8_t { Http, Https };

struct Route {
    std::string path;      // always starts with '/'; a PCRE2 pattern when `regex`
    PathMatch match = PathMatch::Prefix;
    std::string backend;   // name of an entry in Snapshot::backends; "" only when the
                           // route always answers itself (redirect.status != 0)

    // Per-route policy (ingress annotations). Defaults mean "nothing special".
    // Evaluation order in the proxy: allowed_sources (403) → ssl_redirect (308,
    // plain HTTP only) → redirect → app_root → rewrite → proxy with the limits.
    bool regex = false;            // `path` is a regex matched case-insensitively, anchored at
                                   // the start of the request path (ingress-nginx use-regex)
    std::string rewrite_target;    // "" = path sent unchanged. Regex routes: the new path, with
                                   // $1..$9 replaced by the match's groups. Other routes: the
                                   // matched prefix is replaced (/api + "/" : /api/x -> /x).
                                   // The query string is kept either way.
    bool ssl_redirect = false;     // plain-HTTP requests get 308 to https://host/path
                                   // (the agent sets it for TLS hosts, or when forced)
    Redirect redirect;             // status != 0: answer this redirect for every request
    std::string app_root;          // "" = none; a request for exactly "/" gets 302 here
    std::vector<std::string> allowed_sources;  // CIDRs ("10.0.0.0/8", "2001:db8::/32");
                                               // empty = everyone; others get 403
    std::uint32_t connect_timeout_ms = 0;      // 0 = proxy default (flags)
    std::uint32_t read_timeout_ms = 0;
    std::uint32_t send_timeout_ms = 0;
    std::uint64_t max_body_bytes = 0;          // 0 = proxy default; larger bodies get 413
    std::string affinity_cookie;   // "" = none; else the cookie that pins a client to an
                                   // endpoint (set by the proxy when the client has none)
    std::string hash_by;           // "" = none; else a key template for consistent hashing
                                   // over endpoints, e.g. "$request_uri", "$remote_addr",
                                   // "$host$uri", "$http_x_user", "$cookie_sid", "$arg_id"
    BackendProtocol backend_protocol = BackendProtocol::Http;  // Https: TLS to the endpoints
    // Upstream TLS (backend_protocol Https only; nginx proxy_ssl_* annotations):
    std::string upstream_server_name;  // SNI and the name verified; "" = no SNI
    bool upstream_verify = false;      // verify the endpoint's certificate against upstream_ca_pem
    std::string upstream_ca_pem;       // trusted CAs, PEM (the proxy-ssl-secret's ca.crt); empty
                                       // with upstream_verify = trust nothing (fail closed: 502)
    bool operator==(const Route&) const = default;
};

struct VirtualHost {
    std::string host;      // lower-case; "" matches any host
    std::vector<Route> routes;
    std::string passthrough_backend;  // "" = none (see the schema above)
    // The routing table this host belongs to: "" = the default table (the
    // publish Service's frontends and every class without listeners of its
    // own); else the IngressClass whose own listeners serve it. A host name
    // may appear once per class.
    std::string ingress_class;
    bool operator==(const VirtualHost&) const = default;
};

struct Endpoint {
    std::string address;   // IPv4 or IPv6 literal, no brackets
    std::uint16_t port = 0;
    bool operator==(const Endpoint&) const = default;
};

enum class Affinity : std::uint8_t { None, ClientIp };

struct Backend {
    std::string name;
    std::vector<Endpoint> endpoints;  // empty: requests routed here get 503
    Affinity affinity = Affinity::None;  // ClientIp: consistent hashing on the client address
    // ClientIp only: how long Kubernetes would keep a client on its endpoint
    // (seconds; 0 = not stated). The proxy's consistent hashing keeps a client
    // on its endpoint for as long as that endpoint exists, so it need not act
    // on this; it is carried so that a proxy with per-client state can expire
    // it, and so the applied configuration shows what the Service asked for.
    std::uint32_t affinity_timeout_s = 0;
    bool operator==(const Backend&) const = default;
};

// Every listener socket the agent steers connections to may carry several
// frontends; the proxy tells them apart by the address the client dialled
// (getsockname() on the accepted socket): exact address first, then "" (any
// node address) for the port. A connection matching no frontend is served as
// HTTP, so a proxy running from --snapshot-file without frontends still works.
enum class FrontendProtocol : std::uint8_t { Http, Tcp, Https };

struct Frontend {
    std::string address;   // "" = any node address; else an IPv4/IPv6 literal
    std::uint16_t port = 0;
    FrontendProtocol protocol = FrontendProtocol::Http;
    std::string backend;   // Tcp: backend to relay to; Http/Https: ""
    std::string ingress_class;  // Http/Https: the class table its requests route with
                                // ("" = the default table); Tcp: ""
    bool operator==(const Frontend&) const = default;
};

// A certificate and its key, PEM text as found in a kubernetes.io/tls Secret
// (the agent has checked that they parse and match; the proxy checks again
// and NACKs the snapshot naming the certificate when they do not).
struct Certificate {
    std::string name;                // "namespace/secret"
    std::vector<std::string> hosts;  // SNI names, lower-case, "*.example.com" allowed
    std::string cert_pem;            // leaf first, then the chain
    std::string key_pem;
    std::string ocsp_staple;         // "" = none; else the DER OCSP response, base64 (the
                                     // Secret's tls.ocsp-staple); stapled when it matches
    bool operator==(const Certificate&) const = default;
};

// The default backend of one class table (the class's Ingress defaultBackend).
struct ClassDefaultBackend {
    std::string ingress_class;  // non-empty
    std::string backend;        // a Backend::name
    bool operator==(const ClassDefaultBackend&) const = default;
};

struct Snapshot {
    std::uint64_t version = 0;
    std::vector<VirtualHost> virtual_hosts;
    std::string default_backend;  // the default table's
    std::vector<ClassDefaultBackend> class_default_backends;  // one per class at most
    std::vector<Frontend> frontends;
    std::vector<Backend> backends;
    std::vector<Certificate> certificates;
    std::string default_certificate;  // a Certificate::name, or "" (see the schema)
    bool operator==(const Snapshot&) const = default;
};

// A small update sent instead of a whole snapshot when only endpoints of
// existing backends changed (the common case: pods scaling or rolling), so
// one EndpointSlice change costs the size of that Service, not of the
// cluster. Wire (control.h MessageType::EndpointsPatch, payload JSON):
//   { "base_version": 6, "version": 7,
//     "backends": [ { "name": "default/api:80", "affinity": "none",
//                     "endpoints": [ { "address": "10.244.1.2", "port": 8080 } ] } ] }
// Each listed backend replaces the one of the same name. A proxy whose serving
// version is not base_version, or that does not know a name, NACKs; the
// agent then sends a full snapshot.
struct EndpointsPatch {
    std::uint64_t base_version = 0;
    std::uint64_t version = 0;
    std::vector<Backend> backends;
    bool operator==(const EndpointsPatch&) const = default;
};

// Serialises to the wire schema above.
std::string encode(const Snapshot& snapshot);

// Parses and validates (every route names an existing backend, paths start
// with '/', hosts unique per class, class default backends unique per class, addresses parse, ports non-zero, CIDRs parse, redirect statuses
// are 301/302/307/308, certificate names are unique and default_certificate
// names one). Regex syntax and PEM contents are checked by the proxy when it
// builds its tables, not here (the agent links this codec without PCRE2 or
// OpenSSL). The error names the offending
// field, e.g. "virtual_hosts[0].routes[2].backend: unknown backend \"x\"".
std::expected<Snapshot, std::string> decode(std::string_view json);

std::string encode_patch(const EndpointsPatch& patch);
std::expected<EndpointsPatch, std::string> decode_patch(std::string_view json);

// Applies `patch` to `snapshot` (which must be at patch.base_version): the
// result has patch.version and the patched backends. Errors name the problem
// (version mismatch, unknown backend); `snapshot` is untouched on error.
std::expected<Snapshot, std::string> apply_patch(const Snapshot& snapshot, const EndpointsPatch& patch);

// The same without copying the whole snapshot: `snapshot` is changed only
// when every check passed. For holders that keep one mutable copy (the
// proxy's /config view, test doubles); cost proportional to the patch plus a
// scan of the backend names.
std::expected<void, std::string> apply_patch_in_place(Snapshot& snapshot, const EndpointsPatch& patch);

}  // namespace xgress::snapshot

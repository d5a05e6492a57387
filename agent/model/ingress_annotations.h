// Reads the per-Ingress annotations xgress understands, under both
// `xgress.io/` and `nginx.ingress.kubernetes.io/` (same meaning, so users of
// ingress-nginx move over without rewriting manifests; xgress.io/ wins when
// both are set). Values are validated here, in the model, so a bad value is
// reported naming the Ingress and the annotation and the rest still serves.
//
// The model turns the result into the per-route fields of the snapshot
// (snapshot::Route, schema 2) and VirtualHost::passthrough_backend; the proxy
// enforces them (see agent/annotations.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/dataplane.h"
#include "k8s/objects.h"

namespace xgress::agent::model {

enum class BackendProtocol : std::uint8_t { Http, Https };

struct Redirect {
    std::string url;
    std::uint16_t status = 302;  // permanent-redirect: 301 (or -code: 301, 302, 307, 308),
                                 // temporal-redirect: 302
    bool operator==(const Redirect&) const = default;
};

struct RouteOptions {
    std::string rewrite_target;          // "" = path sent unchanged
    bool use_regex = false;              // rewrite_target may use $1..$9
    bool ssl_redirect = true;            // redirect HTTP to HTTPS when the host has TLS (default on,
                                         // as in ingress-nginx)
    bool force_ssl_redirect = false;     // ...even without TLS on the host
    BackendProtocol backend_protocol = BackendProtocol::Http;
    // Upstream TLS (backend-protocol HTTPS), nginx proxy_ssl_* names:
    std::string proxy_ssl_name;          // SNI / verified name; "" = the Service's DNS name
    bool proxy_ssl_verify = false;       // "on": verify the endpoint's certificate
    std::string proxy_ssl_secret;        // "namespace/name" of a Secret with ca.crt; "" = none
    std::optional<std::uint64_t> max_body_bytes;       // 0 = unlimited
    std::optional<std::uint64_t> connect_timeout_ms;
    std::optional<std::uint64_t> read_timeout_ms;
    std::optional<std::uint64_t> send_timeout_ms;
    std::string affinity_cookie;         // "" = no cookie affinity; else the cookie name
    std::vector<dataplane::IpPrefix> allowed_sources;  // empty = everyone
    std::string upstream_hash_by;        // e.g. "$request_uri"
    std::optional<Redirect> redirect;
    std::string app_root;                // "/" redirects here
    bool ssl_passthrough = false;        // TLS for the rules' hosts relayed undecrypted (no routing)
    bool operator==(const RouteOptions&) const = default;
};

// Parses `ingress`'s annotations; problems name the Ingress and the key.
RouteOptions parse_route_options(const k8s::Ingress& ingress, std::vector<std::string>& problems);

// "10.0.0.0/8", "2001:db8::/32", a bare address (= /32 or /128).
std::optional<dataplane::IpPrefix> parse_ip_prefix(const std::string& text);

}  // namespace xgress::agent::model

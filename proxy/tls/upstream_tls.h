// How the proxy speaks TLS to the endpoints of a route with
// `backend-protocol: HTTPS`: one client SSL_CTX per distinct setting (server
// name, verification, trusted CAs), built off the data path when a routing
// table is built and shared read-only by every worker.
//
// Policy: TLS 1.2 and 1.3 only, OpenSSL's default client suites, ALPN
// http/1.1, SNI = server_name (nothing when empty or an IP literal).
// Verification is off unless asked for: then the peer's chain must lead to
// one of the CAs given (the route's proxy-ssl-secret ca.crt) and its
// certificate must name server_name (DNS SAN, or IP SAN for a literal).
// Without verification the connection is encrypted but the upstream is not
// authenticated (what nginx's proxy_ssl_verify off does too).
//
// Client sessions are offered to a TlsClientSession through the new-session
// callback (OpenSSL's own cache is off: it would be a lock shared by the
// workers); the worker keeps one per endpoint to resume later connections.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "tls/server_context.h"

namespace xgress::tls {

struct UpstreamTlsConfig {
    std::string server_name;  // SNI and, when verifying, the name checked in the certificate
    bool verify = false;
    std::string ca_pem;       // trusted CAs (PEM, one or more); empty with verify: trust
                              // nothing, every handshake fails (the agent's fail-closed case)
};

class UpstreamTls {
public:
    // The context for `config`; equal configs get the same object while one
    // is alive (many routes to HTTPS backends usually share a setting).
    // Error: CA PEM that does not parse (the agent checked it; NACK).
    static std::expected<std::shared_ptr<const UpstreamTls>, std::string> get(const UpstreamTlsConfig& config);

    // A client-side SSL for a new upstream connection: SNI and the name to
    // verify already set. Caller owns it.
    SSL* new_connection() const;

    const std::string& server_name() const { return config_.server_name; }
    bool verify() const { return config_.verify; }
    // Appended to the endpoint text for the idle-pool and session-cache key:
    // a pooled connection is only reused for the same TLS setting (and never
    // for plain HTTP). Unique per context object.
    const std::string& pool_tag() const { return pool_tag_; }

private:
    UpstreamTls() = default;
    static int on_new_session(SSL* ssl, SSL_SESSION* session);

    UpstreamTlsConfig config_;
    SslCtxPtr ctx_;
    std::string pool_tag_;
    bool name_is_ip_ = false;
};

}  // namespace xgress::tls

// The OpenSSL side of TLS termination, independent of sockets: one SSL_CTX per
// certificate with the same policy (TLS 1.2 and 1.3 only, forward-secret
// AEAD suites, no renegotiation, ALPN), an SNI callback that switches a new
// connection to the certificate the CertificateStore selects, and session
// tickets from a TicketKeyRing shared by all workers.
//
// Built per snapshot off the data path and shared read-only by the workers;
// an existing connection keeps the context it started with (it holds a
// reference through its SSL object), so certificate rotation never disturbs
// it. The callbacks point back at this object: a connection must hold the
// shared_ptr<const ServerContext> it was created from for as long as its SSL. The io layer feeds bytes through memory BIOs (or kTLS after the
// handshake); nothing here blocks.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls/certificate_store.h"
#include "tls/ticket_keys.h"

namespace xgress::tls {

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

struct ServerPolicy {
    std::vector<std::string> alpn = {"http/1.1"};  // server preference order
    bool session_tickets = true;
    // TLS 1.3 tickets sent after each full handshake (OpenSSL's default is 2).
    // Ours are stateless, so one ticket can resume any number of connections.
    std::size_t tls13_tickets = 1;
};

class ServerContext {
public:
    // `staples`: DER OCSP responses to staple, per certificate of the store
    // (already checked, tls/ocsp_staple.h); served to clients that ask (status_request).
    static std::expected<std::shared_ptr<const ServerContext>, std::string> create(
        std::shared_ptr<const CertificateStore> store, std::shared_ptr<TicketKeyRing> tickets,
        ServerPolicy policy = {}, std::unordered_map<const Certificate*, std::string> staples = {});

    // A server-side SSL for a new connection (starts on the fallback
    // certificate; the SNI callback switches it). Caller owns it.
    SSL* new_connection() const;

    const CertificateStore& store() const { return *store_; }

private:
    ServerContext() = default;
    static int on_server_name(SSL* ssl, int* alert, void* arg);
    static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                       unsigned int inlen, void* arg);
    static int on_status(SSL* ssl, void* arg);
    static int on_ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                             EVP_MAC_CTX* hmac, int encrypt);
    std::expected<SslCtxPtr, std::string> make_ctx(const Certificate& cert);

    std::shared_ptr<const CertificateStore> store_;
    std::shared_ptr<TicketKeyRing> tickets_;
    ServerPolicy policy_;
    std::string alpn_wire_;  // policy_.alpn in ALPN wire format
    std::unordered_map<const Certificate*, SslCtxPtr> contexts_;
    std::unordered_map<const Certificate*, std::string> staples_;  // node-based: callbacks hold pointers
    SSL_CTX* fallback_ctx_ = nullptr;
};

}  // namespace xgress::tls

// One client-side TLS connection to an upstream, driven by bytes like the
// server-side TlsSession: start() queues the ClientHello in outbound(),
// receive() takes ciphertext from the upstream and appends plaintext, send()
// encrypts plaintext into outbound(). OpenSSL never touches the socket.
//
// Resumption: start() may be given a session from an earlier connection to
// the same endpoint (the worker's per-endpoint cache); sessions the server
// issues on this connection (TLS 1.2 at the handshake, TLS 1.3 tickets
// afterwards) are collected and handed out once by take_session().
//
// Pooled per worker; reset() keeps the buffers' capacity.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tls/string_bio.h"
#include "tls/upstream_tls.h"

namespace xgress::tls {

class TlsClientSession {
public:
    enum class Status : std::uint8_t {
        Ok,      // progress made (or more input needed)
        Closed,  // the upstream sent close_notify: end of its output
        Error,   // handshake or verification failure, bad record: close
    };

    TlsClientSession() = default;
    TlsClientSession(const TlsClientSession&) = delete;
    TlsClientSession& operator=(const TlsClientSession&) = delete;
    ~TlsClientSession();

    // Begins a handshake; the ClientHello is in outbound() on success.
    // `resume` (may be null) is not consumed: the caller keeps its reference.
    bool start(std::shared_ptr<const UpstreamTls> context, SSL_SESSION* resume);

    // Ciphertext from the upstream; decrypted data is appended to `plain`.
    Status receive(std::string_view ciphertext, std::string& plain);

    // Encrypts `plain` into outbound(). Only once handshake_done().
    Status send(std::string_view plain);

    // Queues close_notify into outbound(): a tunnel whose client half-closed
    // ends its TLS stream before the TCP FIN, so the upstream can tell the end
    // from a truncation.
    void shutdown();
    // Nothing more to queue: close_notify sent, or none can be (no finished
    // handshake, failed session).
    bool close_notify_queued() const {
        return !ssl_ || !handshake_done_ || failed_ || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0;
    }

    std::string& outbound() { return out_; }
    bool handshake_done() const { return handshake_done_; }
    bool resumed() const { return resumed_; }
    // Why the last Error happened, incl. the verification result when that failed.
    const std::string& error() const { return error_; }
    const UpstreamTls* context() const { return context_.get(); }

    // The newest session the server issued on this connection, or null; the
    // caller owns the returned reference (SSL_SESSION_free).
    SSL_SESSION* take_session() {
        SSL_SESSION* s = fresh_;
        fresh_ = nullptr;
        return s;
    }
    // Called by UpstreamTls's new-session callback; takes the reference.
    void offer_session(SSL_SESSION* session);

    void reset();

private:
    Status fail(const char* where);
    Status read_plain(std::string& plain);

    std::shared_ptr<const UpstreamTls> context_;
    SSL* ssl_ = nullptr;
    CiphertextInput in_;  // read by ssl_'s input BIO
    SSL_SESSION* fresh_ = nullptr;
    std::string out_;
    std::string error_;
    bool handshake_done_ = false;
    bool resumed_ = false;
    bool failed_ = false;
};

}  // namespace xgress::tls

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

#include "tls/tls_stream.h"
#include "tls/upstream_tls.h"

namespace xgress::tls {

enum class TlsClientStatus : std::uint8_t {
    Ok,      // progress made (or more input needed)
    Closed,  // the upstream sent close_notify: end of its output
    Error,   // handshake or verification failure, bad record: close
};

// send(), shutdown() (close_notify: a tunnel whose client half-closed ends
// its TLS stream before the TCP FIN, so the upstream can tell the end from a
// truncation), close_notify_queued(), outbound(), handshake_done(),
// resumed() and error() come from TlsStream.
class TlsClientSession : public TlsStream<TlsClientStatus> {
public:
    using Status = TlsClientStatus;

    TlsClientSession() = default;
    ~TlsClientSession();

    // Begins a handshake; the ClientHello is in outbound() on success.
    // `resume` (may be null) is not consumed: the caller keeps its reference.
    bool start(std::shared_ptr<const UpstreamTls> context, SSL_SESSION* resume);

    // Ciphertext from the upstream; decrypted data is appended to `plain`.
    Status receive(std::string_view ciphertext, std::string& plain);

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
    std::shared_ptr<const UpstreamTls> context_;
    SSL_SESSION* fresh_ = nullptr;
};

}  // namespace xgress::tls

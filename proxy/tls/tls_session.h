// One server-side TLS connection driven by bytes, not sockets: the worker
// hands it the ciphertext io_uring received and gets plaintext for the HTTP
// code; plaintext the HTTP code produced is encrypted into outbound(), which
// the worker sends. OpenSSL never touches the socket (a BIO reading the receive buffer in place, an
// append-to-string BIO out), so nothing here blocks and the same object can
// be fed one byte or 64 KiB at a time.
//
// ssl-passthrough: when a PassthroughHosts table is given, the ClientHello's
// SNI is looked up from OpenSSL's client-hello callback, before any
// certificate is chosen. A match stops the handshake (nothing is sent to the
// client) and receive() returns Passthrough; raw_input() then holds every byte
// the client sent, to be relayed undecrypted.
//
// Objects are pooled per worker: reset() keeps the buffers' capacity and the
// SSL object, which start() reuses (SSL_clear) when the context is the same.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tls/passthrough_hosts.h"
#include "tls/server_context.h"
#include "tls/tls_stream.h"

namespace xgress::tls {

enum class TlsSessionStatus : std::uint8_t {
    Ok,           // progress made (or more input needed)
    Closed,       // the peer sent close_notify: treat as end of input
    Error,        // handshake failure, bad record, garbage: close the connection
    Passthrough,  // the SNI names a passthrough host: relay raw_input() untouched
};

// send(), shutdown(), close_notify_queued(), outbound(), handshake_done(),
// resumed(), error() and ssl() come from TlsStream.
class TlsSession : public TlsStream<TlsSessionStatus> {
public:
    using Status = TlsSessionStatus;

    TlsSession() = default;

    // Begins a new server-side connection. `passthrough` may be null or empty
    // (no passthrough hosts). Both are held until reset(): a snapshot swapped
    // in mid-handshake does not pull them away.
    bool start(std::shared_ptr<const ServerContext> context, std::shared_ptr<const PassthroughHosts> passthrough);

    // Ciphertext from the peer. Decrypted application data is appended to `plain`.
    Status receive(std::string_view ciphertext, std::string& plain);

    // Passthrough: the matched backend and the bytes to relay.
    const std::string& passthrough_backend() const { return passthrough_backend_; }
    std::string& raw_input() { return raw_; }

    // Back to the pool: buffers keep their capacity.
    void reset();

private:
    static int on_client_hello(SSL* ssl, int* alert, void* arg);

    std::shared_ptr<const ServerContext> context_;
    std::shared_ptr<const PassthroughHosts> passthrough_;
    std::string raw_;
    std::string passthrough_backend_;
    bool hello_seen_ = false;

    friend class ServerContext;
};

}  // namespace xgress::tls

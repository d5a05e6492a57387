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
#include "tls/string_bio.h"

namespace xgress::tls {

class TlsSession {
public:
    enum class Status : std::uint8_t {
        Ok,           // progress made (or more input needed)
        Closed,       // the peer sent close_notify: treat as end of input
        Error,        // handshake failure, bad record, garbage: close the connection
        Passthrough,  // the SNI names a passthrough host: relay raw_input() untouched
    };

    TlsSession() = default;
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;
    ~TlsSession();

    // Begins a new server-side connection. `passthrough` may be null or empty
    // (no passthrough hosts). Both are held until reset(): a snapshot swapped
    // in mid-handshake does not pull them away.
    bool start(std::shared_ptr<const ServerContext> context, std::shared_ptr<const PassthroughHosts> passthrough);

    // Ciphertext from the peer. Decrypted application data is appended to `plain`.
    Status receive(std::string_view ciphertext, std::string& plain);

    // Encrypts `plain` into outbound(). Only valid once the handshake is done.
    Status send(std::string_view plain);

    // Sends close_notify into outbound() (best effort, before closing the socket).
    void shutdown();
    // shutdown() queued a close_notify (or the session cannot send one: no
    // finished handshake, or failed), so there is nothing more to queue.
    bool close_notify_queued() const {
        return !ssl_ || !handshake_done_ || failed_ || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0;
    }

    // Ciphertext waiting to go to the peer (handshake flights, alerts,
    // tickets, records). The caller takes bytes from the front.
    std::string& outbound() { return out_; }

    bool handshake_done() const { return handshake_done_; }
    bool resumed() const { return resumed_; }
    // Why the last Error happened (OpenSSL's reason, for debug logs).
    const std::string& error() const { return error_; }
    // Passthrough: the matched backend and the bytes to relay.
    const std::string& passthrough_backend() const { return passthrough_backend_; }
    std::string& raw_input() { return raw_; }
    SSL* ssl() const { return ssl_; }

    // Back to the pool: buffers keep their capacity.
    void reset();

private:
    static int on_client_hello(SSL* ssl, int* alert, void* arg);
    Status fail(const char* where);
    Status read_plain(std::string& plain);

    std::shared_ptr<const ServerContext> context_;
    std::shared_ptr<const PassthroughHosts> passthrough_;
    SSL* ssl_ = nullptr;
    CiphertextInput in_;  // read by ssl_'s input BIO
    std::string out_;
    std::string raw_;
    std::string passthrough_backend_;
    std::string error_;
    bool handshake_done_ = false;
    bool resumed_ = false;
    bool hello_seen_ = false;
    bool failed_ = false;

    friend class ServerContext;
};

}  // namespace xgress::tls

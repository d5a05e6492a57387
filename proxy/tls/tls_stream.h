// What the server (TlsSession) and client (TlsClientSession) sides of the
// byte-driven TLS transport share: the SSL object with its two transport
// BIOs (ciphertext read in place from the caller's buffer, ciphertext out
// appended to outbound()), the handshake / failure state, and the steps that
// do not depend on the side: finishing the handshake, reading and writing
// plaintext, close_notify, and failing with OpenSSL's reason.
//
// A template over the side's Status enum (which has at least Ok, Closed and
// Error) so each side keeps its own: the server's adds Passthrough, which a
// client never returns and its callers should not have to handle.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <optional>
#include <string>
#include <string_view>

#include "tls/string_bio.h"

namespace xgress::tls {

template <class Status>
class TlsStream {
public:
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    // Encrypts `plain` into outbound(). Only valid once the handshake is done.
    Status send(std::string_view plain) {
        if (failed_ || !ssl_ || !handshake_done_) return Status::Error;
        if (plain.empty()) return Status::Ok;
        return write_plain(ssl_, plain) ? Status::Ok : fail("write");
    }

    // Queues close_notify into outbound() (best effort, before the socket closes).
    void shutdown() {
        if (ssl_ && handshake_done_ && !failed_) {
            SSL_shutdown(ssl_);
            ERR_clear_error();
        }
    }
    // Nothing more to queue: close_notify sent, or none can be (no finished
    // handshake, failed session).
    bool close_notify_queued() const {
        return !ssl_ || !handshake_done_ || failed_ || (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0;
    }

    // Ciphertext waiting to go to the peer (handshake flights, alerts,
    // tickets, records). The caller takes bytes from the front.
    std::string& outbound() { return out_; }

    bool handshake_done() const { return handshake_done_; }
    bool resumed() const { return resumed_; }
    // Why the last Error happened (OpenSSL's reason, for debug logs; a client
    // adds the certificate verification result when that failed).
    const std::string& error() const { return error_; }
    SSL* ssl() const { return ssl_; }

protected:
    TlsStream() = default;
    ~TlsStream() {
        if (ssl_) SSL_free(ssl_);
    }

    // Takes `ssl` (from the context; null = allocation failed) and gives it
    // the transport BIOs and `self` as app data; false on failure.
    bool adopt(SSL* ssl, void* self) {
        ssl_ = ssl;
        if (!ssl_ || !attach_transport_bios(ssl_, &in_, &out_)) return false;
        SSL_set_app_data(ssl_, self);
        return true;
    }

    // After SSL_do_handshake returned `rc`: nothing when the handshake just
    // finished (handshake_done_ and resumed_ set), else what receive() returns
    // (Ok while OpenSSL wants more bytes, Error when it failed).
    std::optional<Status> handshake_step(int rc) {
        if (rc != 1) {
            const int e = SSL_get_error(ssl_, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::Ok;
            return fail("handshake");
        }
        handshake_done_ = true;
        resumed_ = SSL_session_reused(ssl_) == 1;
        return std::nullopt;
    }

    // Appends every record the fed input completes to `plain`.
    Status read_plain(std::string& plain) {
        switch (read_available_plain(ssl_, in_, plain)) {
            case PlainRead::More: return Status::Ok;
            case PlainRead::Closed: return Status::Closed;
            case PlainRead::Error: break;
        }
        return fail("read");
    }

    Status fail(const char* where) {
        failed_ = true;
        error_ = where;
        if (ssl_ && !SSL_is_server(ssl_)) {
            const long verify = SSL_get_verify_result(ssl_);
            if (verify != X509_V_OK) {
                error_ += ": certificate verification failed: ";
                error_ += X509_verify_cert_error_string(verify);
            }
        }
        take_openssl_error(error_);
        return Status::Error;
    }

    // Back to the pool: frees the SSL, keeps the buffers' capacity.
    void reset_stream() {
        if (ssl_) {
            SSL_free(ssl_);
            ssl_ = nullptr;
        }
        in_.clear();
        out_.clear();
        error_.clear();
        handshake_done_ = resumed_ = failed_ = false;
    }

    SSL* ssl_ = nullptr;
    CiphertextInput in_;  // read by ssl_'s input BIO
    std::string out_;
    std::string error_;
    bool handshake_done_ = false;
    bool resumed_ = false;
    bool failed_ = false;
};

}  // namespace xgress::tls

#include "tls/tls_client_session.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "tls/string_bio.h"

namespace xgress::tls {

TlsClientSession::~TlsClientSession() { reset(); }

bool TlsClientSession::start(std::shared_ptr<const UpstreamTls> context, SSL_SESSION* resume) {
    reset();
    context_ = std::move(context);
    ssl_ = context_->new_connection();
    if (!ssl_) return false;
    if (!attach_transport_bios(ssl_, &in_, &out_)) return false;
    SSL_set_app_data(ssl_, this);
    SSL_set_connect_state(ssl_);
    if (resume) SSL_set_session(ssl_, resume);
    const int rc = SSL_do_handshake(ssl_);  // writes the ClientHello
    if (rc != 1 && SSL_get_error(ssl_, rc) != SSL_ERROR_WANT_READ) {
        fail("handshake start");
        return false;
    }
    return true;
}

void TlsClientSession::reset() {
    if (ssl_) {
        // Freeing an SSL that never sent close_notify marks its session not
        // resumable (OpenSSL's "bad session" rule), and that session object is
        // the one the worker cached. We close upstream connections without
        // close_notify (pool timeouts, errors after the handshake): a clean
        // handshake's session stays good, so say the shutdown happened.
        if (handshake_done_ && !failed_) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    if (fresh_) {
        SSL_SESSION_free(fresh_);
        fresh_ = nullptr;
    }
    in_.clear();
    context_.reset();
    out_.clear();
    error_.clear();
    handshake_done_ = resumed_ = failed_ = false;
}

void TlsClientSession::offer_session(SSL_SESSION* session) {
    if (fresh_) SSL_SESSION_free(fresh_);
    fresh_ = session;
}

TlsClientSession::Status TlsClientSession::fail(const char* where) {
    failed_ = true;
    error_ = where;
    if (ssl_) {
        const long verify = SSL_get_verify_result(ssl_);
        if (verify != X509_V_OK) {
            error_ += ": certificate verification failed: ";
            error_ += X509_verify_cert_error_string(verify);
        }
    }
    take_openssl_error(error_);
    return Status::Error;
}

TlsClientSession::Status TlsClientSession::receive(std::string_view ciphertext, std::string& plain) {
    if (failed_ || !ssl_) return Status::Error;
    if (ciphertext.empty()) return Status::Ok;
    in_.feed(ciphertext);
    struct KeepRest {
        CiphertextInput& in;
        ~KeepRest() { in.keep_rest(); }
    } keep_rest{in_};  // the caller reuses its buffer once this returns
    if (!handshake_done_) {
        const int rc = SSL_do_handshake(ssl_);
        if (rc != 1) {
            const int e = SSL_get_error(ssl_, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::Ok;
            return fail("handshake");
        }
        handshake_done_ = true;
        resumed_ = SSL_session_reused(ssl_) == 1;
    }
    return read_plain(plain);
}

TlsClientSession::Status TlsClientSession::read_plain(std::string& plain) {
    switch (read_available_plain(ssl_, in_, plain)) {
        case PlainRead::More: return Status::Ok;
        case PlainRead::Closed: return Status::Closed;
        case PlainRead::Error: break;
    }
    return fail("read");
}

TlsClientSession::Status TlsClientSession::send(std::string_view plain) {
    if (failed_ || !ssl_ || !handshake_done_) return Status::Error;
    if (plain.empty()) return Status::Ok;
    return write_plain(ssl_, plain) ? Status::Ok : fail("write");
}

void TlsClientSession::shutdown() {
    if (ssl_ && handshake_done_ && !failed_) {
        SSL_shutdown(ssl_);
        ERR_clear_error();
    }
}

}  // namespace xgress::tls

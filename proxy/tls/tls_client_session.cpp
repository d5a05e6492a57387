#include "tls/tls_client_session.h"

#include <optional>

namespace xgress::tls {

TlsClientSession::~TlsClientSession() { reset(); }

bool TlsClientSession::start(std::shared_ptr<const UpstreamTls> context, SSL_SESSION* resume) {
    reset();
    context_ = std::move(context);
    if (!adopt(context_->new_connection(), this)) return false;
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
    // Freeing an SSL that never sent close_notify marks its session not
    // resumable (OpenSSL's "bad session" rule), and that session object is
    // the one the worker cached. We close upstream connections without
    // close_notify (pool timeouts, errors after the handshake): a clean
    // handshake's session stays good, so say the shutdown happened.
    if (ssl_ && handshake_done_ && !failed_) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    reset_stream();
    if (fresh_) {
        SSL_SESSION_free(fresh_);
        fresh_ = nullptr;
    }
    context_.reset();
}

void TlsClientSession::offer_session(SSL_SESSION* session) {
    if (fresh_) SSL_SESSION_free(fresh_);
    fresh_ = session;
}

TlsClientSession::Status TlsClientSession::receive(std::string_view ciphertext, std::string& plain) {
    if (failed_ || !ssl_) return Status::Error;
    if (ciphertext.empty()) return Status::Ok;
    const FedCiphertext fed(in_, ciphertext);
    if (!handshake_done_) {
        if (const std::optional<Status> wait = handshake_step(SSL_do_handshake(ssl_))) return *wait;
    }
    return read_plain(plain);
}

}  // namespace xgress::tls

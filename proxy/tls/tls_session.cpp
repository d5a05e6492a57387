#include "tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <mutex>

#include "tls/string_bio.h"

namespace xgress::tls {
namespace {

// The server_name extension body: list length, then (type, length, name)
// entries; the first host_name entry is the SNI.
std::string_view sni_from_extension(const unsigned char* p, std::size_t len) {
    if (len < 2) return {};
    std::size_t list = (std::size_t{p[0]} << 8) | p[1];
    if (list + 2 > len) return {};
    p += 2;
    while (list >= 3) {
        const unsigned type = p[0];
        const std::size_t n = (std::size_t{p[1]} << 8) | p[2];
        if (n + 3 > list) return {};
        if (type == TLSEXT_NAMETYPE_host_name) return {reinterpret_cast<const char*>(p + 3), n};
        p += 3 + n;
        list -= 3 + n;
    }
    return {};
}

}  // namespace

TlsSession::~TlsSession() {
    if (ssl_) SSL_free(ssl_);
}

// A fresh SSL per connection: OpenSSL's SSL_clear() keeps settings of the
// previous handshake (the SNI-selected SSL_CTX, ALPN, the session) and its
// documentation recommends SSL_free + SSL_new; SSL_new costs ~1-2 us against
// a handshake's hundreds. What is pooled is this object and its buffers.
bool TlsSession::start(std::shared_ptr<const ServerContext> context,
                       std::shared_ptr<const PassthroughHosts> passthrough) {
    reset();
    context_ = std::move(context);
    if (passthrough && !passthrough->empty()) passthrough_ = std::move(passthrough);
    ssl_ = context_->new_connection();
    if (!ssl_) return false;
    if (!attach_transport_bios(ssl_, &in_, &out_)) return false;
    SSL_set_app_data(ssl_, this);
    SSL_set_accept_state(ssl_);
    return true;
}

void TlsSession::reset() {
    if (ssl_) {
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    in_.clear();
    context_.reset();
    passthrough_.reset();
    out_.clear();
    raw_.clear();
    passthrough_backend_.clear();
    error_.clear();
    handshake_done_ = resumed_ = hello_seen_ = failed_ = false;
}

TlsSession::Status TlsSession::fail(const char* where) {
    failed_ = true;
    error_ = where;
    take_openssl_error(error_);
    return Status::Error;
}

TlsSession::Status TlsSession::receive(std::string_view ciphertext, std::string& plain) {
    if (failed_ || !ssl_) return Status::Error;
    if (ciphertext.empty()) return Status::Ok;
    if (passthrough_ && !hello_seen_) raw_.append(ciphertext);
    in_.feed(ciphertext);
    struct KeepRest {
        CiphertextInput& in;
        ~KeepRest() { in.keep_rest(); }
    } keep_rest{in_};  // the caller reuses its buffer once this returns
    if (!handshake_done_) {
        const int rc = SSL_do_handshake(ssl_);
        if (!passthrough_backend_.empty()) {
            out_.clear();  // the refusal alert is not for the client: its backend answers
            ERR_clear_error();
            return Status::Passthrough;
        }
        if (rc != 1) {
            const int e = SSL_get_error(ssl_, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Status::Ok;
            return fail("handshake");
        }
        handshake_done_ = true;
        resumed_ = SSL_session_reused(ssl_) == 1;
        raw_.clear();
    }
    return read_plain(plain);
}

TlsSession::Status TlsSession::read_plain(std::string& plain) {
    switch (read_available_plain(ssl_, in_, plain)) {
        case PlainRead::More: return Status::Ok;
        case PlainRead::Closed: return Status::Closed;
        case PlainRead::Error: break;
    }
    return fail("read");
}

TlsSession::Status TlsSession::send(std::string_view plain) {
    if (failed_ || !ssl_ || !handshake_done_) return Status::Error;
    if (plain.empty()) return Status::Ok;
    return write_plain(ssl_, plain) ? Status::Ok : fail("write");
}

void TlsSession::shutdown() {
    if (ssl_ && handshake_done_ && !failed_) {
        SSL_shutdown(ssl_);
        ERR_clear_error();
    }
}

int TlsSession::on_client_hello(SSL* ssl, int* alert, void*) {
    auto* self = static_cast<TlsSession*>(SSL_get_app_data(ssl));
    if (self == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
    self->hello_seen_ = true;
    if (self->passthrough_ == nullptr) return SSL_CLIENT_HELLO_SUCCESS;
    const unsigned char* ext = nullptr;
    std::size_t len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) != 1) {
        self->raw_.clear();
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    const std::string* backend = self->passthrough_->find(sni_from_extension(ext, len));
    if (backend == nullptr) {
        self->raw_.clear();
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    self->passthrough_backend_ = *backend;
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;  // stop here; the caller relays raw_input()
}

}  // namespace xgress::tls

#include "tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <optional>

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

// A fresh SSL per connection: OpenSSL's SSL_clear() keeps settings of the
// previous handshake (the SNI-selected SSL_CTX, ALPN, the session) and its
// documentation recommends SSL_free + SSL_new; SSL_new costs ~1-2 us against
// a handshake's hundreds. What is pooled is this object and its buffers.
bool TlsSession::start(std::shared_ptr<const ServerContext> context,
                       std::shared_ptr<const PassthroughHosts> passthrough) {
    reset();
    context_ = std::move(context);
    if (passthrough && !passthrough->empty()) passthrough_ = std::move(passthrough);
    if (!adopt(context_->new_connection(), this)) return false;
    SSL_set_accept_state(ssl_);
    return true;
}

void TlsSession::reset() {
    reset_stream();
    context_.reset();
    passthrough_.reset();
    raw_.clear();
    passthrough_backend_.clear();
    hello_seen_ = false;
}

TlsSession::Status TlsSession::receive(std::string_view ciphertext, std::string& plain) {
    if (failed_ || !ssl_) return Status::Error;
    if (ciphertext.empty()) return Status::Ok;
    if (passthrough_ && !hello_seen_) raw_.append(ciphertext);
    const FedCiphertext fed(in_, ciphertext);
    if (!handshake_done_) {
        const int rc = SSL_do_handshake(ssl_);
        if (!passthrough_backend_.empty()) {
            out_.clear();  // the refusal alert is not for the client: its backend answers
            ERR_clear_error();
            return Status::Passthrough;
        }
        if (const std::optional<Status> wait = handshake_step(rc)) return *wait;
        raw_.clear();
    }
    return read_plain(plain);
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

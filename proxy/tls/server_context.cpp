#include "tls/server_context.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include <fmt/format.h>

#include "tls/tls_session.h"

namespace xgress::tls {
namespace {

// Mozilla "intermediate" TLS 1.2 suites: ECDHE only (forward secrecy), AEAD only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";

std::string openssl_error() {
    unsigned long code = ERR_peek_last_error();
    std::string text = "unknown error";
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        text = buf;
    }
    ERR_clear_error();
    return text;
}

}  // namespace

std::expected<std::shared_ptr<const ServerContext>, std::string> ServerContext::create(
    std::shared_ptr<const CertificateStore> store, std::shared_ptr<TicketKeyRing> tickets, ServerPolicy policy,
    std::unordered_map<const Certificate*, std::string> staples) {
    std::shared_ptr<ServerContext> self(new ServerContext());
    self->staples_ = std::move(staples);
    self->store_ = std::move(store);
    self->tickets_ = std::move(tickets);
    self->policy_ = std::move(policy);
    for (const std::string& proto : self->policy_.alpn) {
        if (proto.empty() || proto.size() > 255) return std::unexpected(fmt::format("ALPN protocol '{}' has a bad length", proto));
        self->alpn_wire_.push_back(static_cast<char>(proto.size()));
        self->alpn_wire_ += proto;
    }

    auto add = [&](const Certificate& cert) -> std::expected<void, std::string> {
        if (self->contexts_.contains(&cert)) return {};
        auto ctx = self->make_ctx(cert);
        if (!ctx) return std::unexpected(ctx.error());
        self->contexts_.emplace(&cert, std::move(*ctx));
        return {};
    };
    if (auto ok = add(self->store_->fallback()); !ok) return std::unexpected(ok.error());
    self->fallback_ctx_ = self->contexts_.at(&self->store_->fallback()).get();
    for (const auto& cert : self->store_->certificates()) {
        if (auto ok = add(*cert); !ok) return std::unexpected(ok.error());
    }
    return std::shared_ptr<const ServerContext>(std::move(self));
}

std::expected<SslCtxPtr, std::string> ServerContext::make_ctx(const Certificate& cert) {
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return std::unexpected("SSL_CTX_new: " + openssl_error());
    SSL_CTX* c = ctx.get();
    // Our suite order, not the client's: OpenSSL clients (curl, s_time) list
    // AES-256-GCM-SHA384 first, and SHA-384 makes every step of the TLS 1.3
    // key schedule dearer than SHA-256 (which has SHA-NI on x86). A client
    // that puts ChaCha20 first (no AES hardware) still gets ChaCha20.
    long options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                   SSL_OP_PRIORITIZE_CHACHA;
    if (!policy_.session_tickets || !tickets_) options |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(c, options);
    // Tickets only: a server-side session cache would be one locked table
    // shared by every worker, and would not survive a proxy restart anyway.
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    // Read-ahead: OpenSSL takes every buffered byte in one read of the input
    // BIO instead of a 5-byte header read and a body read per record.
    SSL_CTX_set_read_ahead(c, 1);
    bool ok = SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1 &&
              SSL_CTX_set_cipher_list(c, kTls12Ciphers) == 1 && SSL_CTX_set_ciphersuites(c, kTls13Suites) == 1 &&
              SSL_CTX_set1_groups_list(c, kGroups) == 1 && SSL_CTX_use_certificate(c, cert.leaf.get()) == 1 &&
              SSL_CTX_use_PrivateKey(c, cert.key.get()) == 1;
    for (const X509Ptr& extra : cert.chain) ok = ok && SSL_CTX_add1_chain_cert(c, extra.get()) == 1;
    ok = ok && SSL_CTX_check_private_key(c) == 1;
    if (!ok) return std::unexpected(fmt::format("certificate {}: {}", cert.name, openssl_error()));

    SSL_CTX_set_app_data(c, this);
    SSL_CTX_set_tlsext_servername_callback(c, on_server_name);
    SSL_CTX_set_tlsext_servername_arg(c, this);
    SSL_CTX_set_alpn_select_cb(c, on_alpn, this);
    // Runs before the SNI callback: ssl-passthrough decides there, while the
    // client's raw bytes are still all the proxy has seen (TlsSession).
    SSL_CTX_set_client_hello_cb(c, TlsSession::on_client_hello, nullptr);
    if (tickets_) SSL_CTX_set_tlsext_ticket_key_evp_cb(c, on_ticket_key);
    // One TLS 1.3 ticket per full handshake by default: a second one cost
    // every handshake another session encode, HMAC and encryption (≈ 5 % of
    // its instructions, see proxy/tls/README.md), and clients can reuse ours.
    SSL_CTX_set_num_tickets(c, policy_.tls13_tickets);
    if (auto staple = staples_.find(&cert); staple != staples_.end()) {
        SSL_CTX_set_tlsext_status_cb(c, on_status);
        SSL_CTX_set_tlsext_status_arg(c, const_cast<std::string*>(&staple->second));
    }
    return ctx;
}

// The client asked for the certificate status (status_request): hand OpenSSL
// a copy of the staple (it frees what it is given). Runs on the context the
// SNI callback selected, so each certificate staples its own response.
int ServerContext::on_status(SSL* ssl, void* arg) {
    const auto* der = static_cast<const std::string*>(arg);
    if (der == nullptr || der->empty()) return SSL_TLSEXT_ERR_NOACK;
    void* copy = OPENSSL_memdup(der->data(), der->size());
    if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
    SSL_set_tlsext_status_ocsp_resp(ssl, static_cast<unsigned char*>(copy), static_cast<long>(der->size()));
    return SSL_TLSEXT_ERR_OK;
}

SSL* ServerContext::new_connection() const { return SSL_new(fallback_ctx_); }

int ServerContext::on_server_name(SSL* ssl, int* /*alert*/, void* arg) {
    const auto* self = static_cast<const ServerContext*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const Certificate* cert = self->store_->select(name != nullptr ? name : "");
    auto it = self->contexts_.find(cert);
    if (it != self->contexts_.end() && it->second.get() != SSL_get_SSL_CTX(ssl)) {
        SSL_set_SSL_CTX(ssl, it->second.get());
    }
    return SSL_TLSEXT_ERR_OK;
}

int ServerContext::on_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                           unsigned int inlen, void* arg) {
    const auto* self = static_cast<const ServerContext*>(arg);
    unsigned char* selected = nullptr;
    int rc = SSL_select_next_proto(&selected, outlen,
                                   reinterpret_cast<const unsigned char*>(self->alpn_wire_.data()),
                                   static_cast<unsigned int>(self->alpn_wire_.size()), in, inlen);
    if (rc != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;  // no overlap: go on without ALPN
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

namespace {

// Fetched once: EVP_aes_256_cbc() is a legacy handle, and OpenSSL 3 looks it
// up in the provider store on every EVP_*Init_ex it is passed to (twice per
// full handshake: TLS 1.3 issues two tickets).
const EVP_CIPHER* ticket_cipher() {
    static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
    return cipher != nullptr ? cipher : EVP_aes_256_cbc();
}

}  // namespace

int ServerContext::on_ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                                 EVP_MAC_CTX* hmac, int encrypt) {
    const auto* self = static_cast<const ServerContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
    if (self == nullptr || !self->tickets_) return 0;  // no ticket issued, none accepted
    bool is_current = true;
    std::optional<TicketKey> key;
    if (encrypt) {
        key = self->tickets_->current();
        if (!key) return 0;  // issue no ticket
        std::memcpy(key_name, key->name.data(), key->name.size());
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ticket_cipher())) != 1) return -1;
    } else {
        key = self->tickets_->find(key_name, &is_current);
        if (!key) return 0;  // unknown or rotated-out key: full handshake
    }
    char digest[] = "sha256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac_key.data(), key->hmac_key.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(hmac, params) != 1) return -1;
    int init = encrypt ? EVP_EncryptInit_ex(cipher, ticket_cipher(), nullptr, key->aes_key.data(), iv)
                       : EVP_DecryptInit_ex(cipher, ticket_cipher(), nullptr, key->aes_key.data(), iv);
    if (init != 1) return -1;
    // 2 = "valid, but re-issue under the current key" so rotated clients move over.
    return encrypt || is_current ? 1 : 2;
}

}  // namespace xgress::tls

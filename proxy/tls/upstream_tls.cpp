#include "tls/upstream_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <map>
#include <mutex>

#include "tls/tls_client_session.h"

namespace xgress::tls {
namespace {

std::string openssl_error() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return "unknown error";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return buf;
}

bool is_ip_literal(const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Adds every certificate of `pem` to the context's trust store.
std::expected<void, std::string> load_cas(SSL_CTX* ctx, const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) return std::unexpected("out of memory");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int count = 0;
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, x);
        X509_free(x);
        ++count;
    }
    BIO_free(bio);
    const unsigned long last = ERR_peek_last_error();
    // Reading stops with "no start line" at the end of the text: expected.
    if (ERR_GET_REASON(last) == PEM_R_NO_START_LINE) ERR_clear_error();
    if (ERR_peek_last_error() != 0) return std::unexpected("ca.crt: " + openssl_error());
    if (count == 0) return std::unexpected("ca.crt: no certificate found");
    return {};
}

std::mutex cache_mutex;
std::map<std::string, std::weak_ptr<const UpstreamTls>> cache;  // guarded by cache_mutex
std::atomic<std::uint64_t> next_id{1};

}  // namespace

std::expected<std::shared_ptr<const UpstreamTls>, std::string> UpstreamTls::get(const UpstreamTlsConfig& config) {
    std::string key = config.server_name;
    key += '\0';
    key += config.verify ? '1' : '0';
    key += '\0';
    if (config.verify) key += config.ca_pem;
    std::lock_guard lock(cache_mutex);
    if (auto it = cache.find(key); it != cache.end())
        if (auto alive = it->second.lock()) return alive;

    std::shared_ptr<UpstreamTls> t(new UpstreamTls());
    t->config_ = config;
    if (!config.verify) t->config_.ca_pem.clear();
    t->name_is_ip_ = is_ip_literal(config.server_name);
    t->ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* ctx = t->ctx_.get();
    if (!ctx) return std::unexpected("SSL_CTX_new: " + openssl_error());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    if (config.verify) {
        if (!config.ca_pem.empty())
            if (auto r = load_cas(ctx, config.ca_pem); !r) return std::unexpected(r.error());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    t->pool_tag_ = "|tls|" + config.server_name + "|" + std::to_string(next_id.fetch_add(1));

    for (auto it = cache.begin(); it != cache.end();) it = it->second.expired() ? cache.erase(it) : std::next(it);
    std::shared_ptr<const UpstreamTls> result = t;
    cache[key] = result;
    return result;
}

SSL* UpstreamTls::new_connection() const {
    SSL* ssl = SSL_new(ctx_.get());
    if (!ssl) return nullptr;
    const std::string& name = config_.server_name;
    if (!name.empty() && !name_is_ip_) SSL_set_tlsext_host_name(ssl, name.c_str());
    if (config_.verify && !name.empty()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (name_is_ip_) {
            X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            SSL_set1_host(ssl, name.c_str());
        }
    }
    return ssl;
}

int UpstreamTls::on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* owner = static_cast<TlsClientSession*>(SSL_get_app_data(ssl));
    if (owner == nullptr) return 0;  // OpenSSL frees it
    owner->offer_session(session);
    return 1;  // we own the reference now
}

}  // namespace xgress::tls

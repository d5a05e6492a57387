// Full TLS handshakes between an OpenSSL client and our ServerContext over an
// in-memory BIO pair: certificate choice by SNI, protocol floor, ALPN and
// resumption, with no sockets involved.
#include "tls/server_context.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include "test_certificates.h"

namespace xgress::tls {
namespace {

struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;
struct SessionFree {
    void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

std::shared_ptr<const Certificate> load(const std::string& name, const std::string& sans) {
    auto pem = test::make_certificate(name, sans);
    auto cert = load_certificate(name, pem.cert, pem.key, std::time(nullptr));
    if (!cert) throw std::runtime_error(cert.error());
    return *cert;
}

struct ClientOptions {
    std::string sni;
    int max_version = 0;  // 0: library default (TLS 1.3)
    std::string alpn;     // wire format
    SSL_SESSION* resume = nullptr;
    int* tickets_seen = nullptr;  // counts the NewSessionTicket messages the client gets
    std::string suites;           // TLS 1.3 suites in the client's preference order
};

ClientOptions client(std::string sni, int max_version = 0, SSL_SESSION* resume = nullptr, std::string alpn = {}) {
    ClientOptions o;
    o.sni = std::move(sni);
    o.max_version = max_version;
    o.resume = resume;
    o.alpn = std::move(alpn);
    return o;
}

struct Result {
    bool ok = false;
    std::string peer_cn;
    std::string alpn;
    bool reused = false;
    int version = 0;
    std::string suite;
    SessionPtr session;
};

// Drives both ends until the handshake completes or one side fails, then
// exchanges one byte each way so TLS 1.3 tickets reach the client.
Result handshake(const ServerContext& server, const ClientOptions& opt) {
    SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(client_ctx.get(), TLS1_VERSION);
    if (opt.max_version != 0) SSL_CTX_set_max_proto_version(client_ctx.get(), opt.max_version);
    // OpenSSL 3's default security level forbids TLS 1.0 client side; allow it
    // so the test sees the *server* refuse it.
    SSL_CTX_set_security_level(client_ctx.get(), 0);
    // No client-side cache: freeing a context flushes its cache and marks every
    // session in it unresumable; the test keeps sessions itself.
    SSL_CTX_set_session_cache_mode(client_ctx.get(), SSL_SESS_CACHE_OFF);
    if (opt.tickets_seen != nullptr) {
        // The new-session callback runs once per ticket, but only with client
        // caching on; NO_INTERNAL_STORE keeps the context from holding them.
        SSL_CTX_set_session_cache_mode(client_ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(client_ctx.get(), [](SSL* ssl, SSL_SESSION*) {
            ++*static_cast<int*>(SSL_get_app_data(ssl));
            return 0;  // not kept: OpenSSL frees it
        });
    }
    SslPtr client(SSL_new(client_ctx.get()));
    if (opt.tickets_seen != nullptr) SSL_set_app_data(client.get(), opt.tickets_seen);
    if (!opt.suites.empty()) SSL_set_ciphersuites(client.get(), opt.suites.c_str());
    SslPtr srv(server.new_connection());
    BIO* client_bio = nullptr;
    BIO* server_bio = nullptr;
    BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
    SSL_set_bio(client.get(), client_bio, client_bio);
    SSL_set_bio(srv.get(), server_bio, server_bio);
    SSL_set_connect_state(client.get());
    SSL_set_accept_state(srv.get());
    if (!opt.sni.empty()) SSL_set_tlsext_host_name(client.get(), opt.sni.c_str());
    if (!opt.alpn.empty()) {
        SSL_set_alpn_protos(client.get(), reinterpret_cast<const unsigned char*>(opt.alpn.data()),
                            static_cast<unsigned>(opt.alpn.size()));
    }
    if (opt.resume != nullptr) SSL_set_session(client.get(), opt.resume);

    Result r;
    bool client_done = false, server_done = false;
    for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
        if (!client_done) {
            int rc = SSL_do_handshake(client.get());
            if (rc == 1) client_done = true;
            else if (SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ) break;
        }
        if (!server_done) {
            int rc = SSL_do_handshake(srv.get());
            if (rc == 1) server_done = true;
            else if (SSL_get_error(srv.get(), rc) != SSL_ERROR_WANT_READ) break;
        }
    }
    ERR_clear_error();
    if (!(client_done && server_done)) return r;
    char byte = 'x';
    SSL_write(srv.get(), &byte, 1);
    SSL_read(client.get(), &byte, 1);  // processes NewSessionTicket (TLS 1.3) first
    SSL_write(client.get(), &byte, 1);
    SSL_read(srv.get(), &byte, 1);

    r.ok = true;
    r.version = SSL_version(client.get());
    r.reused = SSL_session_reused(client.get()) == 1;
    r.suite = SSL_CIPHER_get_name(SSL_get_current_cipher(client.get()));
    if (X509* peer = SSL_get1_peer_certificate(client.get())) {
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        r.peer_cn = cn;
        X509_free(peer);
    }
    const unsigned char* proto = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(client.get(), &proto, &len);
    r.alpn.assign(reinterpret_cast<const char*>(proto), len);
    r.session.reset(SSL_get1_session(client.get()));
    // Freeing a client that sent no close_notify marks its session unresumable
    // (OpenSSL treats it as a broken connection).
    SSL_shutdown(client.get());
    return r;
}

class ServerContextTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto fallback = generate_self_signed("fallback", std::time(nullptr));
        ASSERT_TRUE(fallback);
        auto store = std::make_shared<CertificateStore>(*fallback);
        store->add(load("shop", "DNS:shop.example.com"));
        store->add(load("wild", "DNS:*.example.com"));
        tickets = std::make_shared<TicketKeyRing>();
        auto made = ServerContext::create(store, tickets);
        ASSERT_TRUE(made) << made.error();
        server = *made;
    }
    std::shared_ptr<TicketKeyRing> tickets;
    std::shared_ptr<const ServerContext> server;
};

TEST_F(ServerContextTest, SniSelectsCertificate) {
    EXPECT_EQ(handshake(*server, client("shop.example.com")).peer_cn, "shop");
    EXPECT_EQ(handshake(*server, client("blog.example.com")).peer_cn, "wild");
    EXPECT_EQ(handshake(*server, client("other.test")).peer_cn, "fallback");
    EXPECT_EQ(handshake(*server, client("")).peer_cn, "fallback");  // no SNI at all
}

TEST_F(ServerContextTest, RefusesTls10And11AcceptsTls12And13) {
    EXPECT_FALSE(handshake(*server, client("shop.example.com", TLS1_VERSION)).ok);
    EXPECT_FALSE(handshake(*server, client("shop.example.com", TLS1_1_VERSION)).ok);
    auto v12 = handshake(*server, client("shop.example.com", TLS1_2_VERSION));
    ASSERT_TRUE(v12.ok);
    EXPECT_EQ(v12.version, TLS1_2_VERSION);
    auto v13 = handshake(*server, client("shop.example.com"));
    ASSERT_TRUE(v13.ok);
    EXPECT_EQ(v13.version, TLS1_3_VERSION);
}

TEST_F(ServerContextTest, NegotiatesHttp11AndToleratesUnknownAlpn) {
    using namespace std::string_literals;
    EXPECT_EQ(handshake(*server, client("shop.example.com", 0, nullptr, "\x02h2\x08http/1.1"s)).alpn, "http/1.1");
    auto other = handshake(*server, client("shop.example.com", 0, nullptr, "\x06spdy/1"s));
    EXPECT_TRUE(other.ok);
    EXPECT_EQ(other.alpn, "");
}

TEST_F(ServerContextTest, ResumesWithTicketsAcrossRotationButNotAfterKeyIsGone) {
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
        SCOPED_TRACE(version == TLS1_2_VERSION ? "TLS 1.2" : "TLS 1.3");
        auto first = handshake(*server, client("shop.example.com", version));
        ASSERT_TRUE(first.ok);
        EXPECT_FALSE(first.reused);
        ASSERT_TRUE(first.session);

        auto again = handshake(*server, client("shop.example.com", version, first.session.get()));
        EXPECT_TRUE(again.reused);

        tickets->rotate();  // the old key still decrypts
        auto rotated = handshake(*server, client("shop.example.com", version, first.session.get()));
        EXPECT_TRUE(rotated.reused);

        tickets->rotate();
        tickets->rotate();  // default keeps 3 keys: the first one is now gone
        auto expired = handshake(*server, client("shop.example.com", version, first.session.get()));
        EXPECT_TRUE(expired.ok);
        EXPECT_FALSE(expired.reused);
    }
}

// The server's suite order wins (AES-128-GCM with the cheaper SHA-256 key
// schedule), except that a client putting ChaCha20 first gets ChaCha20.
TEST_F(ServerContextTest, PrefersAes128UnlessTheClientPrefersChaCha) {
    ClientOptions aes256_first = client("shop.example.com");
    aes256_first.suites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
    EXPECT_EQ(handshake(*server, aes256_first).suite, "TLS_AES_128_GCM_SHA256");
    ClientOptions chacha_first = client("shop.example.com");
    chacha_first.suites = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
    EXPECT_EQ(handshake(*server, chacha_first).suite, "TLS_CHACHA20_POLY1305_SHA256");
    ClientOptions only_aes256 = client("shop.example.com");
    only_aes256.suites = "TLS_AES_256_GCM_SHA384";
    EXPECT_EQ(handshake(*server, only_aes256).suite, "TLS_AES_256_GCM_SHA384");
}

// A full TLS 1.3 handshake sends one ticket unless the policy asks for more
// (stateless tickets: one resumes any number of connections, the test above).
TEST(ServerContext, SendsTheConfiguredNumberOfTls13Tickets) {
    auto fallback = generate_self_signed("fallback", std::time(nullptr));
    ASSERT_TRUE(fallback);
    auto store = std::make_shared<CertificateStore>(*fallback);
    auto tickets = std::make_shared<TicketKeyRing>();
    auto tickets_after_handshake = [&](const ServerPolicy& policy) {
        auto made = ServerContext::create(store, tickets, policy);
        EXPECT_TRUE(made) << made.error();
        if (!made) return -1;
        int seen = 0;
        ClientOptions opt = client("");
        opt.tickets_seen = &seen;
        EXPECT_TRUE(handshake(**made, opt).ok);
        return seen;
    };
    EXPECT_EQ(tickets_after_handshake(ServerPolicy{}), 1);  // the default
    EXPECT_EQ(tickets_after_handshake(ServerPolicy{.tls13_tickets = 2}), 2);
}

TEST(ServerContext, RejectsBadAlpnConfiguration) {
    auto fallback = generate_self_signed("fallback", std::time(nullptr));
    ASSERT_TRUE(fallback);
    auto store = std::make_shared<CertificateStore>(*fallback);
    auto made = ServerContext::create(store, nullptr, ServerPolicy{.alpn = {""}});
    ASSERT_FALSE(made);
    EXPECT_NE(made.error().find("ALPN"), std::string::npos);
}

}  // namespace
}  // namespace xgress::tls

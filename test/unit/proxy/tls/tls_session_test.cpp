// TlsSession fed like the worker feeds it, with no sockets: an OpenSSL client
// on memory BIOs talks to the server session; ciphertext crosses in chunks of
// every size, one byte at a time, or is replaced by garbage.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "test_certificates.h"
#include "tls/tls_session.h"
#include "tls/tls_state.h"

namespace xgress::tls {
namespace {

using Status = TlsSession::Status;

struct Client {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;
    BIO* in = nullptr;   // what the server sent
    BIO* out = nullptr;  // what the client sends
    explicit Client(const std::string& sni, int max_version = 0, SSL_SESSION* resume = nullptr) {
        if (max_version) {
            SSL_CTX_set_min_proto_version(ctx, max_version);
            SSL_CTX_set_max_proto_version(ctx, max_version);
            SSL_CTX_set_security_level(ctx, 0);
        }
        ssl = SSL_new(ctx);
        in = BIO_new(BIO_s_mem());
        out = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(in, -1);
        SSL_set_bio(ssl, in, out);
        SSL_set_connect_state(ssl);
        if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
        if (resume) SSL_set_session(ssl, resume);
    }
    ~Client() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    std::string take() {
        std::string s;
        char buf[4096];
        int n;
        while ((n = BIO_read(out, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
        return s;
    }
    void give(const std::string& bytes) { BIO_write(in, bytes.data(), static_cast<int>(bytes.size())); }
    std::string read_plain() {
        std::string s;
        char buf[4096];
        int n;
        while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
        ERR_clear_error();
        return s;
    }
};

class TlsSessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto pem = test::make_certificate("shop.example.com", "DNS:shop.example.com");
        snapshot::Snapshot snap;
        snap.certificates.push_back({"demo/shop", {"shop.example.com"}, pem.cert, pem.key});
        snap.virtual_hosts.push_back({"pass.example.com", {}, "default/raw:443"});
        builder = std::make_unique<TlsStateBuilder>(std::make_shared<TicketKeyRing>());
        auto built = builder->build(snap, std::time(nullptr));
        ASSERT_TRUE(built) << built.error();
        state = *built;
        passthrough = std::shared_ptr<const PassthroughHosts>(state, &state->passthrough);
    }

    // Moves bytes both ways until neither side has anything to say, `chunk`
    // bytes (0: everything) per server receive(). Returns the last status.
    Status pump(Client& c, TlsSession& s, std::string& plain, std::size_t chunk = 0) {
        Status last = Status::Ok;
        for (int round = 0; round < 50; ++round) {
            SSL_do_handshake(c.ssl);
            std::string to_server = c.take();
            for (std::size_t at = 0; at < to_server.size() && last == Status::Ok;) {
                std::size_t n = chunk ? std::min(chunk, to_server.size() - at) : to_server.size() - at;
                last = s.receive(std::string_view(to_server).substr(at, n), plain);
                at += n;
            }
            std::string to_client = std::move(s.outbound());
            s.outbound().clear();
            c.give(to_client);
            if (to_server.empty() && to_client.empty()) break;
            if (last != Status::Ok) break;
        }
        ERR_clear_error();
        return last;
    }

    std::unique_ptr<TlsStateBuilder> builder;
    std::shared_ptr<const TlsState> state;
    std::shared_ptr<const PassthroughHosts> passthrough;
};

TEST_F(TlsSessionTest, HandshakeAndDataBothWaysInAnyChunking) {
    for (std::size_t chunk : {0, 1, 2, 5, 7, 100, 1000}) {
        TlsSession s;
        ASSERT_TRUE(s.start(state->server, passthrough));
        Client c("shop.example.com");
        std::string plain;
        ASSERT_EQ(pump(c, s, plain, chunk), Status::Ok) << chunk << " " << s.error();
        ASSERT_TRUE(s.handshake_done()) << chunk;
        EXPECT_TRUE(SSL_is_init_finished(c.ssl));
        X509* peer = SSL_get1_peer_certificate(c.ssl);
        ASSERT_NE(peer, nullptr);
        char cn[256];
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        EXPECT_STREQ(cn, "shop.example.com");
        X509_free(peer);

        const std::string request = "GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n";
        ASSERT_EQ(SSL_write(c.ssl, request.data(), static_cast<int>(request.size())), static_cast<int>(request.size()));
        ASSERT_EQ(pump(c, s, plain, chunk), Status::Ok);
        EXPECT_EQ(plain, request);

        std::string big(300000, 'x');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
        ASSERT_EQ(s.send(big), Status::Ok);
        c.give(s.outbound());
        s.outbound().clear();
        EXPECT_EQ(c.read_plain(), big);
    }
}

TEST_F(TlsSessionTest, CloseNotifyEndsInput) {
    TlsSession s;
    ASSERT_TRUE(s.start(state->server, nullptr));
    Client c("shop.example.com");
    std::string plain;
    ASSERT_EQ(pump(c, s, plain), Status::Ok);
    SSL_shutdown(c.ssl);
    EXPECT_EQ(s.receive(c.take(), plain), Status::Closed);
}

TEST_F(TlsSessionTest, GarbageIsAnErrorWithAnAlertNotACrash) {
    std::mt19937 rng(7);
    for (int i = 0; i < 200; ++i) {
        TlsSession s;
        ASSERT_TRUE(s.start(state->server, passthrough));
        std::string junk(1 + rng() % 600, '\0');
        for (char& ch : junk) ch = static_cast<char>(rng());
        if (i % 2) junk[0] = 22;  // looks like a handshake record
        std::string plain;
        Status st = Status::Ok;
        for (std::size_t at = 0; at < junk.size() && st == Status::Ok; ++at)
            st = s.receive(std::string_view(junk).substr(at, 1), plain);
        EXPECT_NE(st, Status::Closed);
        EXPECT_NE(st, Status::Passthrough);
        EXPECT_TRUE(plain.empty());
        EXPECT_FALSE(s.handshake_done());
    }
    // Plain HTTP on a TLS port.
    TlsSession s;
    ASSERT_TRUE(s.start(state->server, passthrough));
    std::string plain;
    EXPECT_EQ(s.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n", plain), Status::Error);
    EXPECT_FALSE(s.error().empty());
    EXPECT_EQ(s.receive("more", plain), Status::Error);  // stays failed
}

TEST_F(TlsSessionTest, Tls10IsRefusedWithAProtocolVersionAlert) {
    TlsSession s;
    ASSERT_TRUE(s.start(state->server, passthrough));
    Client c("shop.example.com", TLS1_VERSION);
    std::string plain;
    EXPECT_EQ(pump(c, s, plain), Status::Error);
    c.give(s.outbound());
    EXPECT_NE(SSL_do_handshake(c.ssl), 1);
    EXPECT_EQ(ERR_GET_REASON(ERR_peek_last_error()), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
    ERR_clear_error();
}

TEST_F(TlsSessionTest, PassthroughHostKeepsTheRawClientHello) {
    for (std::size_t chunk : {0, 1, 3}) {
        TlsSession s;
        ASSERT_TRUE(s.start(state->server, passthrough));
        Client c("PASS.example.com.");
        SSL_do_handshake(c.ssl);
        const std::string hello = c.take();
        std::string plain;
        Status st = Status::Ok;
        std::size_t at = 0;
        while (at < hello.size() && st == Status::Ok) {
            std::size_t n = chunk ? std::min(chunk, hello.size() - at) : hello.size();
            st = s.receive(std::string_view(hello).substr(at, n), plain);
            at += n;
        }
        ASSERT_EQ(st, Status::Passthrough) << chunk;
        EXPECT_EQ(at, hello.size());
        EXPECT_EQ(s.raw_input(), hello);
        EXPECT_EQ(s.passthrough_backend(), "default/raw:443");
        EXPECT_TRUE(s.outbound().empty());  // nothing said to the client
        EXPECT_TRUE(plain.empty());
    }
    // Other names terminate as usual.
    TlsSession s;
    ASSERT_TRUE(s.start(state->server, passthrough));
    Client c("shop.example.com");
    std::string plain;
    EXPECT_EQ(pump(c, s, plain), Status::Ok);
    EXPECT_TRUE(s.handshake_done());
    EXPECT_TRUE(s.raw_input().empty());
}

TEST_F(TlsSessionTest, PooledSessionResumesWithATicket) {
    TlsSession s;  // one object reused like the worker's pool does
    SSL_SESSION* ticket = nullptr;
    {
        ASSERT_TRUE(s.start(state->server, passthrough));
        Client c("shop.example.com", TLS1_2_VERSION);
        std::string plain;
        ASSERT_EQ(pump(c, s, plain), Status::Ok);
        EXPECT_FALSE(s.resumed());
        ticket = SSL_get1_session(c.ssl);
        ASSERT_TRUE(SSL_SESSION_has_ticket(ticket));
        SSL_shutdown(c.ssl);  // freed without it, OpenSSL marks the session not resumable
    }
    s.reset();
    ASSERT_TRUE(s.start(state->server, passthrough));
    Client c("shop.example.com", TLS1_2_VERSION, ticket);
    std::string plain;
    ASSERT_EQ(pump(c, s, plain), Status::Ok);
    EXPECT_TRUE(s.handshake_done());
    EXPECT_TRUE(SSL_session_reused(c.ssl));
    EXPECT_TRUE(s.resumed());
    SSL_SESSION_free(ticket);
}

TEST(TlsStateBuilder, BadCertificateKeepsTheLastGoodOne) {
    auto good = test::make_certificate("a.example.com", "DNS:a.example.com");
    auto other = test::make_certificate("b.example.com", "DNS:b.example.com");
    TlsStateBuilder builder(std::make_shared<TicketKeyRing>());
    snapshot::Snapshot snap;
    snap.certificates.push_back({"demo/a", {"a.example.com"}, good.cert, good.key});
    snap.default_certificate = "demo/a";
    auto first = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(first) << first.error();
    EXPECT_TRUE((*first)->problems.empty());
    const Certificate* served = (*first)->server->store().select("a.example.com");
    EXPECT_EQ(served->name, "demo/a");

    // Rotation to a broken Secret (key of another certificate): the old one stays.
    snap.certificates[0].key_pem = other.key;
    snap.certificates.push_back({"demo/new", {"n.example.com"}, "garbage", "garbage"});
    auto second = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(second) << second.error();
    ASSERT_EQ((*second)->problems.size(), 2u);
    EXPECT_NE((*second)->problems[0].find("demo/a"), std::string::npos);
    EXPECT_NE((*second)->problems[0].find("previous good"), std::string::npos);
    EXPECT_NE((*second)->problems[1].find("demo/new"), std::string::npos);
    EXPECT_EQ((*second)->server->store().select("a.example.com"), served);
    EXPECT_EQ(&(*second)->server->store().fallback(), served);

    // A good rotation replaces it.
    snap.certificates[0] = {"demo/a", {"b.example.com"}, other.cert, other.key};
    auto third = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(third);
    EXPECT_EQ((*third)->server->store().select("b.example.com")->name, "demo/a");
    EXPECT_NE((*third)->server->store().select("b.example.com"), served);
}

// A routing-only snapshot (10,000 hosts swapped) must not rebuild an SSL_CTX
// per certificate; anything the context is made from must.
TEST(TlsStateBuilder, ServerContextIsReusedOnlyWhileCertificatesAreUnchanged) {
    auto a = test::make_certificate("a.example.com", "DNS:a.example.com");
    auto b = test::make_certificate("b.example.com", "DNS:b.example.com");
    TlsStateBuilder builder(std::make_shared<TicketKeyRing>());
    snapshot::Snapshot snap;
    snap.certificates.push_back({"demo/a", {"a.example.com"}, a.cert, a.key});
    snap.default_certificate = "demo/a";
    auto first = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(first) << first.error();
    const ServerContext* context = (*first)->server.get();

    // Routing changed, certificates did not: the same context serves on.
    snap.virtual_hosts.push_back({"h1.example.com", {snapshot::Route{"/", snapshot::PathMatch::Prefix, "x"}}, ""});
    auto same = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(same);
    EXPECT_EQ((*same)->server.get(), context);
    EXPECT_EQ((*same)->server->store().select("a.example.com")->name, "demo/a");

    // A certificate added: a new context that knows it.
    snap.certificates.push_back({"demo/b", {"b.example.com"}, b.cert, b.key});
    auto added = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(added);
    EXPECT_NE((*added)->server.get(), context);
    EXPECT_EQ((*added)->server->store().select("b.example.com")->name, "demo/b");
    context = (*added)->server.get();

    // Rotated PEM under the same name: a new context with the new certificate.
    const Certificate* old_a = (*added)->server->store().select("a.example.com");
    snap.certificates[0] = {"demo/a", {"a.example.com"}, b.cert, b.key};
    auto rotated = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(rotated);
    EXPECT_NE((*rotated)->server.get(), context);
    EXPECT_EQ((*rotated)->server->store().fallback().name, "demo/a");
    EXPECT_NE(&(*rotated)->server->store().fallback(), old_a);
    context = (*rotated)->server.get();

    // Another default (the self-signed fallback): a new context.
    snap.default_certificate.clear();
    auto undefaulted = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(undefaulted);
    EXPECT_NE((*undefaulted)->server.get(), context);
    EXPECT_EQ((*undefaulted)->server->store().fallback().name, "self-signed default");
    context = (*undefaulted)->server.get();

    // A certificate removed: a new context that no longer serves it.
    snap.certificates.pop_back();
    auto removed = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(removed);
    EXPECT_NE((*removed)->server.get(), context);
    EXPECT_EQ((*removed)->server->store().size(), 1u);

    // A failing rotation keeps the last good certificate: nothing the context
    // is made from changed, so it is reused, and the problem still reported.
    context = (*removed)->server.get();
    snap.certificates[0].key_pem = a.key;
    auto broken = builder.build(snap, std::time(nullptr));
    ASSERT_TRUE(broken);
    EXPECT_EQ((*broken)->server.get(), context);
    ASSERT_EQ((*broken)->problems.size(), 1u);
    EXPECT_NE((*broken)->problems[0].find("previous good"), std::string::npos);
}

TEST(TlsStateBuilder, SelfSignedDefaultWhenNoneConfigured) {
    TlsStateBuilder builder(std::make_shared<TicketKeyRing>());
    auto built = builder.build(snapshot::Snapshot{}, std::time(nullptr));
    ASSERT_TRUE(built);
    EXPECT_EQ((*built)->server->store().select("anything.example"), &(*built)->server->store().fallback());
    EXPECT_EQ((*built)->server->store().size(), 0u);
    EXPECT_TRUE((*built)->passthrough.empty());
}

}  // namespace
}  // namespace xgress::tls

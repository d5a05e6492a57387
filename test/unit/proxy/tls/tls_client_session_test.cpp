// The upstream side of TLS (TlsClientSession over UpstreamTls) against our own
// server side (TlsSession), both fed bytes in memory as the worker feeds them:
// handshake, data both ways, SNI, verification against a CA (good, wrong CA,
// wrong name), resumption with the session a first connection collected.
#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "test_certificates.h"
#include "tls/tls_client_session.h"
#include "tls/tls_session.h"
#include "tls/tls_state.h"

namespace xgress::tls {
namespace {

class TlsClientSessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        backend_ = test::make_certificate("api.shop.svc", "DNS:api.shop.svc");
        other_ = test::make_certificate("api.shop.svc", "DNS:api.shop.svc");  // same name, other key
        snapshot::Snapshot snap;
        snap.certificates.push_back({"shop/api-tls", {"api.shop.svc"}, backend_.cert, backend_.key});
        snap.default_certificate = "shop/api-tls";
        builder_ = std::make_unique<TlsStateBuilder>(std::make_shared<TicketKeyRing>());
        auto built = builder_->build(snap, std::time(nullptr));
        ASSERT_TRUE(built) << built.error();
        state_ = *built;
    }

    // Runs a handshake plus one request/response; returns the client's status.
    struct Result {
        bool ok = false;
        bool resumed = false;
        std::string error;
        std::string server_sni;
        std::string response;
        std::string request_seen;
    };
    Result exchange(const UpstreamTlsConfig& config, SSL_SESSION* resume, TlsClientSession& client) {
        Result r;
        auto ctx = UpstreamTls::get(config);
        if (!ctx) {
            r.error = ctx.error();
            return r;
        }
        TlsSession server;
        EXPECT_TRUE(server.start(state_->server, nullptr));
        if (!client.start(*ctx, resume)) {
            r.error = client.error();
            return r;
        }
        std::string server_plain, client_plain;
        bool sent_request = false, sent_response = false;
        for (int round = 0; round < 20; ++round) {
            if (!client.outbound().empty()) {
                std::string bytes;
                bytes.swap(client.outbound());
                if (server.receive(bytes, server_plain) == TlsSession::Status::Error) break;
            }
            if (client.handshake_done() && !sent_request) {
                EXPECT_EQ(client.send("GET / HTTP/1.1\r\n\r\n"), TlsClientSession::Status::Ok);
                sent_request = true;
            }
            if (server.handshake_done() && !sent_response && !server_plain.empty()) {
                EXPECT_EQ(server.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), TlsSession::Status::Ok);
                sent_response = true;
            }
            if (!server.outbound().empty()) {
                std::string bytes;
                bytes.swap(server.outbound());
                if (client.receive(bytes, client_plain) == TlsClientSession::Status::Error) break;
            }
            if (client.outbound().empty() && server.outbound().empty() && sent_response) break;
        }
        if (const char* sni = SSL_get_servername(server.ssl(), TLSEXT_NAMETYPE_host_name)) r.server_sni = sni;
        r.ok = client.handshake_done() && client.error().empty();
        r.resumed = client.resumed();
        r.error = client.error();
        r.response = client_plain;
        r.request_seen = server_plain;
        return r;
    }

    test::PemPair backend_, other_;
    std::unique_ptr<TlsStateBuilder> builder_;
    std::shared_ptr<const TlsState> state_;
};

TEST_F(TlsClientSessionTest, HandshakeSendsSniAndCarriesDataBothWays) {
    TlsClientSession c;
    auto r = exchange({.server_name = "api.shop.svc"}, nullptr, c);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.server_sni, "api.shop.svc");
    EXPECT_EQ(r.request_seen, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.response, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_FALSE(r.resumed);
}

TEST_F(TlsClientSessionTest, NoVerificationAcceptsAnyCertificate) {
    TlsClientSession c;
    auto r = exchange({.server_name = "unrelated.example"}, nullptr, c);
    EXPECT_TRUE(r.ok) << r.error;
}

TEST_F(TlsClientSessionTest, VerificationAcceptsTheRightCaAndName) {
    TlsClientSession c;
    auto r = exchange({.server_name = "api.shop.svc", .verify = true, .ca_pem = backend_.cert}, nullptr, c);
    EXPECT_TRUE(r.ok) << r.error;
}

TEST_F(TlsClientSessionTest, VerificationRejectsAnotherCa) {
    TlsClientSession c;
    auto r = exchange({.server_name = "api.shop.svc", .verify = true, .ca_pem = other_.cert}, nullptr, c);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
    EXPECT_TRUE(r.response.empty());
}

TEST_F(TlsClientSessionTest, VerificationRejectsAnotherName) {
    TlsClientSession c;
    auto r = exchange({.server_name = "web.shop.svc", .verify = true, .ca_pem = backend_.cert}, nullptr, c);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("hostname mismatch"), std::string::npos) << r.error;
}

TEST_F(TlsClientSessionTest, BadCaIsAnError) {
    EXPECT_FALSE(UpstreamTls::get({.server_name = "x", .verify = true, .ca_pem = "garbage"}));
}

TEST_F(TlsClientSessionTest, VerificationWithoutCaTrustsNothing) {
    TlsClientSession c;
    auto r = exchange({.server_name = "api.shop.svc", .verify = true, .ca_pem = ""}, nullptr, c);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
}

TEST_F(TlsClientSessionTest, EqualSettingsShareOneContextAndDistinctOnesDoNot) {
    auto a = UpstreamTls::get({.server_name = "api.shop.svc"});
    auto b = UpstreamTls::get({.server_name = "api.shop.svc"});
    auto c = UpstreamTls::get({.server_name = "web.shop.svc"});
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->get(), b->get());
    EXPECT_NE((*a)->pool_tag(), (*c)->pool_tag());
}

TEST_F(TlsClientSessionTest, SecondConnectionResumesWithTheCollectedSession) {
    UpstreamTlsConfig config{.server_name = "api.shop.svc"};
    TlsClientSession first;
    auto r1 = exchange(config, nullptr, first);
    ASSERT_TRUE(r1.ok) << r1.error;
    SSL_SESSION* session = first.take_session();  // a TLS 1.3 ticket, collected after the handshake
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(first.take_session(), nullptr);  // handed out once
    first.reset();  // the first connection is gone (as a pooled one that timed out) before the next starts
    TlsClientSession second;
    auto r2 = exchange(config, session, second);
    ASSERT_TRUE(r2.ok) << r2.error;
    EXPECT_TRUE(r2.resumed);
    SSL_SESSION_free(session);
}

TEST_F(TlsClientSessionTest, GarbageFromTheUpstreamIsAnError) {
    auto ctx = UpstreamTls::get({.server_name = "api.shop.svc"});
    ASSERT_TRUE(ctx);
    TlsClientSession c;
    ASSERT_TRUE(c.start(*ctx, nullptr));
    EXPECT_FALSE(c.outbound().empty());  // ClientHello queued
    std::string plain;
    EXPECT_EQ(c.receive("HTTP/1.1 400 Bad Request\r\n\r\n", plain), TlsClientSession::Status::Error);
    EXPECT_FALSE(c.error().empty());
    EXPECT_TRUE(plain.empty());
}

}  // namespace
}  // namespace xgress::tls

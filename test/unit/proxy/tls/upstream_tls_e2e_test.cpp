// Upstream TLS (backend-protocol HTTPS) end to end on loopback, no root: a
// plain-HTTP client → the proxy under test → TLS → a second in-process proxy
// that terminates TLS with our server side (--listen-tls) → an echo backend.
// Checks: requests arrive with SNI = the route's server name; pooled
// connections are reused; a new connection to the same endpoint resumes the
// session; verification against the right CA works, against another CA
// and against a plain-HTTP endpoint it fails with 502 and is counted.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "proxy_server.h"
#include "../loopback_http.h"
#include "test_certificates.h"

using namespace xgress;
using namespace std::chrono_literals;
using xgress::testing::backend_of;
using xgress::testing::Conn;
using xgress::testing::EchoBackend;

namespace {

// What a plain HTTP server does with a ClientHello: answers 400 and closes.
class PlainHttpOnly {
public:
    PlainHttpOnly() {
        fd_ = xgress::testing::listen_loopback(port_);
        thread_ = std::thread([this] {
            for (;;) {
                int c = accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                char buf[4096];
                if (recv(c, buf, sizeof buf, 0) > 0)
                    xgress::testing::send_all(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                close(c);
            }
        });
    }
    ~PlainHttpOnly() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
    }
    std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }

private:
    int fd_ = -1, port_ = 0;
    std::thread thread_;
};

class UpstreamTlsE2E : public ::testing::Test {
protected:
    void SetUp() override {
        api_cert_ = tls::test::make_certificate("api.shop.svc", "DNS:api.shop.svc");
        other_ca_ = tls::test::make_certificate("api.shop.svc", "DNS:api.shop.svc");
        // The TLS endpoint: our own server side in front of the echo backend.
        auto tls_end = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {},
                                                       .admin = "", .listen_tls = "127.0.0.1:0"});
        ASSERT_TRUE(tls_end) << tls_end.error();
        endpoint_ = std::move(*tls_end);
        snapshot::Snapshot e;
        e.version = 1;
        e.backends = {{"echo", {{"127.0.0.1", echo_.port()}}}};
        e.virtual_hosts = {{"", {{"/", snapshot::PathMatch::Prefix, "echo"}}, ""}};
        e.certificates = {{"shop/api-tls", {"api.shop.svc"}, api_cert_.cert, api_cert_.key}};
        e.default_certificate = "shop/api-tls";
        ASSERT_TRUE(endpoint_->apply(e));

        // The proxy under test: a short upstream idle timeout lets a test
        // force a new upstream connection (and so a resumed handshake).
        io::WorkerOptions w;
        w.upstream_idle_timeout_ms = 150;
        w.timer_tick_ms = 50;
        auto front = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = w, .admin = ""});
        ASSERT_TRUE(front) << front.error();
        proxy_ = std::move(*front);
        ASSERT_TRUE(proxy_->apply(snapshot()));
    }

    snapshot::Route https_route(std::string path, std::string backend, bool verify, std::string ca) {
        snapshot::Route r{.path = std::move(path), .match = snapshot::PathMatch::Prefix, .backend = std::move(backend)};
        r.backend_protocol = snapshot::BackendProtocol::Https;
        r.upstream_server_name = "api.shop.svc";
        r.upstream_verify = verify;
        r.upstream_ca_pem = std::move(ca);
        return r;
    }

    snapshot::Snapshot snapshot() {
        snapshot::Snapshot s;
        s.version = 1;
        const auto tls_port = static_cast<std::uint16_t>(endpoint_->tls_port());
        s.backends = {{"shop/api:443", {{"127.0.0.1", tls_port}}},
                      {"shop/plain:80", {{"127.0.0.1", plain_.port()}}},
                      {"shop/junk:80", {{"127.0.0.1", junk_.port()}}}};
        s.virtual_hosts = {{"",
                            {https_route("/secure", "shop/api:443", false, ""),
                             https_route("/verified", "shop/api:443", true, api_cert_.cert),
                             https_route("/wrong-ca", "shop/api:443", true, other_ca_.cert),
                             https_route("/not-tls", "shop/junk:80", false, ""),
                             {.path = "/plain", .match = snapshot::PathMatch::Prefix, .backend = "shop/plain:80"}},
                            ""}};
        return s;
    }

    EchoBackend echo_{"api"};
    EchoBackend plain_{"plain"};
    PlainHttpOnly junk_;
    tls::test::PemPair api_cert_, other_ca_;
    std::unique_ptr<ProxyServer> endpoint_;
    std::unique_ptr<ProxyServer> proxy_;
};

TEST_F(UpstreamTlsE2E, RequestsReachTheEndpointOverTlsAndTheConnectionIsReused) {
    Conn c(proxy_->port());
    for (int i = 0; i < 3; ++i) {
        auto m = c.get("shop.example.com", "/secure/" + std::to_string(i));
        ASSERT_EQ(m.status, 200) << m.head;
        EXPECT_EQ(backend_of(m.body), "api");
        // The endpoint terminated TLS: it forwards X-Forwarded-Proto https.
        EXPECT_NE(m.body.find("GET /secure/" + std::to_string(i)), std::string::npos) << m.body;
    }
    auto t = proxy_->stats();
    EXPECT_EQ(t.upstream_tls_handshakes, 1u);  // one upstream connection, reused from the pool
    EXPECT_EQ(t.upstream_tls_errors, 0u);
    EXPECT_EQ(endpoint_->stats().tls_handshakes, 1u);
    // Plain routes to other backends are unaffected.
    EXPECT_EQ(backend_of(c.get("shop.example.com", "/plain").body), "plain");
}

TEST_F(UpstreamTlsE2E, NewUpstreamConnectionResumesTheSession) {
    Conn c(proxy_->port());
    ASSERT_EQ(c.get("shop.example.com", "/secure/a").status, 200);
    std::this_thread::sleep_for(500ms);  // the idle upstream connection times out
    ASSERT_EQ(c.get("shop.example.com", "/secure/b").status, 200);
    auto t = proxy_->stats();
    EXPECT_EQ(t.upstream_tls_handshakes, 2u);
    EXPECT_EQ(t.upstream_tls_resumed, 1u);
    EXPECT_EQ(endpoint_->stats().tls_resumed, 1u);
}

TEST_F(UpstreamTlsE2E, VerificationWithTheRightCaSucceeds) {
    Conn c(proxy_->port());
    auto m = c.get("shop.example.com", "/verified");
    EXPECT_EQ(m.status, 200) << m.head;
    EXPECT_EQ(proxy_->stats().upstream_tls_errors, 0u);
}

TEST_F(UpstreamTlsE2E, VerificationFailureIs502AndCounted) {
    Conn c(proxy_->port());
    auto m = c.get("shop.example.com", "/wrong-ca");
    EXPECT_EQ(m.status, 502) << m.head;
    EXPECT_EQ(proxy_->stats().upstream_tls_errors, 1u);
    EXPECT_EQ(proxy_->stats().generated_count(502), 1u);
}

TEST_F(UpstreamTlsE2E, PlainHttpEndpointBehindAnHttpsRouteIs502AndCounted) {
    Conn c(proxy_->port());
    auto m = c.get("shop.example.com", "/not-tls");
    EXPECT_EQ(m.status, 502) << m.head;
    EXPECT_EQ(proxy_->stats().upstream_tls_errors, 1u);
    // A plain route to the same endpoint does not pick up the failed TLS one.
    Conn d(proxy_->port());
    EXPECT_EQ(backend_of(d.get("shop.example.com", "/plain").body), "plain");
}

}  // namespace

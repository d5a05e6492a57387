// A WebSocket-style tunnel (101 Switching Protocols) over a TLS client
// connection: when the upstream half-closes, the client must get TLS
// close_notify before the TCP FIN — otherwise it cannot tell the end of the
// stream from a truncation (OpenSSL 3 reports "unexpected eof"). The same
// towards a TLS upstream (backend-protocol HTTPS) when the client half-closes.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "proxy_server.h"
#include "../loopback_http.h"
#include "test_certificates.h"

using namespace xgress;

namespace {

// Answers the upgrade with 101 and one message, then half-closes and waits for the client's end.
class UpgradeThenHalfClose {
public:
    UpgradeThenHalfClose() {
        fd_ = xgress::testing::listen_loopback(port_);
        thread_ = std::thread([this] {
            int c = xgress::testing::accept_with_timeout(fd_);
            if (c < 0) return;
            std::string in;
            char buf[4096];
            while (in.find("\r\n\r\n") == std::string::npos) {
                ssize_t n = recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                in.append(buf, static_cast<std::size_t>(n));
            }
            xgress::testing::send_all(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                         "Connection: Upgrade\r\n\r\nhello");
            shutdown(c, SHUT_WR);
            while (recv(c, buf, sizeof buf, 0) > 0) {}  // until the client's side ends
            client_ended = true;
            close(c);
        });
    }
    ~UpgradeThenHalfClose() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
    }
    std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }
    std::atomic<bool> client_ended{false};

private:
    int fd_ = -1, port_ = 0;
    std::thread thread_;
};

TEST(TlsTunnelE2E, UpstreamHalfCloseReachesTheClientAsCloseNotify) {
    UpgradeThenHalfClose backend;
    auto pem = tls::test::make_certificate("ws.example.com", "DNS:ws.example.com");
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = "",
                                                  .listen_tls = "127.0.0.1:0"});
    ASSERT_TRUE(server) << server.error();
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"ws", {{"127.0.0.1", backend.port()}}}};
    s.virtual_hosts = {{"", {{"/", snapshot::PathMatch::Prefix, "ws"}}, ""}};
    s.certificates = {{"demo/ws", {"ws.example.com"}, pem.cert, pem.key}};
    ASSERT_TRUE((*server)->apply(s));

    int fd = xgress::testing::connect_loopback((*server)->tls_port());
    ASSERT_GE(fd, 0);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "ws.example.com");
    ASSERT_EQ(SSL_connect(ssl), 1);
    const std::string req = "GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    ASSERT_GT(SSL_write(ssl, req.data(), static_cast<int>(req.size())), 0);
    std::string got;
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    const int err = SSL_get_error(ssl, n);
    EXPECT_NE(got.find("101 Switching Protocols"), std::string::npos) << got;
    EXPECT_TRUE(got.ends_with("hello")) << got;
    EXPECT_EQ(err, SSL_ERROR_ZERO_RETURN) << "expected close_notify, got SSL error " << err;
    ERR_clear_error();
    // The client ends its side too; the backend sees the end.
    SSL_shutdown(ssl);
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < 50 && !backend.client_ended; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(backend.client_ended);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
}

// A TLS endpoint (backend-protocol HTTPS) that answers the upgrade with 101
// and one message, then reads until the stream ends and records how:
// close_notify (SSL_ERROR_ZERO_RETURN) or a bare TCP FIN.
class TlsUpgradeEndpoint {
public:
    explicit TlsUpgradeEndpoint(const tls::test::PemPair& pem) {
        ctx_ = SSL_CTX_new(TLS_server_method());
        BIO* cb = BIO_new_mem_buf(pem.cert.data(), static_cast<int>(pem.cert.size()));
        BIO* kb = BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size()));
        X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
        EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
        SSL_CTX_use_certificate(ctx_, cert);
        SSL_CTX_use_PrivateKey(ctx_, key);
        X509_free(cert);
        EVP_PKEY_free(key);
        BIO_free(cb);
        BIO_free(kb);
        fd_ = xgress::testing::listen_loopback(port_);
        thread_ = std::thread([this] {
            int c = xgress::testing::accept_with_timeout(fd_);
            if (c < 0) return;
            SSL* ssl = SSL_new(ctx_);
            SSL_set_fd(ssl, c);
            if (SSL_accept(ssl) == 1) {
                std::string in;
                char buf[4096];
                int n = 0;
                while (in.find("\r\n\r\n") == std::string::npos && (n = SSL_read(ssl, buf, sizeof buf)) > 0)
                    in.append(buf, static_cast<std::size_t>(n));
                const std::string answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                           "Connection: Upgrade\r\n\r\nhello";
                SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
                while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {}
                end_error = SSL_get_error(ssl, n);
                ERR_clear_error();
            }
            ended = true;
            SSL_free(ssl);
            close(c);
        });
    }
    ~TlsUpgradeEndpoint() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        SSL_CTX_free(ctx_);
    }
    std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }
    std::atomic<bool> ended{false};
    std::atomic<int> end_error{-1};

private:
    SSL_CTX* ctx_ = nullptr;
    int fd_ = -1, port_ = 0;
    std::thread thread_;
};

TEST(TlsTunnelE2E, ClientHalfCloseReachesATlsUpstreamAsCloseNotify) {
    auto pem = tls::test::make_certificate("ws.shop.svc", "DNS:ws.shop.svc");
    TlsUpgradeEndpoint endpoint(pem);
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"ws", {{"127.0.0.1", endpoint.port()}}}};
    snapshot::Route r{.path = "/", .match = snapshot::PathMatch::Prefix, .backend = "ws"};
    r.backend_protocol = snapshot::BackendProtocol::Https;
    r.upstream_server_name = "ws.shop.svc";
    s.virtual_hosts = {{"", {r}, ""}};
    ASSERT_TRUE((*server)->apply(s));

    int fd = xgress::testing::connect_loopback((*server)->port());
    ASSERT_GE(fd, 0);
    xgress::testing::send_all(fd, "GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\n\r\n");
    std::string got;
    char buf[4096];
    while (!got.ends_with("hello")) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_NE(got.find("101 Switching Protocols"), std::string::npos) << got;
    shutdown(fd, SHUT_WR);  // the client is done sending
    for (int i = 0; i < 100 && !endpoint.ended; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(endpoint.ended);
    EXPECT_EQ(endpoint.end_error, SSL_ERROR_ZERO_RETURN) << "expected close_notify, got SSL error " << endpoint.end_error;
    close(fd);
}

}  // namespace

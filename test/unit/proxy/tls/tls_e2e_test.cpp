// HTTPS end to end on loopback: the proxy runs in-process (--listen-tls, and an
// HTTPS frontend on the plain listener), an OpenSSL client on a real socket,
// small blocking backends. Checks what the worker's TLS transport adds:
// handshakes through io_uring, X-Forwarded-Proto, SNI certificates, rotation
// without disturbing an open connection, passthrough, garbage, counters.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy_server.h"
#include "../loopback_http.h"
#include "test_certificates.h"

using namespace xgress;
using namespace std::chrono_literals;

namespace {

using xgress::testing::listen_loopback;
using xgress::testing::connect_loopback;
using xgress::testing::send_all;


std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// HTTP backend: answers "proto=<X-Forwarded-Proto> path=<path>"; /big answers 1 MiB.
class Backend {
public:
    int port() const { return server_.port(); }

private:
    void handle(int c) {
        xgress::testing::set_recv_timeout(c);
        std::string pending;
        for (;;) {
            const std::size_t end = xgress::testing::recv_head(c, pending);
            if (end == std::string::npos) {
                close(c);
                return;
            }
            std::string head = pending.substr(0, end + 2);
            pending.erase(0, end + 4);
            std::string path = head.substr(head.find(' ') + 1);
            path = path.substr(0, path.find(' '));
            std::string l = lower(head);
            std::size_t p = l.find("\r\nx-forwarded-proto:");
            std::string proto = p == std::string::npos ? "" : head.substr(p + 21, head.find("\r\n", p + 2) - p - 21);
            std::string body = path == "/big" ? std::string(1 << 20, 'z') : "proto=" + proto + " path=" + path;
            send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        }
    }
    xgress::testing::LoopbackServer server_{[this](int c) { handle(c); }};
};

// Raw TCP backend for passthrough: records what arrives, answers "raw-backend".
class RawBackend {
public:
    RawBackend() {
        fd_ = listen_loopback(port_);
        thread_ = std::thread([this] {
            int c = xgress::testing::accept_with_timeout(fd_);
            if (c < 0) return;
            char buf[16384];
            ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n > 0) received.assign(buf, static_cast<std::size_t>(n));
            got = true;
            send_all(c, "raw-backend");
            close(c);
        });
    }
    ~RawBackend() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
    }
    int port() const { return port_; }
    std::string received;
    std::atomic<bool> got{false};

private:
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

// A blocking OpenSSL client connection.
struct TlsClient {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;
    int fd = -1;
    bool ok = false;
    TlsClient(int port, const std::string& sni) {
        fd = connect_loopback(port);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
        ok = fd >= 0 && SSL_connect(ssl) == 1;
        ERR_clear_error();
    }
    ~TlsClient() {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        if (fd >= 0) close(fd);
    }
    std::string peer_cn() {
        X509* x = SSL_get1_peer_certificate(ssl);
        if (!x) return {};
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
        X509_free(x);
        return cn;
    }
    // One GET; returns the body ("" on failure).
    std::string get(const std::string& path, const std::string& host) {
        std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
        if (SSL_write(ssl, req.data(), static_cast<int>(req.size())) <= 0) return {};
        std::string in;
        char buf[16384];
        std::size_t end;
        while ((end = in.find("\r\n\r\n")) == std::string::npos) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) return {};
            in.append(buf, static_cast<std::size_t>(n));
        }
        std::string l = lower(in.substr(0, end));
        std::size_t p = l.find("content-length:");
        if (p == std::string::npos) return {};
        std::size_t len = std::stoul(l.substr(p + 15));
        while (in.size() < end + 4 + len) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) return {};
            in.append(buf, static_cast<std::size_t>(n));
        }
        return in.substr(end + 4, len);
    }
};

class TlsE2E : public ::testing::Test {
protected:
    void SetUp() override {
        shop_ = tls::test::make_certificate("shop.example.com", "DNS:shop.example.com");
        other_ = tls::test::make_certificate("default.example.com", "DNS:default.example.com");
        auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 2, .worker = {},
                                                      .admin = "", .listen_tls = "127.0.0.1:0"});
        ASSERT_TRUE(server) << server.error();
        proxy_ = std::move(*server);
        ASSERT_TRUE(proxy_->apply(snapshot(1, shop_)));
    }

    snapshot::Snapshot snapshot(std::uint64_t version, const tls::test::PemPair& shop, bool https_frontend = false) {
        snapshot::Snapshot s;
        s.version = version;
        s.backends = {{"web", {{"127.0.0.1", static_cast<std::uint16_t>(backend_.port())}}},
                      {"raw", {{"127.0.0.1", static_cast<std::uint16_t>(raw_.port())}}}};
        s.virtual_hosts = {{"", {{"/", snapshot::PathMatch::Prefix, "web"}}, ""},
                           {"pass.example.com", {}, "raw"}};
        s.certificates = {{"demo/shop", {"shop.example.com"}, shop.cert, shop.key},
                          {"demo/default", {"default.example.com"}, other_.cert, other_.key}};
        s.default_certificate = "demo/default";
        if (https_frontend)
            s.frontends = {{"127.0.0.1", static_cast<std::uint16_t>(proxy_->port()), snapshot::FrontendProtocol::Https, ""}};
        return s;
    }

    Backend backend_;
    RawBackend raw_;
    tls::test::PemPair shop_, other_;
    std::unique_ptr<ProxyServer> proxy_;
};

TEST_F(TlsE2E, HttpsThroughTheTlsListenerSaysHttpsUpstream) {
    TlsClient c(proxy_->tls_port(), "shop.example.com");
    ASSERT_TRUE(c.ok);
    EXPECT_EQ(c.peer_cn(), "shop.example.com");
    EXPECT_EQ(c.get("/one", "shop.example.com"), "proto=https path=/one");
    EXPECT_EQ(c.get("/two", "shop.example.com"), "proto=https path=/two");  // keep-alive
    EXPECT_EQ(c.get("/big", "shop.example.com").size(), 1u << 20);
    auto t = proxy_->stats();
    EXPECT_GE(t.tls_handshakes, 1u);
    EXPECT_EQ(t.tls_handshake_errors, 0u);
}

TEST_F(TlsE2E, SniMissAndNoSniGetTheDefaultCertificate) {
    TlsClient miss(proxy_->tls_port(), "nobody.example.com");
    ASSERT_TRUE(miss.ok);
    EXPECT_EQ(miss.peer_cn(), "default.example.com");
    TlsClient none(proxy_->tls_port(), "");
    ASSERT_TRUE(none.ok);
    EXPECT_EQ(none.peer_cn(), "default.example.com");
}

TEST_F(TlsE2E, HttpsFrontendOnThePlainListener) {
    ASSERT_TRUE(proxy_->apply(snapshot(2, shop_, true)));
    std::this_thread::sleep_for(50ms);  // workers pick tables up on their next batch
    TlsClient c(proxy_->port(), "shop.example.com");
    ASSERT_TRUE(c.ok);
    EXPECT_EQ(c.get("/f", "shop.example.com"), "proto=https path=/f");
}

TEST_F(TlsE2E, RotationKeepsOpenConnectionsAndServesNewHandshakes) {
    TlsClient before(proxy_->tls_port(), "shop.example.com");
    ASSERT_TRUE(before.ok);
    ASSERT_EQ(before.get("/a", "shop.example.com"), "proto=https path=/a");
    X509* old_cert = SSL_get1_peer_certificate(before.ssl);

    auto rotated = tls::test::make_certificate("shop.example.com", "DNS:shop.example.com");
    ASSERT_TRUE(proxy_->apply(snapshot(2, rotated)));
    std::this_thread::sleep_for(50ms);

    EXPECT_EQ(before.get("/b", "shop.example.com"), "proto=https path=/b");  // same connection goes on
    TlsClient after(proxy_->tls_port(), "shop.example.com");
    ASSERT_TRUE(after.ok);
    X509* new_cert = SSL_get1_peer_certificate(after.ssl);
    EXPECT_NE(X509_cmp(old_cert, new_cert), 0);
    X509_free(old_cert);
    X509_free(new_cert);

    // A broken rotation keeps the last good certificate, reported, not NACKed.
    auto broken = rotated;
    broken.key = other_.key;
    ASSERT_TRUE(proxy_->apply(snapshot(3, broken)));
    EXPECT_EQ(proxy_->stats().tls_certificate_problems, 1u);
    std::this_thread::sleep_for(50ms);
    TlsClient kept(proxy_->tls_port(), "shop.example.com");
    ASSERT_TRUE(kept.ok);
    X509* kept_cert = SSL_get1_peer_certificate(kept.ssl);
    X509* rotated_cert = SSL_get1_peer_certificate(after.ssl);
    EXPECT_EQ(X509_cmp(kept_cert, rotated_cert), 0);
    X509_free(kept_cert);
    X509_free(rotated_cert);
}

TEST_F(TlsE2E, PassthroughRelaysTheClientHelloUndecrypted) {
    int fd = connect_loopback(proxy_->tls_port());
    ASSERT_GE(fd, 0);
    // A real ClientHello made by OpenSSL on memory BIOs.
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    BIO* rb = BIO_new(BIO_s_mem());
    BIO* wb = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rb, wb);
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, "pass.example.com");
    SSL_do_handshake(ssl);
    char* data = nullptr;
    long len = BIO_get_mem_data(wb, &data);
    std::string hello(data, static_cast<std::size_t>(len));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();

    send_all(fd, hello);
    std::string answer;
    char buf[256];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<std::size_t>(n));
    close(fd);
    EXPECT_EQ(answer, "raw-backend");
    EXPECT_TRUE(raw_.got);
    EXPECT_EQ(raw_.received, hello);
    EXPECT_EQ(proxy_->stats().tls_passthrough, 1u);
}

TEST_F(TlsE2E, GarbageIsClosedAndCounted) {
    for (std::string junk : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10)}) {
        int fd = connect_loopback(proxy_->tls_port());
        ASSERT_GE(fd, 0);
        send_all(fd, junk);
        char buf[256];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {}
        EXPECT_EQ(n, 0);  // closed, not timed out
        close(fd);
    }
    EXPECT_EQ(proxy_->stats().tls_handshake_errors, 2u);
    TlsClient c(proxy_->tls_port(), "shop.example.com");  // still serving
    ASSERT_TRUE(c.ok);
    EXPECT_EQ(c.get("/ok", "shop.example.com"), "proto=https path=/ok");
}

}  // namespace

namespace {

// A client that starts a handshake and stalls is closed after
// tls_handshake_timeout_ms and counted; a finished handshake then falls under
// the keep-alive timer, so a connection idle for longer than the handshake
// timeout still serves requests.
TEST_F(TlsE2E, StalledHandshakeIsClosedAfterTheHandshakeTimeout) {
    io::WorkerOptions worker;
    worker.tls_handshake_timeout_ms = 300;
    worker.timer_tick_ms = 20;
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = worker,
                                                  .admin = "", .listen_tls = "127.0.0.1:0"});
    ASSERT_TRUE(server) << server.error();
    ASSERT_TRUE((*server)->apply(snapshot(1, shop_)));

    int fd = connect_loopback((*server)->tls_port());
    ASSERT_GE(fd, 0);
    send_all(fd, std::string("\x16\x03\x01\x02\x00", 5));  // a record header announcing 512 bytes, then nothing
    const auto start = std::chrono::steady_clock::now();
    char buf[64];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {}
    const auto waited = std::chrono::steady_clock::now() - start;
    close(fd);
    EXPECT_EQ(n, 0);  // closed by the proxy, not our 5 s receive timeout
    EXPECT_LT(waited, 3s);
    EXPECT_GE(waited, 200ms);
    EXPECT_EQ((*server)->stats().tls_handshake_errors, 1u);
    EXPECT_GE((*server)->stats().client_timeouts, 1u);

    TlsClient c((*server)->tls_port(), "shop.example.com");
    ASSERT_TRUE(c.ok);
    std::this_thread::sleep_for(600ms);  // twice the handshake timeout, far below keep-alive
    EXPECT_EQ(c.get("/later", "shop.example.com"), "proto=https path=/later");
    EXPECT_EQ((*server)->stats().tls_handshake_errors, 1u);
}

}  // namespace

// Graceful drain: in-flight requests finish (answered Connection: close),
// idle keep-alive connections are closed, new connections are refused, and
// drain() returns once nothing is left (or at its timeout).
#include <gtest/gtest.h>

#include <future>

#include "loopback_http.h"
#include "proxy_server.h"

using namespace xgress;
using namespace xgress::testing;
using namespace std::chrono_literals;

TEST(Drain, InFlightRequestFinishesIdleConnectionsCloseNewOnesAreRefused) {
    EchoBackend echo("E", 800ms);
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 2, .worker = {}, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    auto& proxy = *server;
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"e", {{"127.0.0.1", echo.port()}}}};
    s.default_backend = "e";
    ASSERT_TRUE(proxy->apply(s));
    const int port = proxy->port();

    Conn idle(port);
    ASSERT_EQ(idle.get("d.test", "/warm").status, 200);  // a keep-alive connection, now idle
    Conn busy(port);
    send_all(busy.fd, "GET /sleep HTTP/1.1\r\nHost: d.test\r\n\r\n");
    std::this_thread::sleep_for(200ms);  // the request is with the backend

    const auto t0 = std::chrono::steady_clock::now();
    auto drained = std::async(std::launch::async, [&] { return proxy->drain(5000); });
    EXPECT_TRUE(idle.closed_by_peer()) << "idle keep-alive connection closed at drain start";
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(connect_loopback(port), -1) << "listener closed: new connections are refused";

    auto r = busy.read();
    EXPECT_EQ(r.status, 200) << "the in-flight request completes";
    EXPECT_EQ(header_of(r.head, "connection"), "close");
    EXPECT_TRUE(drained.get()) << "nothing left before the timeout";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(Drain, TimeoutBoundsTheWait) {
    EchoBackend echo("E", 3000ms);
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"e", {{"127.0.0.1", echo.port()}}}};
    s.default_backend = "e";
    ASSERT_TRUE((*server)->apply(s));
    Conn busy((*server)->port());
    send_all(busy.fd, "GET /sleep HTTP/1.1\r\nHost: d.test\r\n\r\n");
    std::this_thread::sleep_for(100ms);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE((*server)->drain(300)) << "the 3 s request outlives a 300 ms drain";
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 1500ms);
}

TEST(Drain, TunnelIsClosedAtTheDeadline) {
    // An L4 (tcp) frontend turns the connection into a tunnel: it has no
    // request boundary to finish at, so the drain ends it at the deadline.
    EchoBackend echo("E", 0ms);
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"e", {{"127.0.0.1", echo.port()}}}};
    s.frontends = {{"127.0.0.1", static_cast<std::uint16_t>((*server)->port()), snapshot::FrontendProtocol::Tcp, "e"}};
    ASSERT_TRUE((*server)->apply(s));
    Conn tunnel((*server)->port());
    ASSERT_EQ(tunnel.get("t.test", "/through").status, 200) << "bytes relayed both ways";
    const auto t0 = std::chrono::steady_clock::now();
    auto drained = std::async(std::launch::async, [&] { return (*server)->drain(300); });
    EXPECT_TRUE(tunnel.closed_by_peer()) << "the tunnel ends at the drain deadline";
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_FALSE(drained.get()) << "an open tunnel is not drained before the deadline";
    EXPECT_GE(took, 250ms) << "kept open until the deadline";
    EXPECT_LT(took, 1500ms);
}

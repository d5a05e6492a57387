// Per-class routing tables end to end: one proxy listener, two dialled
// addresses (127.0.0.1 = the default table's frontend, 127.0.0.2 = class
// "internal"'s), the same Host routed to different backends; and a new
// snapshot that renumbers the tables is followed by open connections.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "loopback_http.h"
#include "proxy_server.h"

using namespace xgress;
using namespace xgress::testing;
using snapshot::FrontendProtocol;
using snapshot::PathMatch;

namespace {

snapshot::Snapshot snapshot_for(std::uint16_t port, std::uint16_t public_port, std::uint16_t internal_port,
                                std::uint64_t version, bool extra_class_first) {
    snapshot::Snapshot s;
    s.version = version;
    s.backends = {{"public", {{"127.0.0.1", public_port}}}, {"internal", {{"127.0.0.1", internal_port}}}};
    if (extra_class_first)  // another class mentioned first: "internal" gets another table number
        s.virtual_hosts.push_back({"other.test", {{"/", PathMatch::Prefix, "public"}}, "", "other"});
    s.virtual_hosts.push_back({"shop.test", {{"/", PathMatch::Prefix, "public"}}});
    s.virtual_hosts.push_back({"shop.test", {{"/", PathMatch::Prefix, "internal"}}, "", "internal"});
    s.frontends = {{"127.0.0.1", port, FrontendProtocol::Http, ""},
                   {"127.0.0.2", port, FrontendProtocol::Http, "", "internal"}};
    return s;
}

}  // namespace

TEST(ClassTablesE2E, SameHostRoutesPerDialledAddress) {
    EchoBackend pub("public"), internal("internal");
    auto server = ProxyServer::start(ProxyOptions{.listen = "0.0.0.0:0", .workers = 1, .worker = {}, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    auto& proxy = **server;
    const auto port = static_cast<std::uint16_t>(proxy.port());
    ASSERT_TRUE(proxy.apply(snapshot_for(port, pub.port(), internal.port(), 1, false)));

    Conn a("127.0.0.1", port), b("127.0.0.2", port);
    ASSERT_GE(a.fd, 0);
    ASSERT_GE(b.fd, 0);
    auto ra = a.get("shop.test", "/");
    auto rb = b.get("shop.test", "/");
    EXPECT_EQ(ra.status, 200);
    EXPECT_EQ(backend_of(ra.body), "public");
    EXPECT_EQ(rb.status, 200);
    EXPECT_EQ(backend_of(rb.body), "internal");

    // The next snapshot numbers the tables differently; the open keep-alive
    // connections find their class again.
    ASSERT_TRUE(proxy.apply(snapshot_for(port, pub.port(), internal.port(), 2, true)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(backend_of(b.get("shop.test", "/").body), "internal");
    EXPECT_EQ(backend_of(a.get("shop.test", "/").body), "public");
    EXPECT_EQ(b.get("other.test", "/").status, 404);  // "other" has no frontend here
    proxy.stop();
}

// Route policies end to end (in-process proxy on loopback, echo backends):
// allow lists, redirects, app root, rewrites, per-route timeouts, the
// forwarding headers, consistent hashing and cookie affinity.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>

#include "loopback_http.h"
#include "proxy_server.h"
#include "router/route_table.h"

using namespace xgress;
using namespace xgress::testing;
using namespace std::chrono_literals;

namespace {

snapshot::Route route(std::string path, std::string backend) {
    snapshot::Route r;
    r.path = std::move(path);
    r.backend = std::move(backend);
    return r;
}

class PolicyE2E : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 3; ++i) echo_.push_back(std::make_unique<EchoBackend>("E" + std::to_string(i)));
        int dead_fd = listen_loopback(dead_port_);
        close(dead_fd);  // nothing listens there any more: connect is refused
        auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 2, .worker = {}, .admin = ""});
        ASSERT_TRUE(server) << server.error();
        proxy_ = std::move(*server);
        auto applied = proxy_->apply(snapshot());
        ASSERT_TRUE(applied) << applied.error();
    }

    snapshot::Snapshot snapshot() {
        snapshot::Snapshot s;
        s.version = 1;
        snapshot::Backend one{"one", {{"127.0.0.1", echo_[0]->port()}}};
        snapshot::Backend three{"three", {}};
        for (auto& e : echo_) three.endpoints.push_back({"127.0.0.1", e->port()});
        snapshot::Backend sticky = three;
        sticky.name = "sticky";
        sticky.affinity = snapshot::Affinity::ClientIp;
        snapshot::Backend half{"half", {{"127.0.0.1", static_cast<std::uint16_t>(dead_port_)}, {"127.0.0.1", echo_[1]->port()}}};
        s.backends = {one, three, sticky, half};
        std::vector<snapshot::Route> routes;
        routes.push_back(route("/deny", "one"));
        routes.back().allowed_sources = {"10.0.0.0/8", "2001:db8::/32"};
        routes.push_back(route("/allow", "one"));
        routes.back().allowed_sources = {"10.0.0.0/8", "127.0.0.0/8"};
        routes.push_back(route("/secure", "one"));
        routes.back().ssl_redirect = true;
        routes.push_back(route("/moved", ""));
        routes.back().redirect = {"https://elsewhere.test/new", 301};
        routes.push_back(route("/api/(v[0-9]+)/(.*)", "one"));
        routes.back().regex = true;
        routes.back().rewrite_target = "/$2/$1";
        routes.push_back(route("/old", "one"));
        routes.back().rewrite_target = "/new";
        routes.push_back(route("/strip", "one"));
        routes.back().rewrite_target = "/";
        routes.push_back(route("/slow", "one"));
        routes.back().read_timeout_ms = 200;
        routes.back().rewrite_target = "/sleep";
        routes.push_back(route("/small", "one"));
        routes.back().max_body_bytes = 10;
        routes.push_back(route("/cookie", "three"));
        routes.back().affinity_cookie = "route";
        routes.push_back(route("/retry-cookie", "half"));
        routes.back().affinity_cookie = "route";
        routes.push_back(route("/hash", "three"));
        routes.back().hash_by = "$arg_id";
        routes.push_back(route("/sticky", "sticky"));
        routes.push_back(route("/", "one"));
        routes.back().app_root = "/app";
        s.virtual_hosts = {{"p.test", routes}};
        return s;
    }

    std::vector<std::unique_ptr<EchoBackend>> echo_;
    std::unique_ptr<ProxyServer> proxy_;
    int dead_port_ = 0;
};

}  // namespace

TEST_F(PolicyE2E, AllowedSourcesAnswer403AndCountIt) {
    Conn c(proxy_->port());
    auto denied = c.get("p.test", "/deny/x");
    EXPECT_EQ(denied.status, 403);
    auto allowed = c.get("p.test", "/allow/x");
    EXPECT_EQ(allowed.status, 200) << "127.0.0.1 is in 127.0.0.0/8; and the connection stayed open";
    EXPECT_EQ(proxy_->stats().generated_count(403), 1u);
    EXPECT_EQ(echo_[0]->requests(), 1);
}

TEST_F(PolicyE2E, RedirectsAndAppRoot) {
    Conn c(proxy_->port());
    auto ssl = c.get("P.test:80", "/secure/a?b=1");
    EXPECT_EQ(ssl.status, 308);
    EXPECT_EQ(header_of(ssl.head, "location"), "https://p.test/secure/a?b=1");
    auto moved = c.get("p.test", "/moved/x");
    EXPECT_EQ(moved.status, 301);
    EXPECT_EQ(header_of(moved.head, "location"), "https://elsewhere.test/new");
    auto root = c.get("p.test", "/");
    EXPECT_EQ(root.status, 302);
    EXPECT_EQ(header_of(root.head, "location"), "/app");
    auto other = c.get("p.test", "/app/index.html");
    EXPECT_EQ(other.status, 200) << "app_root applies to exactly \"/\" only";
    EXPECT_EQ(echo_[0]->requests(), 1);
}

TEST_F(PolicyE2E, RewritesKeepTheQuery) {
    Conn c(proxy_->port());
    auto r1 = c.get("p.test", "/API/v2/users/7?q=1");
    ASSERT_EQ(r1.status, 200);
    EXPECT_EQ(request_line_of(r1.body), "GET /users/7/v2?q=1 HTTP/1.1");
    auto r2 = c.get("p.test", "/old/x/y?z");
    EXPECT_EQ(request_line_of(r2.body), "GET /new/x/y?z HTTP/1.1");
    auto r3 = c.get("p.test", "/strip/x");
    EXPECT_EQ(request_line_of(r3.body), "GET /x HTTP/1.1");
    auto r4 = c.get("p.test", "/strip");
    EXPECT_EQ(request_line_of(r4.body), "GET / HTTP/1.1");
    auto r5 = c.get("p.test", "/other?k=v");
    EXPECT_EQ(request_line_of(r5.body), "GET /other?k=v HTTP/1.1") << "no rewrite: unchanged";
}

TEST_F(PolicyE2E, PerRouteReadTimeoutAndBodyLimit) {
    // /slow is rewritten to /sleep (the backend waits 1 s) with a 200 ms read timeout.
    Conn d(proxy_->port());
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = d.get("p.test", "/slow");
    EXPECT_EQ(slow.status, 504);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);
    Conn c(proxy_->port());
    EXPECT_EQ(c.get("p.test", "/sleep").status, 200) << "the default read timeout (60 s) outlasts the 1 s backend";
    Conn e(proxy_->port());
    send_all(e.fd, "POST /small HTTP/1.1\r\nHost: p.test\r\nContent-Length: 11\r\n\r\nhello world");
    EXPECT_EQ(e.read().status, 413);
    Conn f(proxy_->port());
    send_all(f.fd, "POST /small HTTP/1.1\r\nHost: p.test\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(f.read().status, 200);
}

TEST_F(PolicyE2E, ForwardingHeadersAndRequestIds) {
    Conn c(proxy_->port());
    auto r1 = c.get("p.test", "/h", "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Port: 1\r\n");
    auto r2 = c.get("p.test", "/h");
    auto r3 = c.get("p.test", "/h", "X-Request-ID: from-client\r\n");
    EXPECT_EQ(header_of(r1.body, "x-forwarded-for"), "203.0.113.9, 127.0.0.1");
    EXPECT_EQ(header_of(r2.body, "x-forwarded-for"), "127.0.0.1");
    EXPECT_EQ(header_of(r1.body, "x-forwarded-port"), std::to_string(proxy_->port()));
    EXPECT_EQ(header_of(r1.body, "x-forwarded-proto"), "http");
    EXPECT_EQ(header_of(r1.body, "x-forwarded-host"), "p.test");
    EXPECT_EQ(header_of(r1.body, "x-real-ip"), "127.0.0.1");
    const std::string id1 = header_of(r1.body, "x-request-id"), id2 = header_of(r2.body, "x-request-id");
    EXPECT_EQ(id1.size(), 32u);
    EXPECT_EQ(id1.find_first_not_of("0123456789abcdef"), std::string::npos) << id1;
    EXPECT_NE(id1, id2);
    EXPECT_EQ(header_of(r3.body, "x-request-id"), "from-client");
}

TEST_F(PolicyE2E, CookieAffinityRoundTrip) {
    std::string cookie;
    std::string first;
    {
        Conn c(proxy_->port());
        auto r = c.get("p.test", "/cookie");
        ASSERT_EQ(r.status, 200);
        const std::string set = header_of(r.head, "set-cookie");
        ASSERT_TRUE(set.starts_with("route=")) << r.head;
        EXPECT_NE(set.find("; Path=/; HttpOnly"), std::string::npos) << set;
        cookie = set.substr(6, set.find(';') - 6);
        EXPECT_EQ(cookie.size(), 16u);
        EXPECT_EQ(cookie.find("127.0.0.1"), std::string::npos) << "the endpoint's address is not in clear";
        first = backend_of(r.body);
    }
    for (int i = 0; i < 12; ++i) {
        Conn c(proxy_->port());  // new connections: maybe other workers; the cookie decides
        auto r = c.get("p.test", "/cookie", "Cookie: a=b; route=" + cookie + "\r\n");
        EXPECT_EQ(backend_of(r.body), first);
        EXPECT_EQ(header_of(r.head, "set-cookie"), "") << "a valid cookie is not set again";
    }
    // Without cookies the choice is balanced: all three get some.
    std::set<std::string> seen;
    for (int i = 0; i < 30; ++i) {
        Conn c(proxy_->port());
        seen.insert(backend_of(c.get("p.test", "/cookie").body));
    }
    EXPECT_EQ(seen.size(), 3u);
    // A foreign value hashes consistently.
    std::set<std::string> foreign;
    for (int i = 0; i < 6; ++i) {
        Conn c(proxy_->port());
        auto r = c.get("p.test", "/cookie", "Cookie: route=somebody-else\r\n");
        foreign.insert(backend_of(r.body));
        EXPECT_TRUE(header_of(r.head, "set-cookie").starts_with("route=")) << "replaced by one of ours";
    }
    EXPECT_EQ(foreign.size(), 1u);
}

// A cookie naming an endpoint that refuses connections: the request is
// retried on the other endpoint, and the Set-Cookie must name that one (it
// used to be left out: the client's cookie "already" named the endpoint).
TEST_F(PolicyE2E, CookieFollowsTheRetry) {
    char dead[17], live[17];
    std::snprintf(dead, sizeof dead, "%016llx",
                  static_cast<unsigned long long>(router::endpoint_id("127.0.0.1:" + std::to_string(dead_port_))));
    std::snprintf(live, sizeof live, "%016llx",
                  static_cast<unsigned long long>(router::endpoint_id("127.0.0.1:" + std::to_string(echo_[1]->port()))));
    // Several fresh connections: each worker tries the dead one first, until ejected.
    for (int i = 0; i < 6; ++i) {
        Conn c(proxy_->port());
        auto r = c.get("p.test", "/retry-cookie", std::string("Cookie: route=") + dead + "\r\n");
        ASSERT_EQ(r.status, 200) << r.head;
        EXPECT_EQ(backend_of(r.body), "E1");
        EXPECT_EQ(header_of(r.head, "set-cookie"), std::string("route=") + live + "; Path=/; HttpOnly") << r.head;
    }
    // And a client that has the live endpoint's cookie is not told again.
    Conn c(proxy_->port());
    auto r = c.get("p.test", "/retry-cookie", std::string("Cookie: route=") + live + "\r\n");
    EXPECT_EQ(backend_of(r.body), "E1");
    EXPECT_EQ(header_of(r.head, "set-cookie"), "");
}

TEST_F(PolicyE2E, HashByAndClientIpAffinityAreStable) {
    std::map<std::string, std::set<std::string>> by_id;
    std::set<std::string> sticky;
    for (int i = 0; i < 24; ++i) {
        Conn c(proxy_->port());
        const std::string id = std::to_string(i % 6);
        by_id[id].insert(backend_of(c.get("p.test", "/hash?x=1&id=" + id).body));
        sticky.insert(backend_of(c.get("p.test", "/sticky").body));
    }
    std::set<std::string> all;
    for (auto& [id, backends] : by_id) {
        EXPECT_EQ(backends.size(), 1u) << "id " << id;
        all.insert(*backends.begin());
    }
    EXPECT_GT(all.size(), 1u) << "different keys spread";
    EXPECT_EQ(sticky.size(), 1u) << "one client address, one endpoint";
}

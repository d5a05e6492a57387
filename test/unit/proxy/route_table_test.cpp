#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "router/route_table.h"

using namespace xgress;
using snapshot::PathMatch;

namespace {

snapshot::Snapshot make() {
    snapshot::Snapshot s;
    s.version = 3;
    for (const char* name : {"api", "apiv2", "exact", "web", "any", "anyexact", "def", "root"})
        s.backends.push_back({name, {{"10.0.0.1", 80}}});
    s.virtual_hosts.push_back({"shop.test",
                               {{"/api", PathMatch::Prefix, "api"},
                                {"/api/v2/", PathMatch::Prefix, "apiv2"},
                                {"/api/exact", PathMatch::Exact, "exact"},
                                {"/web", PathMatch::Prefix, "web"}}});
    s.virtual_hosts.push_back({"", {{"/any", PathMatch::Prefix, "any"}, {"/shared", PathMatch::Exact, "anyexact"}}});
    s.virtual_hosts.push_back({"root.test", {{"/", PathMatch::Prefix, "root"}}});
    s.default_backend = "def";
    return s;
}

std::string route(const router::RouteTable& t, std::string_view host, std::string_view path) {
    std::uint32_t b = t.route(host, path);
    return b == router::kNoBackend ? "404" : t.backends()[b].name;
}

}  // namespace

TEST(RouteTable, PrefixIsElementWise) {
    auto t = router::RouteTable::build(make());
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(route(**t, "shop.test", "/api"), "api");
    EXPECT_EQ(route(**t, "shop.test", "/api/"), "api");
    EXPECT_EQ(route(**t, "shop.test", "/api/x"), "api");
    EXPECT_EQ(route(**t, "shop.test", "/apix"), "def");
    EXPECT_EQ(route(**t, "shop.test", "/web/a/b"), "web");
}

TEST(RouteTable, LongestPrefixAndExactWin) {
    auto t = router::RouteTable::build(make());
    ASSERT_TRUE(t);
    EXPECT_EQ(route(**t, "shop.test", "/api/v2"), "apiv2") << "trailing slash of the rule is ignored";
    EXPECT_EQ(route(**t, "shop.test", "/api/v2/users"), "apiv2");
    EXPECT_EQ(route(**t, "shop.test", "/api/v22"), "api");
    EXPECT_EQ(route(**t, "shop.test", "/api/exact"), "exact");
    EXPECT_EQ(route(**t, "shop.test", "/api/exact/more"), "api");
}

TEST(RouteTable, HostNormalisationAndFallbacks) {
    auto t = router::RouteTable::build(make());
    ASSERT_TRUE(t);
    EXPECT_EQ(route(**t, "SHOP.Test:8080", "/api"), "api");
    EXPECT_EQ(route(**t, "shop.test", "/any/thing"), "any") << "host-less rules after host rules";
    EXPECT_EQ(route(**t, "other.test", "/any"), "any");
    EXPECT_EQ(route(**t, "other.test", "/shared"), "anyexact");
    EXPECT_EQ(route(**t, "other.test", "/shared/x"), "def");
    EXPECT_EQ(route(**t, "other.test", "/nothing"), "def");
    EXPECT_EQ(route(**t, "root.test", "/whatever"), "root");
    EXPECT_EQ(route(**t, "", "/any"), "any");
}

TEST(RouteTable, NoDefaultMeans404) {
    auto s = make();
    s.default_backend.clear();
    auto t = router::RouteTable::build(s);
    ASSERT_TRUE(t);
    EXPECT_EQ(route(**t, "other.test", "/nothing"), "404");
}

TEST(RouteTable, NormalizeHost) {
    char buf[64];
    EXPECT_EQ(router::normalize_host("[::1]:80", buf, sizeof buf), "[::1]");
    EXPECT_EQ(router::normalize_host("A.B", buf, sizeof buf), "a.b");
}

namespace {
sockaddr_storage local(const char* addr, std::uint16_t port) {
    sockaddr_storage ss{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
    } else {
        EXPECT_EQ(inet_pton(AF_INET6, addr, &v6->sin6_addr), 1);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
    }
    return ss;
}
std::string frontend(const router::RouteTable& t, const char* addr, std::uint16_t port) {
    auto ss = local(addr, port);
    const router::FrontendTarget* f = t.frontend(reinterpret_cast<const sockaddr*>(&ss));
    if (!f) return "none";
    if (f->protocol == snapshot::FrontendProtocol::Http) return "http";
    return "tcp:" + t.backends()[f->backend].name;
}
}  // namespace

TEST(RouteTable, FrontendsMatchExactAddressThenAnyAddressOnThePort) {
    auto s = make();
    s.frontends = {{"", 30080, snapshot::FrontendProtocol::Http, ""},
                   {"", 30432, snapshot::FrontendProtocol::Tcp, "api"},
                   {"192.0.2.10", 30432, snapshot::FrontendProtocol::Tcp, "web"},
                   {"2001:db8::1", 443, snapshot::FrontendProtocol::Tcp, "root"}};
    auto t = router::RouteTable::build(s);
    ASSERT_TRUE(t) << t.error();
    EXPECT_TRUE((*t)->has_frontends());
    EXPECT_EQ(frontend(**t, "198.18.0.1", 30080), "http");
    EXPECT_EQ(frontend(**t, "198.18.0.1", 30432), "tcp:api");
    EXPECT_EQ(frontend(**t, "192.0.2.10", 30432), "tcp:web") << "the VIP beats the NodePort entry";
    EXPECT_EQ(frontend(**t, "::ffff:192.0.2.10", 30432), "tcp:web") << "v4-mapped counts as v4";
    EXPECT_EQ(frontend(**t, "2001:db8::1", 443), "tcp:root");
    EXPECT_EQ(frontend(**t, "2001:db8::2", 443), "none");
    EXPECT_EQ(frontend(**t, "198.18.0.1", 9999), "none");
}

TEST(RouteTable, NoFrontendsMeansEveryConnectionIsHttp) {
    auto t = router::RouteTable::build(make());
    ASSERT_TRUE(t);
    EXPECT_FALSE((*t)->has_frontends());
    EXPECT_EQ(frontend(**t, "127.0.0.1", 80), "none");
}

namespace {

snapshot::Snapshot make_wildcards() {
    snapshot::Snapshot s;
    s.version = 4;
    for (const char* name : {"exact", "wild", "wildapi", "any", "def", "deep"})
        s.backends.push_back({name, {{"10.0.0.1", 80}}});
    s.virtual_hosts.push_back({"a.example.com", {{"/only", PathMatch::Prefix, "exact"}}});
    s.virtual_hosts.push_back({"*.Example.com", {{"/", PathMatch::Prefix, "wild"}, {"/api", PathMatch::Exact, "wildapi"}}});
    s.virtual_hosts.push_back({"*.b.example.com", {{"/deep", PathMatch::Prefix, "deep"}}});
    s.virtual_hosts.push_back({"", {{"/any", PathMatch::Prefix, "any"}}});
    s.default_backend = "def";
    return s;
}

}  // namespace

TEST(RouteTable, WildcardMatchesExactlyOneLabel) {
    auto t = router::RouteTable::build(make_wildcards());
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(route(**t, "x.example.com", "/page"), "wild");
    EXPECT_EQ(route(**t, "X.EXAMPLE.COM:443", "/api"), "wildapi") << "case and port are normalised first";
    EXPECT_EQ(route(**t, "example.com", "/page"), "def") << "the bare suffix is not covered";
    EXPECT_EQ(route(**t, "example.com", "/any"), "any");
    EXPECT_EQ(route(**t, ".example.com", "/page"), "def") << "an empty label is not a label";
    EXPECT_EQ(route(**t, "a.b.example.com", "/page"), "def") << "two extra labels do not match *.example.com";
    EXPECT_EQ(route(**t, "a.b.example.com", "/deep/x"), "deep") << "but they match *.b.example.com";
    EXPECT_EQ(route(**t, "b.example.com", "/deep"), "wild") << "*.b.example.com needs a label before b";
    EXPECT_EQ(route(**t, "xexample.com", "/page"), "def");
}

TEST(RouteTable, ExactHostBeatsWildcardAndFallsThroughToIt) {
    auto t = router::RouteTable::build(make_wildcards());
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(route(**t, "a.example.com", "/only/x"), "exact") << "exact host first";
    EXPECT_EQ(route(**t, "a.example.com", "/other"), "wild") << "no exact-host path: the wildcard's rules";
    EXPECT_EQ(route(**t, "a.example.com", "/api"), "wildapi");
}

TEST(RouteTable, WildcardFallsThroughToHostlessThenDefault) {
    snapshot::Snapshot s = make_wildcards();
    s.virtual_hosts[1].routes = {{"/w", PathMatch::Prefix, "wild"}};
    auto t = router::RouteTable::build(s);
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(route(**t, "x.example.com", "/w/1"), "wild");
    EXPECT_EQ(route(**t, "x.example.com", "/any"), "any") << "wildcard without the path: host-less rules";
    EXPECT_EQ(route(**t, "x.example.com", "/nothing"), "def") << "then the default backend";
    s.default_backend.clear();
    auto t2 = router::RouteTable::build(s);
    ASSERT_TRUE(t2);
    EXPECT_EQ(route(**t2, "x.example.com", "/nothing"), "404");
}

// The flat index behind backend names and exact hosts: dense indices in
// insertion order, growth past what was reserved, the empty name, misses.
TEST(NameIndex, IndicesSurviveGrowth) {
    xgress::router::NameIndex index;
    EXPECT_EQ(index.find("x"), xgress::router::NameIndex::npos);
    index.reserve(4);
    for (int i = 0; i < 3000; ++i) {
        const auto [at, added] = index.insert("name-" + std::to_string(i));
        ASSERT_TRUE(added);
        ASSERT_EQ(at, static_cast<std::uint32_t>(i));
    }
    EXPECT_EQ(index.insert("name-17"), std::make_pair(std::uint32_t{17}, false));
    EXPECT_EQ(index.insert("").first, 3000u);
    EXPECT_EQ(index.find(""), 3000u);
    EXPECT_EQ(index.size(), 3001u);
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(index.find("name-" + std::to_string(i)), static_cast<std::uint32_t>(i));
    EXPECT_EQ(index.find("name-3000"), xgress::router::NameIndex::npos);
    EXPECT_EQ(index.name(42), "name-42");
}

// Endpoint ids place endpoints on the consistent-hash rings and must not
// change between proxy versions: the prefix's FNV state is precomputed, and
// the ids must equal hashing the prefix and the text byte by byte.
TEST(RouteTable, EndpointIdsKeepTheirValues) {
    for (std::string_view text : {"10.0.0.1:80", "[fd00::1]:8080", "127.0.0.1:8081", ""}) {
        router::Fnv1a h;
        h.add("xgress-endpoint:", 16);
        h.add(text.data(), text.size());
        EXPECT_EQ(router::endpoint_id(text), h.done()) << text;
    }
}

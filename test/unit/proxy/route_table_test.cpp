#include <gtest/gtest.h>

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

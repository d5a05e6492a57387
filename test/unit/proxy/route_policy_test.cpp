// Route policies in the routing table: regex order and captures, compile
// errors that name the route (the proxy NACKs them), CIDR allow lists,
// hash_by templates, and EndpointsPatch tables sharing what they did not change.
#include <gtest/gtest.h>

#include "router/route_table.h"

using namespace xgress;
using router::kNoRoute;

namespace {

snapshot::Route rule(std::string path, std::string backend, bool regex = false) {
    snapshot::Route r;
    r.path = std::move(path);
    r.backend = std::move(backend);
    r.regex = regex;
    return r;
}

snapshot::Snapshot base() {
    snapshot::Snapshot s;
    s.version = 3;
    s.backends = {{"a", {{"10.0.0.1", 80}}}, {"b", {{"10.0.0.2", 80}, {"10.0.0.3", 80}}}, {"c", {{"10.0.0.4", 80}}}};
    return s;
}

std::string name_of(const router::RouteTable& t, std::string_view host, std::string_view path,
                    router::Captures* caps = nullptr) {
    router::MatchScratch scratch;
    std::uint32_t m = t.match(host, path, scratch, caps);
    if (m == kNoRoute) return "404";
    const auto& target = t.target(m);
    return target.backend == router::kNoBackend ? "self" : t.backends()[target.backend].name;
}

}  // namespace

TEST(RoutePolicy, RegexRoutesExactFirstThenLongestPatternThenPrefix) {
    auto s = base();
    s.virtual_hosts = {{"r.test",
                        {rule("/", "a"), rule("/api/(.*)", "b", true), rule("/api/v[0-9]+/(.*)", "c", true),
                         rule("/API/exact", "a")}}};
    s.virtual_hosts[0].routes.back().match = snapshot::PathMatch::Exact;
    auto t = router::RouteTable::build(s);
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(name_of(**t, "r.test", "/api/v2/users"), "c") << "longest pattern first";
    EXPECT_EQ(name_of(**t, "r.test", "/api/users"), "b");
    EXPECT_EQ(name_of(**t, "r.test", "/API/V2/x"), "c") << "case-insensitive";
    EXPECT_EQ(name_of(**t, "r.test", "/x/api/v2/y"), "a") << "anchored at the path start: prefix / wins";
    EXPECT_EQ(name_of(**t, "r.test", "/API/exact"), "a") << "an exact path beats every regex";
    router::Captures caps;
    const std::string path = "/api/v12/items/7";
    ASSERT_EQ(name_of(**t, "r.test", path, &caps), "c");
    EXPECT_EQ(caps.group(path, 0), "/api/v12/items/7");
    EXPECT_EQ(caps.group(path, 1), "items/7");
    EXPECT_EQ(caps.group(path, 2), "");
}

TEST(RoutePolicy, BuildErrorsNameTheRoute) {
    auto s = base();
    s.virtual_hosts = {{"r.test", {rule("/ok", "a"), rule("/bad(", "a", true)}}};
    auto t = router::RouteTable::build(s);
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().find("route r.test /bad("), std::string::npos) << t.error();
    EXPECT_NE(t.error().find("bad regex"), std::string::npos) << t.error();

    s.virtual_hosts = {{"", {rule("/h", "a")}}};
    s.virtual_hosts[0].routes[0].hash_by = "$host$nonsense";
    t = router::RouteTable::build(s);
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().find("route * /h: hash_by: unknown variable $nonsense"), std::string::npos) << t.error();
}

TEST(RoutePolicy, CidrSetsMatchV4V6AndMappedClients) {
    router::CidrSet set;
    ASSERT_TRUE(set.add("10.0.0.0/8"));
    ASSERT_TRUE(set.add("192.0.2.7"));
    ASSERT_TRUE(set.add("2001:db8::/32"));
    ASSERT_TRUE(set.add("172.16.5.4/20")) << "host bits are ignored";
    EXPECT_FALSE(set.add("10.0.0.0/33"));
    EXPECT_FALSE(set.add("nope/8"));
    EXPECT_TRUE(set.contains(std::string_view("10.255.1.1")));
    EXPECT_TRUE(set.contains(std::string_view("::ffff:10.1.2.3"))) << "v4-mapped client";
    EXPECT_FALSE(set.contains(std::string_view("11.0.0.1")));
    EXPECT_TRUE(set.contains(std::string_view("192.0.2.7")));
    EXPECT_FALSE(set.contains(std::string_view("192.0.2.8")));
    EXPECT_TRUE(set.contains(std::string_view("2001:db8:1::5")));
    EXPECT_FALSE(set.contains(std::string_view("2001:db9::5")));
    EXPECT_TRUE(set.contains(std::string_view("172.16.0.1")));
    EXPECT_FALSE(set.contains(std::string_view("172.16.16.1")));
    EXPECT_FALSE(set.contains(std::string_view("garbage")));
    router::CidrSet odd;
    ASSERT_TRUE(odd.add("10.128.0.0/9"));
    EXPECT_TRUE(odd.contains(std::string_view("10.200.0.1")));
    EXPECT_FALSE(odd.contains(std::string_view("10.100.0.1")));
}

TEST(RoutePolicy, KeyTemplatesCompile) {
    auto k = router::KeyTemplate::compile("u:$request_uri-${http_x_user}$cookie_sid$arg_id$remote_addr$host$uri");
    ASSERT_TRUE(k) << k.error();
    using K = router::KeyPart::Kind;
    ASSERT_EQ(k->parts.size(), 9u);
    EXPECT_EQ(k->parts[0].text, "u:");
    EXPECT_EQ(k->parts[1].kind, K::RequestUri);
    EXPECT_EQ(k->parts[3].kind, K::Header);
    EXPECT_EQ(k->parts[3].text, "x-user");
    EXPECT_EQ(k->parts[4].kind, K::Cookie);
    EXPECT_EQ(k->parts[5].kind, K::Arg);
    EXPECT_FALSE(router::KeyTemplate::compile("$"));
    EXPECT_FALSE(router::KeyTemplate::compile("${http_x"));
    EXPECT_FALSE(router::KeyTemplate::compile("$cookie_"));
}

TEST(RoutePolicy, EndpointsPatchSharesRoutesAndUntouchedBackends) {
    auto s = base();
    s.virtual_hosts = {{"p.test", {rule("/", "b")}}};
    s.virtual_hosts[0].routes[0].affinity_cookie = "route";
    auto t = router::RouteTable::build(s);
    ASSERT_TRUE(t) << t.error();
    snapshot::EndpointsPatch patch{3, 4, {{"b", {{"10.0.0.9", 81}}}}};
    auto p = (*t)->with_endpoints(patch);
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ((*p)->version(), 4u);
    EXPECT_EQ((*p)->backend_identity(0), (*t)->backend_identity(0)) << "untouched backend shared";
    EXPECT_NE((*p)->backend_identity(1), (*t)->backend_identity(1));
    ASSERT_EQ((*p)->backends()[1].endpoints.size(), 1u);
    EXPECT_EQ((*p)->backends()[1].endpoints[0].text, "10.0.0.9:81");
    EXPECT_FALSE((*p)->backends()[1].ring.empty()) << "a cookie route hashes onto b: the ring is rebuilt";
    EXPECT_EQ(name_of(**p, "p.test", "/x"), "b");
    EXPECT_EQ((*t)->backends()[1].endpoints.size(), 2u) << "the old table is untouched";

    auto stale = (*t)->with_endpoints(snapshot::EndpointsPatch{2, 4, {}});
    ASSERT_FALSE(stale);
    EXPECT_NE(stale.error().find("base version 2"), std::string::npos) << stale.error();
    auto unknown = (*t)->with_endpoints(snapshot::EndpointsPatch{3, 4, {{"zz", {}}}});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().find("\"zz\""), std::string::npos);
}

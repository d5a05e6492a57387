// Balancing: power of two choices on outstanding requests, and consistent
// hashing (Maglev) — spread, stability when an endpoint goes, ejection
// walking on, picker state kept across an EndpointsPatch.
#include <gtest/gtest.h>

#include <set>

#include "router/route_table.h"
#include "upstream/endpoint_picker.h"
#include "upstream/hash_key.h"

using namespace xgress;
using upstream::EndpointPicker;

namespace {

snapshot::Backend backend(const std::string& name, std::size_t n, snapshot::Affinity affinity) {
    snapshot::Backend b{name, {}, affinity};
    for (std::size_t i = 0; i < n; ++i)
        b.endpoints.push_back({"10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 8080});
    return b;
}

std::shared_ptr<const router::RouteTable> table(std::size_t n, snapshot::Affinity affinity = snapshot::Affinity::ClientIp) {
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {backend("h", n, affinity), backend("other", 2, snapshot::Affinity::None)};
    s.default_backend = "h";
    auto t = router::RouteTable::build(s);
    EXPECT_TRUE(t) << t.error();
    return *t;
}

}  // namespace

TEST(Balancing, P2cPrefersTheEndpointWithFewerOutstandingRequests) {
    EndpointPicker p;
    auto t = table(2, snapshot::Affinity::None);
    p.reset(*t, 0);
    for (int i = 0; i < 5; ++i) p.begin(0, 0);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(p.pick(0, 0), 1u) << "two endpoints: both are compared every time";
    for (int i = 0; i < 5; ++i) p.end(p.token(0), 0, 0);
    p.end(p.token(0), 0, 0);  // never below zero
    EXPECT_EQ(p.outstanding(0, 0), 0u);
    // With load equal, both are chosen.
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 50; ++i) seen.insert(p.pick(0, 0));
    EXPECT_EQ(seen.size(), 2u);
}

TEST(Balancing, P2cSpreadsAndSkipsEjectedEndpoints) {
    EndpointPicker p;
    auto t = table(4, snapshot::Affinity::None);
    p.reset(*t, 3);
    ASSERT_TRUE(p.report_failure(p.token(0), 0, 2, 0));
    std::array<int, 4> count{};
    for (int i = 0; i < 4000; ++i) {
        const std::uint32_t e = p.pick(0, 10);
        ASSERT_NE(e, 2u);
        ++count[e];
    }
    for (int e : {0, 1, 3}) EXPECT_GT(count[e], 1000) << e;
}

TEST(Balancing, ConsistentHashSpreadsKeysEvenly) {
    EndpointPicker p;
    const std::size_t n = 10;
    auto t = table(n);
    p.reset(*t, 0);
    const auto& ring = t->backends()[0].ring;
    std::vector<int> count(n);
    for (int k = 0; k < 100000; ++k) ++count[p.pick_hashed(ring, 0, upstream::hash_text("client-" + std::to_string(k)), 0)];
    for (std::size_t e = 0; e < n; ++e) {
        EXPECT_GT(count[e], 8500) << e;  // 10,000 each on average
        EXPECT_LT(count[e], 11500) << e;
    }
}

TEST(Balancing, RemovingOneEndpointMovesOnlyItsShareOfKeys) {
    const std::size_t n = 10;
    auto before = table(n);
    // The same endpoints minus the fourth, at shifted indices: ids keep them apart.
    snapshot::Snapshot s;
    s.version = 2;
    auto b = backend("h", n, snapshot::Affinity::ClientIp);
    b.endpoints.erase(b.endpoints.begin() + 3);
    s.backends = {b};
    s.default_backend = "h";
    auto after = router::RouteTable::build(s);
    ASSERT_TRUE(after);
    EndpointPicker p1, p2;
    p1.reset(*before, 0);
    p2.reset(**after, 0);
    int moved = 0, owned_by_removed = 0;
    const int keys = 50000;
    for (int k = 0; k < keys; ++k) {
        const std::uint64_t h = upstream::hash_text("10.9." + std::to_string(k));
        const auto& e1 = before->backends()[0].endpoints[p1.pick_hashed(before->backends()[0].ring, 0, h, 0)].text;
        const auto& e2 = (*after)->backends()[0].endpoints[p2.pick_hashed((*after)->backends()[0].ring, 0, h, 0)].text;
        if (e1 == "10.1.0.4:8080") ++owned_by_removed;
        else if (e1 != e2) ++moved;
    }
    EXPECT_NEAR(owned_by_removed, keys / 10, keys / 50);
    // Maglev moves a little more than the removed share; keys of the
    // surviving endpoints that moved stay a small fraction.
    EXPECT_LT(moved, keys / 50) << "keys of surviving endpoints that moved";
}

TEST(Balancing, EjectedHashedChoiceMovesToTheNextOnTheRingAndBack) {
    EndpointPicker p;
    auto t = table(5);
    p.reset(*t, 0);
    const auto& ring = t->backends()[0].ring;
    const std::uint64_t h = upstream::hash_text("198.51.100.7");
    const std::uint32_t first = p.pick_hashed(ring, 0, h, 0);
    ASSERT_TRUE(p.report_failure(p.token(0), 0, first, 0));
    const std::uint32_t second = p.pick_hashed(ring, 0, h, 10);
    EXPECT_NE(second, first);
    EXPECT_EQ(p.pick_hashed(ring, 0, h, 20), second) << "stable while ejected";
    EXPECT_EQ(p.pick_hashed(ring, 0, h, 5000), first) << "back once the backoff ended";
    EXPECT_NE(p.pick_hashed(ring, 0, h, 5000, first), first) << "a retry avoids the failed endpoint";
}

TEST(Balancing, PatchKeepsStateOfUntouchedBackendsOnly) {
    auto t = table(3);
    EndpointPicker p;
    p.reset(*t, 0);
    ASSERT_TRUE(p.report_failure(p.token(1), 1, 0, 0));
    ASSERT_TRUE(p.report_failure(p.token(0), 0, 0, 0));
    const auto token1 = p.token(1);
    auto patched = t->with_endpoints(snapshot::EndpointsPatch{1, 2, {backend("h", 4, snapshot::Affinity::ClientIp)}});
    ASSERT_TRUE(patched) << patched.error();
    p.reset(**patched, 0, t.get());
    EXPECT_EQ(p.token(1), token1);
    EXPECT_TRUE(p.ejected(1, 0, 10)) << "untouched backend keeps its health";
    EXPECT_FALSE(p.ejected(0, 0, 10)) << "patched backend starts fresh";
    EXPECT_LT(p.pick_hashed((*patched)->backends()[0].ring, 0, 42, 10), 4u);
}

TEST(Balancing, RequestKeyHashesTheTemplateParts) {
    http::RequestParser parser;
    http::RequestHead req;
    std::string in = "GET /p?id=7&x=1 HTTP/1.1\r\nHost: Shop.Test:80\r\nCookie: a=1; sid=abc\r\nX-User: u1\r\n\r\n";
    ASSERT_EQ(parser.parse(in, req).status, http::ParseStatus::Complete);
    auto key = [&](std::string_view t) {
        auto k = router::KeyTemplate::compile(t);
        EXPECT_TRUE(k) << k.error();
        return upstream::hash_request_key(*k, req, "10.0.0.1");
    };
    EXPECT_EQ(key("$request_uri"), upstream::hash_text("/p?id=7&x=1"));
    EXPECT_EQ(key("$uri"), upstream::hash_text("/p"));
    EXPECT_EQ(key("$host$remote_addr"), upstream::hash_text("shop.test10.0.0.1"));
    EXPECT_EQ(key("$http_x_user-$cookie_sid-$arg_id"), upstream::hash_text("u1-abc-7"));
    EXPECT_EQ(key("$cookie_none$arg_none"), upstream::hash_text(""));
}

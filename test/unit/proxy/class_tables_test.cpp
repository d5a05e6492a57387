// Per-class routing tables (snapshot VirtualHost/Frontend ingress_class,
// class_default_backends): codec and RouteTable; and a full build sharing
// unchanged backends with the previous table.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include "router/route_table.h"
#include "xgress/snapshot.h"

using namespace xgress;
using snapshot::FrontendProtocol;
using snapshot::PathMatch;

namespace {

// shop.test is served by the default table (publish Service, NodePort 30080)
// and by class "internal" (its own VIP 192.0.2.20:80) with another backend.
snapshot::Snapshot classes() {
    snapshot::Snapshot s;
    s.version = 9;
    for (const char* name : {"public", "internal", "def", "internal-def", "tcp"})
        s.backends.push_back({name, {{"10.0.0.1", 80}}});
    s.virtual_hosts.push_back({"shop.test", {{"/", PathMatch::Prefix, "public"}}});
    s.virtual_hosts.push_back({"shop.test", {{"/", PathMatch::Prefix, "internal"}}, "", "internal"});
    s.virtual_hosts.push_back({"only-internal.test", {{"/", PathMatch::Prefix, "internal"}}, "", "internal"});
    s.default_backend = "def";
    s.class_default_backends = {{"internal", "internal-def"}};
    s.frontends = {{"", 30080, FrontendProtocol::Http, ""},
                   {"192.0.2.20", 80, FrontendProtocol::Http, "", "internal"},
                   {"192.0.2.21", 80, FrontendProtocol::Http, "", "empty-class"},
                   {"192.0.2.22", 5432, FrontendProtocol::Tcp, "tcp"}};
    return s;
}

sockaddr_storage local(const char* addr, std::uint16_t port) {
    sockaddr_storage ss{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    EXPECT_EQ(inet_pton(AF_INET, addr, &v4->sin_addr), 1);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return ss;
}

// The backend a request for host/path on a connection to addr:port reaches.
std::string via(const router::RouteTable& t, const char* addr, std::uint16_t port, std::string_view host,
                std::string_view path = "/") {
    auto ss = local(addr, port);
    std::uint32_t b = t.route(t.table_for(reinterpret_cast<const sockaddr*>(&ss)), host, path);
    return b == router::kNoBackend ? "404" : t.backends()[b].name;
}

std::string decode_error(std::string_view json) {
    auto r = snapshot::decode(json);
    return r ? std::string("ok") : r.error();
}

}  // namespace

TEST(ClassTables, SameHostRoutesPerListener) {
    auto t = router::RouteTable::build(classes());
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ((*t)->table_count(), 3u);  // default, internal, empty-class
    EXPECT_EQ(via(**t, "198.18.0.1", 30080, "shop.test"), "public");
    EXPECT_EQ(via(**t, "192.0.2.20", 80, "shop.test"), "internal");
    EXPECT_EQ(via(**t, "192.0.2.20", 80, "SHOP.test:80"), "internal");
    // Each table has its own hosts and default backend.
    EXPECT_EQ(via(**t, "198.18.0.1", 30080, "only-internal.test"), "def");
    EXPECT_EQ(via(**t, "192.0.2.20", 80, "only-internal.test"), "internal");
    EXPECT_EQ(via(**t, "192.0.2.20", 80, "other.test"), "internal-def");
    // A class whose listeners serve no host yet: its own empty table, not the default one.
    EXPECT_EQ(via(**t, "192.0.2.21", 80, "shop.test"), "404");
    // A connection matching no frontend (--snapshot-file, --listen-tls) uses the default table.
    EXPECT_EQ(via(**t, "127.0.0.1", 10080, "shop.test"), "public");
    EXPECT_EQ((*t)->route("shop.test", "/"), (*t)->find_backend("public"));
    // Route names keep a host served by two classes apart (metrics labels).
    auto ss = local("192.0.2.20", 80);
    router::MatchScratch scratch;
    const std::uint32_t r =
        (*t)->match((*t)->table_for(reinterpret_cast<const sockaddr*>(&ss)), "shop.test", "/", scratch, nullptr);
    EXPECT_EQ((*t)->target(r).name, "[internal] shop.test /");
}

TEST(ClassTables, ClassWithoutListenersUsesTheDefaultTable) {
    // The agent puts hosts of a class without listeners of its own in the
    // default table (ingress_class ""): every HTTP frontend serves them.
    snapshot::Snapshot s = classes();
    s.virtual_hosts.push_back({"plain.test", {{"/", PathMatch::Prefix, "public"}}});
    auto t = router::RouteTable::build(s);
    ASSERT_TRUE(t) << t.error();
    EXPECT_EQ(via(**t, "198.18.0.1", 30080, "plain.test"), "public");
    EXPECT_EQ(via(**t, "192.0.2.20", 80, "plain.test"), "internal-def");
    EXPECT_EQ((*t)->class_table("internal"), via(**t, "192.0.2.20", 80, "x") == "internal-def" ? 1u : 0u);
    EXPECT_EQ((*t)->class_table("no-such-class"), 0u);
}

TEST(ClassTables, CodecRoundTripAndOldBytes) {
    snapshot::Snapshot s = classes();
    const std::string json = snapshot::encode(s);
    auto back = snapshot::decode(json);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, s);
    EXPECT_NE(json.find("\"class_default_backends\":[{\"ingress_class\":\"internal\""), std::string::npos);
    // Without classes nothing new is written: old snapshots keep their bytes.
    snapshot::Snapshot plain = classes();
    plain.class_default_backends.clear();
    plain.frontends.resize(1);
    plain.virtual_hosts.resize(1);
    const std::string plain_json = snapshot::encode(plain);
    EXPECT_EQ(plain_json.find("ingress_class"), std::string::npos);
    EXPECT_EQ(plain_json.find("class_default_backends"), std::string::npos);
}

TEST(ClassTables, CodecValidatesClassFields) {
    const std::string be = R"("backends":[{"name":"a","endpoints":[]}])";
    // A host may repeat across classes, not within one.
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"virtual_hosts":[{"host":"x","routes":[]},)"
                           R"({"host":"x","ingress_class":"c","routes":[]}]})"),
              "ok");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"virtual_hosts":[{"host":"x","ingress_class":"c","routes":[]},)"
                           R"({"host":"X","ingress_class":"c","routes":[]}]})"),
              "virtual_hosts[1].host: duplicate host \"x\" in class \"c\"");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"virtual_hosts":[{"host":"x","ingress_class":7}]})"),
              "virtual_hosts[0].ingress_class: must be a string");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"class_default_backends":[{"ingress_class":"c","backend":"b"}]})"),
              "class_default_backends[0].backend: unknown backend \"b\"");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"class_default_backends":[{"ingress_class":"","backend":"a"}]})"),
              "class_default_backends[0].ingress_class: must not be empty");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"class_default_backends":[{"ingress_class":"c","backend":"a"},)"
                           R"({"ingress_class":"c","backend":"a"}]})"),
              "class_default_backends[1].ingress_class: duplicate class \"c\"");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"class_default_backends":{}})"),
              "class_default_backends: must be an array");
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + R"(,"frontends":[{"port":5432,"protocol":"tcp","backend":"a",)"
                           R"("ingress_class":"c"}]})"),
              "frontends[0].ingress_class: must be empty for protocol \"tcp\"");
}

TEST(ClassTables, ErrorsStillNameTheField) {
    // Field paths are formatted lazily now; they must read as before.
    const std::string be = R"("backends":[{"name":"a","endpoints":[{"address":"10.0.0.1","port":80}]},)"
                           R"({"name":"b","endpoints":[{"address":"10.0.0.1","port":80},{"address":"nope","port":80}]}])";
    EXPECT_EQ(decode_error(R"({"version":1,)" + be + "}"), "backends[1].endpoints[1].address: not an IP address: \"nope\"");
    const std::string good = R"("backends":[{"name":"a","endpoints":[{"address":"10.0.0.1","port":80}]}])";
    EXPECT_EQ(decode_error(R"({"version":1,)" + good +
                           R"(,"virtual_hosts":[{"host":"x","routes":[{"path":"/","match":"prefix","backend":"a"},)"
                           R"({"path":"/p","match":"prefix","backend":"a","allowed_sources":["10.0.0.0/8","x"]}]}]})"),
              "virtual_hosts[0].routes[1].allowed_sources[1]: not a CIDR: \"x\"");
    EXPECT_EQ(decode_error(R"({"version":1,)" + good +
                           R"(,"virtual_hosts":[{"host":"x","routes":[{"path":"/","match":"prefix","backend":"a",)"
                           R"("redirect":{"url":"/y","status":200}}]}]})"),
              "virtual_hosts[0].routes[0].redirect.status: must be 301, 302, 307 or 308");
}

TEST(RouteTableReuse, UnchangedBackendsAreShared) {
    snapshot::Snapshot s = classes();
    s.backends.push_back({"hashed", {{"10.0.0.2", 80}, {"fd00::2", 81}}, snapshot::Affinity::ClientIp});
    auto first = router::RouteTable::build(s);
    ASSERT_TRUE(first) << first.error();
    snapshot::Snapshot next = s;
    next.version = 10;
    next.backends[0].endpoints[0].port = 81;  // "public" changed
    auto second = router::RouteTable::build(next, first->get());
    ASSERT_TRUE(second) << second.error();
    const auto& a = **first;
    const auto& b = **second;
    EXPECT_NE(b.backend_identity(b.find_backend("public")), a.backend_identity(a.find_backend("public")));
    EXPECT_EQ(b.backends()[b.find_backend("public")].endpoints[0].text, "10.0.0.1:81");
    EXPECT_EQ(b.backend_identity(b.find_backend("internal")), a.backend_identity(a.find_backend("internal")));
    EXPECT_EQ(b.backend_identity(b.find_backend("hashed")), a.backend_identity(a.find_backend("hashed")));
    EXPECT_EQ(b.backends()[b.find_backend("hashed")].endpoints[1].text, "[fd00::2]:81");
    // Affinity changed: rebuilt (the hash ring is no longer wanted).
    snapshot::Snapshot third_snap = next;
    third_snap.backends.back().affinity = snapshot::Affinity::None;
    auto third = router::RouteTable::build(third_snap, second->get());
    ASSERT_TRUE(third) << third.error();
    EXPECT_NE((*third)->backend_identity((*third)->find_backend("hashed")), b.backend_identity(b.find_backend("hashed")));
    EXPECT_FALSE((*third)->backends()[(*third)->find_backend("hashed")].hashed);
}

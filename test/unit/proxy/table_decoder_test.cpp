// The proxy's table decoder (control/table_decoder.h) against the codec +
// RouteTable::build: the same table for what both accept, the same error
// text for what they reject, and the fast path taking the usual documents.
#include <gtest/gtest.h>

#include "control/table_decoder.h"
#include "route_table_compare.h"

using namespace xgress;

namespace {

// What the general path gives: the table, or decode()'s / build()'s error.
struct General {
    std::shared_ptr<const router::RouteTable> table;
    snapshot::Snapshot snap;
    std::string error;
};
General general(std::string_view json, const router::RouteTable* previous = nullptr) {
    General g;
    auto snap = snapshot::decode(json);
    if (!snap) {
        g.error = snap.error();
        return g;
    }
    auto table = router::RouteTable::build(*snap, previous);
    if (!table) {
        g.error = table.error();
        return g;
    }
    g.table = *table;
    g.snap = std::move(*snap);
    return g;
}

// Checks decode_table against the general path; returns whether the fast path took it.
bool check(std::string_view json) {
    const General g = general(json);
    auto fast = control::decode_table_fast(json, nullptr);
    auto both = control::decode_table(json, nullptr);
    if (!g.error.empty()) {
        EXPECT_FALSE(fast) << json;
        EXPECT_FALSE(both) << json;
        if (!both) {
            EXPECT_EQ(both.error(), g.error) << json;
        }
        return false;
    }
    EXPECT_TRUE(both) << json << ": " << both.error();
    if (!both) return false;
    EXPECT_EQ(table_check::route_table_difference(*g.table, *both->table, g.snap), "") << json;
    EXPECT_EQ(both->rest.version, g.snap.version);
    EXPECT_EQ(both->rest.certificates, g.snap.certificates);
    EXPECT_EQ(both->rest.default_certificate, g.snap.default_certificate);
    if (fast) {
        EXPECT_EQ(table_check::route_table_difference(*g.table, *fast->table, g.snap), "") << json;
    }
    return fast.has_value();
}

const char* kRich = R"json({"version":9,
 "backends":[{"name":"default/api:80","endpoints":[{"address":"10.244.1.2","port":8080},{"address":"fd00::1","port":8081}]},
             {"name":"default/web:80","affinity":"client_ip","affinity_timeout_s":60,"endpoints":[{"address":"10.0.0.1","port":80}]},
             {"name":"default/db:5432","endpoints":[{"port":5432,"address":"10.0.0.9"}]},
             {"name":"internal/web:80"}],
 "virtual_hosts":[
   {"host":"Shop.Example.com","routes":[{"path":"/api","match":"prefix","backend":"default/api:80"},
                                        {"path":"/api/v2/","match":"prefix","backend":"default/web:80"},
                                        {"path":"/exact","match":"exact","backend":"default/api:80"},
                                        {"path":"/re/(.*)","match":"prefix","backend":"default/api:80","regex":true,"rewrite_target":"/$1"},
                                        {"path":"/old","match":"prefix","backend":"","redirect":{"url":"https://x/","status":301}},
                                        {"path":"/hash","match":"prefix","backend":"default/api:80","hash_by":"$request_uri","ssl_redirect":true,
                                         "allowed_sources":["10.0.0.0/8"],"read_timeout_ms":5}]},
   {"host":"*.example.com","routes":[{"path":"/","match":"prefix","backend":"default/web:80"},{"path":"/w","match":"prefix","backend":"default/api:80"}]},
   {"host":"tls.example.com","passthrough_backend":"default/db:5432","routes":[]},
   {"host":"","routes":[{"path":"/","match":"prefix","backend":"default/web:80"}]},
   {"host":"shop.example.com","ingress_class":"internal","routes":[{"path":"/","match":"prefix","backend":"internal/web:80"}]},
   {"host":"a:8080","routes":[{"path":"/","match":"prefix","backend":"default/web:80"}]}],
 "default_backend":"default/web:80",
 "class_default_backends":[{"ingress_class":"internal","backend":"internal/web:80"}],
 "frontends":[{"address":"","port":30080,"protocol":"http","backend":""},
              {"address":"192.0.2.10","port":5432,"protocol":"tcp","backend":"default/db:5432"},
              {"address":"2001:db8::1","port":443,"protocol":"https","backend":"","ingress_class":"internal"},
              {"address":"192.0.2.11","port":80,"protocol":"http","ingress_class":"other"}],
 "certificates":[{"name":"default/shop-tls","hosts":["Shop.Example.com"],"cert_pem":"C","key_pem":"K","ocsp_staple":"S"}],
 "default_certificate":"default/shop-tls"})json";

}  // namespace

TEST(TableDecoder, RichSnapshotTakesTheFastPathAndBuildsTheSameTable) {
    EXPECT_TRUE(check(kRich));
    auto d = control::decode_table_fast(kRich, nullptr);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->rest.virtual_hosts.size(), 1u);  // only the passthrough host travels aside
    EXPECT_EQ(d->rest.virtual_hosts[0].host, "tls.example.com");
    EXPECT_EQ(d->rest.virtual_hosts[0].passthrough_backend, "default/db:5432");
    EXPECT_EQ(d->rest.certificates[0].hosts, (std::vector<std::string>{"shop.example.com"}));
}

TEST(TableDecoder, SmallAndOddButValidDocuments) {
    EXPECT_TRUE(check(R"({"version":1})"));
    EXPECT_TRUE(check(R"({"version":1,"backends":[],"virtual_hosts":[],"frontends":[],"default_backend":""})"));
    // Repeated keys keep their first value; members in any order; unknown members ignored.
    EXPECT_TRUE(check(R"({"version":1,"version":2,"backends":[{"endpoints":[{"port":80,"address":"10.0.0.1","x":1}],"name":"b","name":"c"}],)"
                      R"("virtual_hosts":[{"routes":[{"backend":"b","match":"exact","path":"/a","path":"/b"}],"host":"H","host":"g"}]})"));
    EXPECT_TRUE(check(R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","routes":[{"path":"/","match":"prefix","backend":"b","unknown":1}]}]})"));
    EXPECT_TRUE(check(R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","ingress_class":"x"},{"host":"a"}]})"));
    EXPECT_TRUE(check(R"({"version":1,"backends":[{"name":"b","endpoints":[{"address":"::ffff:10.0.0.1","port":1}]}]})"));
}

TEST(TableDecoder, RejectedDocumentsKeepTheCodecsErrors) {
    const std::string b = R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","routes":[)";
    const std::string e = R"({"version":1,"backends":[{"name":"b","endpoints":[)";
    for (const std::string& json : std::vector<std::string>{
             "{", "[]", "{}", R"({"version":-1})",
             R"({"version":1,"virtual_hosts":[{"host":"a","routes":[{"path":"/","match":"prefix","backend":"x"}]}]})",
             b + R"({"path":"nope","match":"prefix","backend":"b"}]}]})",
             b + R"({"path":"/","match":"regex","backend":"b"}]}]})",
             b + R"({"path":"/","match":"prefix","backend":""}]}]})",
             b + R"({"path":"/","match":"prefix","backend":"b","allowed_sources":["10.0.0.0/33"]}]}]})",
             b + R"({"path":"/","match":"prefix","backend":"","redirect":{"url":"/x","status":200}}]}]})",
             b + R"({"path":"/","match":"prefix","backend":"b","rewrite_target":"x"}]}]})",
             b + R"({"match":"prefix","backend":"b"}]}]})", b + R"({"path":"/","match":"prefix","backend":null}]}]})",
             e + R"({"address":"10.0.0.300","port":80}]}]})", e + R"({"address":"10.0.0.3","port":0}]}]})",
             e + R"({"address":"10.0.0.3","port":70000}]}]})", e + R"(5]}]})", e + R"({"port":80}]}]})",
             R"({"version":1,"backends":[{"name":"b"},{"name":"b"}]})", R"({"version":1,"default_backend":"zz"})",
             R"({"version":1,"default_backend":5})",
             R"({"version":1,"virtual_hosts":[{"host":"a"},{"host":"A"}]})",
             R"({"version":1,"virtual_hosts":[{"host":"a","ingress_class":"x"},{"host":"A","ingress_class":"x"}]})",
             R"({"version":1,"virtual_hosts":{}})", R"({"version":1,"backends":[{"endpoints":[]}]})",
             R"({"version":1,"backends":[{"name":"b","affinity":"cookie"}]})",
             R"({"version":1,"backends":[{"name":"b","affinity":5,"endpoints":7}]})",
             R"({"version":1,"backends":[{"name":"b","affinity":"client_ip","affinity_timeout_s":-1}]})",
             R"({"version":1,"virtual_hosts":[{"host":"a","passthrough_backend":"nope"}]})",
             R"({"version":1,"virtual_hosts":[{"host":"a","routes":5,"passthrough_backend":7}]})",
             R"({"version":1,"class_default_backends":[{"ingress_class":"","backend":"b"}],"backends":[{"name":"b"}]})",
             R"({"version":1,"class_default_backends":[{"ingress_class":"x","backend":"b"},{"ingress_class":"x","backend":"b"}],"backends":[{"name":"b"}]})",
             R"({"version":1,"frontends":[{"port":443,"protocol":"https","backend":"b"}],"backends":[{"name":"b"}]})",
             R"({"version":1,"frontends":[{"port":5432,"protocol":"tcp"}]})",
             R"({"version":1,"frontends":[{"port":80,"protocol":"http"},{"address":"","port":80,"protocol":"https"}]})",
             R"({"version":1,"frontends":[{"address":"nope","port":80,"protocol":"http"}]})",
             R"({"version":1,"frontends":[{"port":80,"protocol":"udp"}]})",
             R"({"version":1,"frontends":[{"port":80,"protocol":"tcp","backend":"b","ingress_class":"x"}],"backends":[{"name":"b"}]})",
             R"({"version":1,"certificates":[{"name":"c","cert_pem":"x","key_pem":"y"},{"name":"c","cert_pem":"x","key_pem":"y"}]})",
             R"({"version":1,"certificates":[{"name":"c","cert_pem":"","key_pem":"y"}]})",
             R"({"version":1,"certificates":[{"name":"c","hosts":[1],"cert_pem":"x","key_pem":"y"}]})",
             R"({"version":1,"default_certificate":"missing"})",
             // Build errors (the codec leaves regex syntax and hash_by to the proxy).
             b + R"({"path":"/(","match":"prefix","backend":"b","regex":true}]}]})",
             b + R"({"path":"/","match":"prefix","backend":"b","hash_by":"$nope"}]}]})",
         })
        EXPECT_FALSE(check(json)) << json;
}

// The serving table's unchanged backends are shared, as with build(previous).
TEST(TableDecoder, UnchangedBackendsAreSharedWithTheServingTable) {
    auto first = control::decode_table(kRich, nullptr);
    ASSERT_TRUE(first) << first.error();
    std::string next = kRich;
    next.replace(next.find("\"port\":8081"), 11, "\"port\":8082");  // default/api:80 changes
    auto second = control::decode_table(next, first->table.get());
    ASSERT_TRUE(second) << second.error();
    const auto& t1 = *first->table;
    const auto& t2 = *second->table;
    EXPECT_NE(t1.backend_identity(t1.find_backend("default/api:80")), t2.backend_identity(t2.find_backend("default/api:80")));
    EXPECT_EQ(t1.backend_identity(t1.find_backend("default/web:80")), t2.backend_identity(t2.find_backend("default/web:80")));
    EXPECT_EQ(t1.backend_identity(t1.find_backend("default/db:5432")), t2.backend_identity(t2.find_backend("default/db:5432")));
    // And the same decisions as build(previous).
    auto snap = snapshot::decode(next);
    ASSERT_TRUE(snap);
    auto built = router::RouteTable::build(*snap, &t1);
    ASSERT_TRUE(built);
    for (std::uint32_t i = 0; i < t2.backends().size(); ++i) {
        const auto* old = t1.backend_identity(t1.find_backend(t2.backends()[i].name));
        EXPECT_EQ((*built)->backend_identity(i) == old, t2.backend_identity(i) == old) << i;
    }
}

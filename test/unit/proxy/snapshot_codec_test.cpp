#include <gtest/gtest.h>

#include "xgress/snapshot.h"

using namespace xgress::snapshot;

namespace {
Snapshot sample() {
    Snapshot s;
    s.version = 42;
    s.virtual_hosts = {{"shop.example.com", {{"/api", PathMatch::Prefix, "default/api:80"}, {"/x\"y", PathMatch::Exact, "default/web:80"}}},
                       {"", {{"/", PathMatch::Prefix, "default/web:80"}}}};
    s.default_backend = "default/web:80";
    s.backends = {{"default/api:80", {{"10.244.1.2", 8080}, {"fd00::1", 8081}}}, {"default/web:80", {}}};
    return s;
}

std::string decode_error(std::string_view json) {
    auto r = decode(json);
    return r ? std::string("ok") : r.error();
}
}  // namespace

TEST(SnapshotCodec, RoundTrip) {
    Snapshot s = sample();
    auto back = decode(encode(s));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, s);
}

TEST(SnapshotCodec, EmptySnapshot) {
    auto r = decode(R"({"version":1})");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->version, 1u);
    EXPECT_TRUE(r->backends.empty());
}

TEST(SnapshotCodec, HostsAreLowerCased) {
    auto r = decode(R"({"version":1,"virtual_hosts":[{"host":"Shop.Test","routes":[]}]})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->virtual_hosts[0].host, "shop.test");
}

TEST(SnapshotCodec, InvalidInputsNameTheField) {
    EXPECT_NE(decode_error("{").find("invalid JSON"), std::string::npos);
    EXPECT_EQ(decode_error("[]"), "snapshot: must be an object");
    EXPECT_EQ(decode_error(R"({})"), "version: missing");
    EXPECT_EQ(decode_error(R"({"version":-1})"), "version: must be a non-negative integer");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a","routes":[{"path":"/","match":"prefix","backend":"x"}]}]})"),
              "virtual_hosts[0].routes[0].backend: unknown backend \"x\"");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","routes":[{"path":"nope","match":"prefix","backend":"b"}]}]})"),
              "virtual_hosts[0].routes[0].path: must start with '/'");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","routes":[{"path":"/","match":"regex","backend":"b"}]}]})"),
              "virtual_hosts[0].routes[0].match: must be \"prefix\" or \"exact\", got \"regex\"");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","endpoints":[{"address":"10.0.0.300","port":80}]}]})"),
              "backends[0].endpoints[0].address: not an IP address: \"10.0.0.300\"");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","endpoints":[{"address":"10.0.0.3","port":0}]}]})"),
              "backends[0].endpoints[0].port: must be an integer in 1..65535");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","endpoints":[{"address":"10.0.0.3","port":70000}]}]})"),
              "backends[0].endpoints[0].port: must be an integer in 1..65535");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b"},{"name":"b"}]})"), "backends[1].name: duplicate backend \"b\"");
    EXPECT_EQ(decode_error(R"({"version":1,"default_backend":"zz"})"), "default_backend: unknown backend \"zz\"");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a"},{"host":"A"}]})"),
              "virtual_hosts[1].host: duplicate host \"a\"");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"endpoints":[]}]})"), "backends[0].name: missing");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":{}})"), "virtual_hosts: must be an array");
}

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
    s.frontends = {{"", 30080, FrontendProtocol::Http, ""},
                   {"192.0.2.10", 5432, FrontendProtocol::Tcp, "default/api:80"},
                   {"2001:db8::1", 80, FrontendProtocol::Http, ""}};
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

TEST(SnapshotCodec, FrontendsAreValidated) {
    const std::string b = R"("backends":[{"name":"db"}])";
    auto with = [&](std::string_view fe) { return decode_error(R"({"version":1,)" + b + R"(,"frontends":[)" + std::string(fe) + "]}"); };
    EXPECT_EQ(with(R"({"address":"","port":30080,"protocol":"http","backend":""})"), "ok");
    EXPECT_EQ(with(R"({"port":30080,"protocol":"http"})"), "ok") << "address and backend may be omitted";
    EXPECT_EQ(with(R"({"address":"10.1.2.3","port":5432,"protocol":"tcp","backend":"db"})"), "ok");
    EXPECT_EQ(with(R"({"address":"nope","port":1,"protocol":"http"})"), "frontends[0].address: not an IP address: \"nope\"");
    EXPECT_EQ(with(R"({"port":0,"protocol":"http"})"), "frontends[0].port: must be an integer in 1..65535");
    EXPECT_EQ(with(R"({"port":1,"protocol":"udp"})"), "frontends[0].protocol: must be \"http\" or \"tcp\", got \"udp\"");
    EXPECT_EQ(with(R"({"port":1})"), "frontends[0].protocol: missing");
    EXPECT_EQ(with(R"({"port":1,"protocol":"tcp"})"), "frontends[0].backend: required for protocol \"tcp\"");
    EXPECT_EQ(with(R"({"port":1,"protocol":"tcp","backend":"x"})"), "frontends[0].backend: unknown backend \"x\"");
    EXPECT_EQ(with(R"({"port":1,"protocol":"http","backend":"db"})"),
              "frontends[0].backend: must be empty for protocol \"http\" (Ingress rules route it)");
    EXPECT_EQ(with(R"({"port":1,"protocol":"http"},{"address":"","port":1,"protocol":"http"})"), "frontends[1]: duplicate frontend *:1");
    EXPECT_EQ(decode_error(R"({"version":1,"frontends":{}})"), "frontends: must be an array");
}

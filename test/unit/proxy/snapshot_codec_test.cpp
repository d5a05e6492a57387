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
    EXPECT_EQ(with(R"({"port":1,"protocol":"udp"})"), "frontends[0].protocol: must be \"http\", \"https\" or \"tcp\", got \"udp\"");
    EXPECT_EQ(with(R"({"port":1})"), "frontends[0].protocol: missing");
    EXPECT_EQ(with(R"({"port":1,"protocol":"tcp"})"), "frontends[0].backend: required for protocol \"tcp\"");
    EXPECT_EQ(with(R"({"port":1,"protocol":"tcp","backend":"x"})"), "frontends[0].backend: unknown backend \"x\"");
    EXPECT_EQ(with(R"({"port":1,"protocol":"http","backend":"db"})"),
              "frontends[0].backend: must be empty for protocol \"http\" (Ingress rules route it)");
    EXPECT_EQ(with(R"({"port":1,"protocol":"http"},{"address":"","port":1,"protocol":"http"})"), "frontends[1]: duplicate frontend *:1");
    EXPECT_EQ(decode_error(R"({"version":1,"frontends":{}})"), "frontends: must be an array");
}

namespace {
// A snapshot using every schema-2 field with a non-default value.
Snapshot sample_v2() {
    Snapshot s = sample();
    Route& api = s.virtual_hosts[0].routes[0];
    api.regex = true;
    api.path = "/api/(v[0-9]+)/(.*)";
    api.rewrite_target = "/$2";
    api.ssl_redirect = true;
    api.app_root = "/app";
    api.allowed_sources = {"10.0.0.0/8", "2001:db8::/32"};
    api.connect_timeout_ms = 1500;
    api.read_timeout_ms = 20000;
    api.send_timeout_ms = 30000;
    api.max_body_bytes = 1 << 20;
    api.affinity_cookie = "route";
    api.hash_by = "$request_uri";
    api.backend_protocol = BackendProtocol::Https;
    api.upstream_server_name = "api.default.svc";
    api.upstream_verify = true;
    api.upstream_ca_pem = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
    Route moved;
    moved.path = "/old";
    moved.redirect = {"https://new.example.com/", 308};
    s.virtual_hosts[0].routes.push_back(moved);
    s.virtual_hosts[0].passthrough_backend = "default/api:80";
    s.backends[0].affinity = Affinity::ClientIp;
    s.backends[0].affinity_timeout_s = 600;
    s.frontends.push_back({"", 30443, FrontendProtocol::Https, ""});
    Certificate cert;
    cert.name = "default/shop-tls";
    cert.hosts = {"shop.example.com", "*.example.com"};
    cert.cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    cert.key_pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    cert.ocsp_staple = "MIIBCgoBAA==";
    s.certificates.push_back(cert);
    s.default_certificate = "default/shop-tls";
    return s;
}
}  // namespace

TEST(SnapshotCodec, Version2FieldsRoundTrip) {
    Snapshot s = sample_v2();
    auto back = decode(encode(s));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, s);
}

TEST(SnapshotCodec, DefaultPoliciesAreNotWritten) {
    // A snapshot without schema-2 features encodes exactly as version 1 did,
    // so older readers and the size of big snapshots are unaffected.
    std::string json = encode(sample());
    for (const char* key : {"regex", "rewrite_target", "ssl_redirect", "redirect", "allowed_sources", "affinity",
                            "certificates", "default_certificate", "passthrough_backend", "hash_by",
                            "affinity_timeout_s"})
        EXPECT_EQ(json.find(std::string("\"") + key + "\""), std::string::npos) << key;
}

TEST(SnapshotCodec, Version2FieldsAreValidated) {
    const std::string head = R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","routes":[{"path":"/","match":"prefix",)";
    EXPECT_EQ(decode_error(head + R"("backend":"b","allowed_sources":["10.0.0.0/33"]}]}]})"),
              "virtual_hosts[0].routes[0].allowed_sources[0]: not a CIDR: \"10.0.0.0/33\"");
    EXPECT_EQ(decode_error(head + R"("backend":"b","allowed_sources":["10.0.0.1"]}]}]})"),
              "virtual_hosts[0].routes[0].allowed_sources[0]: not a CIDR: \"10.0.0.1\"");
    EXPECT_EQ(decode_error(head + R"("backend":"","redirect":{"url":"/x","status":200}}]}]})"),
              "virtual_hosts[0].routes[0].redirect.status: must be 301, 302, 307 or 308");
    EXPECT_EQ(decode_error(head + R"("backend":""}]}]})"),
              "virtual_hosts[0].routes[0].backend: must not be empty unless the route redirects");
    EXPECT_EQ(decode_error(head + R"("backend":"b","read_timeout_ms":-5}]}]})"),
              "virtual_hosts[0].routes[0].read_timeout_ms: must be an integer in 0..4294967295");
    EXPECT_EQ(decode_error(head + R"("backend":"b","regex":"yes"}]}]})"),
              "virtual_hosts[0].routes[0].regex: must be true or false");
    EXPECT_EQ(decode_error(head + R"("backend":"b","backend_protocol":"grpc"}]}]})"),
              "virtual_hosts[0].routes[0].backend_protocol: must be \"http\" or \"https\", got \"grpc\"");
    EXPECT_EQ(decode_error(head + R"("backend":"b","upstream_server_name":5}]}]})").substr(0, 47),
              "virtual_hosts[0].routes[0].upstream_server_name");
    EXPECT_EQ(decode_error(head + R"("backend":"b","rewrite_target":"x"}]}]})"),
              "virtual_hosts[0].routes[0].rewrite_target: must start with '/'");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a","passthrough_backend":"nope"}]})"),
              "virtual_hosts[0].passthrough_backend: unknown backend \"nope\"");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","affinity":"cookie"}]})"),
              "backends[0].affinity: must be \"none\" or \"client_ip\", got \"cookie\"");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","affinity":"client_ip","affinity_timeout_s":-1}]})"),
              "backends[0].affinity_timeout_s: must be an integer in 0..4294967295");
    EXPECT_EQ(decode_error(R"({"version":1,"certificates":[{"name":"c","cert_pem":"x","key_pem":"y"},{"name":"c","cert_pem":"x","key_pem":"y"}]})"),
              "certificates[1].name: duplicate certificate \"c\"");
    EXPECT_EQ(decode_error(R"({"version":1,"certificates":[{"name":"c","cert_pem":"","key_pem":"y"}]})"),
              "certificates[0].cert_pem: must not be empty");
    EXPECT_EQ(decode_error(R"({"version":1,"default_certificate":"missing"})"),
              "default_certificate: unknown certificate \"missing\"");
    EXPECT_EQ(decode_error(R"({"version":1,"frontends":[{"port":443,"protocol":"https","backend":"b"}],"backends":[{"name":"b"}]})"),
              "frontends[0].backend: must be empty for protocol \"https\" (Ingress rules route it)");
}

TEST(SnapshotCodec, PatchRoundTripAndApply) {
    Snapshot base = sample_v2();
    EndpointsPatch patch;
    patch.base_version = base.version;
    patch.version = base.version + 1;
    Backend web;
    web.name = "default/web:80";
    web.endpoints = {{"10.244.2.7", 80}, {"10.244.2.8", 80}};
    patch.backends.push_back(web);
    auto decoded = decode_patch(encode_patch(patch));
    ASSERT_TRUE(decoded) << decoded.error();
    EXPECT_EQ(*decoded, patch);

    auto next = apply_patch(base, *decoded);
    ASSERT_TRUE(next) << next.error();
    EXPECT_EQ(next->version, base.version + 1);
    EXPECT_EQ(next->backends[1], web);
    EXPECT_EQ(next->backends[0], base.backends[0]);         // untouched
    EXPECT_EQ(next->virtual_hosts, base.virtual_hosts);     // routing unchanged
}

TEST(SnapshotCodec, PatchErrors) {
    Snapshot base = sample();
    EndpointsPatch stale;
    stale.base_version = base.version - 1;
    stale.version = base.version + 1;
    auto r = apply_patch(base, stale);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "patch is based on version 41 but version 42 is serving");

    EndpointsPatch unknown;
    unknown.base_version = base.version;
    unknown.version = base.version + 1;
    unknown.backends.push_back(Backend{"default/gone:80", {}, Affinity::None});
    r = apply_patch(base, unknown);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "patch names unknown backend \"default/gone:80\"");

    auto bad = decode_patch(R"({"base_version":5,"version":5,"backends":[]})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "version: must be greater than base_version");
    bad = decode_patch(R"({"base_version":5,"version":6,"backends":[{"name":"a"},{"name":"a"}]})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "backends[1].name: duplicate backend \"a\"");
    bad = decode_patch(R"({"version":6})");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "base_version: missing");
}

TEST(SnapshotCodec, PatchInPlaceLeavesTheSnapshotAloneOnError) {
    Snapshot s = sample();
    const Snapshot before = s;
    EndpointsPatch patch;
    patch.base_version = s.version;
    patch.version = s.version + 1;
    patch.backends.push_back(Backend{"default/web:80", {{"10.0.0.9", 80}}, Affinity::None});
    patch.backends.push_back(Backend{"default/gone:80", {}, Affinity::None});
    auto r = apply_patch_in_place(s, patch);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "patch names unknown backend \"default/gone:80\"");
    EXPECT_EQ(s, before);  // the known backend was not written either

    patch.backends.pop_back();
    ASSERT_TRUE(apply_patch_in_place(s, patch));
    EXPECT_EQ(s.version, before.version + 1);
    EXPECT_EQ(s.backends[1].endpoints, (std::vector<Endpoint>{{"10.0.0.9", 80}}));
    EXPECT_EQ(s.backends[0], before.backends[0]);
}

// encode() appends runs of plain characters whole and escapes the rest: an
// escape at the start, in the middle, at the end, back to back, and every
// control character must come back unchanged.
TEST(SnapshotCodec, EscapesRoundTripWherever) {
    std::string controls;
    for (char c = 1; c < 0x20; ++c) controls.push_back(c);
    const std::vector<std::string> texts = {"\"start", "mid\\dle", "end\n", "\"\"\\\\\r\t", "", controls,
                                            "plain/ascii:80", "caf\xc3\xa9 \x7f"};
    Snapshot s;
    s.version = 3;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        Route r{"/p" + texts[i], PathMatch::Exact, "b" + std::to_string(i)};
        r.rewrite_target = "/" + texts[i];
        s.virtual_hosts.push_back({"h" + std::to_string(i), {r}});
        s.backends.push_back({"b" + std::to_string(i), {}});
    }
    const std::string json = encode(s);
    EXPECT_EQ(json.find('\n'), std::string::npos);
    auto back = decode(json);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, s);
}

// Duplicate and reference checks over large documents (the flat name and
// host sets) still report the first offending element in document order.
TEST(SnapshotCodec, DuplicatesInLargeSnapshotsNameTheFirstRepeat) {
    Snapshot s;
    s.version = 1;
    for (int i = 0; i < 5000; ++i) {
        s.backends.push_back({"ns/svc-" + std::to_string(i) + ":80", {{"10.0.0.1", 80}}});
        s.virtual_hosts.push_back({"h" + std::to_string(i) + ".example.com", {{"/", PathMatch::Prefix, s.backends.back().name}}});
    }
    ASSERT_TRUE(decode(encode(s)));
    Snapshot dup_backend = s;
    dup_backend.backends[4321].name = "ns/svc-17:80";
    dup_backend.backends[4999].name = "ns/svc-3:80";
    EXPECT_EQ(decode_error(encode(dup_backend)), "backends[4321].name: duplicate backend \"ns/svc-17:80\"");
    Snapshot dup_host = s;
    dup_host.virtual_hosts[3999].host = "H12.example.com";  // lower-cased before the check
    EXPECT_EQ(decode_error(encode(dup_host)), "virtual_hosts[3999].host: duplicate host \"h12.example.com\"");
    Snapshot other_class = dup_host;
    other_class.virtual_hosts[3999].ingress_class = "internal";  // unique per (class, host)
    EXPECT_EQ(decode_error(encode(other_class)), "ok");
    Snapshot unknown = s;
    unknown.virtual_hosts[4500].routes[0].backend = "ns/svc-5000:80";
    EXPECT_EQ(decode_error(encode(unknown)), "virtual_hosts[4500].routes[0].backend: unknown backend \"ns/svc-5000:80\"");
}

// The decoder looks for a backend's or host's optional members only when the
// object has members besides the required one and its list (a shortcut for
// the 10,000-object swap): objects of two members with an optional one must
// still be read, and errors keep the order of the schema.
TEST(SnapshotCodec, OptionalMembersOfSmallObjectsAreRead) {
    auto backend_only = decode(R"({"version":1,"backends":[{"name":"b","affinity":"client_ip"},)"
                               R"({"affinity_timeout_s":60,"name":"c"}]})");
    ASSERT_TRUE(backend_only) << backend_only.error();
    EXPECT_EQ(backend_only->backends[0].affinity, Affinity::ClientIp);
    EXPECT_EQ(backend_only->backends[1].affinity_timeout_s, 60u);
    auto host_only = decode(R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","ingress_class":"x"},)"
                            R"({"passthrough_backend":"b","host":"p"}]})");
    ASSERT_TRUE(host_only) << host_only.error();
    EXPECT_EQ(host_only->virtual_hosts[0].ingress_class, "x");
    EXPECT_EQ(host_only->virtual_hosts[1].passthrough_backend, "b");
    auto full = decode(R"({"version":1,"backends":[{"name":"b","endpoints":[],"affinity":"client_ip"}],)"
                       R"("virtual_hosts":[{"routes":[],"host":"a","ingress_class":"x"}]})");
    ASSERT_TRUE(full) << full.error();
    EXPECT_EQ(full->backends[0].affinity, Affinity::ClientIp);
    EXPECT_EQ(full->virtual_hosts[0].ingress_class, "x");
}

TEST(SnapshotCodec, ErrorsOfSmallObjectsKeepTheSchemaOrder) {
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","affinity":5,"endpoints":7}]})"),
              "backends[0].affinity: must be a string");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","endpoints":7}]})"),
              "backends[0].endpoints: must be an array");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":"b","affinity":"sticky"}]})"),
              "backends[0].affinity: must be \"none\" or \"client_ip\", got \"sticky\"");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a","routes":5,"passthrough_backend":7}]})"),
              "virtual_hosts[0].passthrough_backend: must be a string");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a","routes":5}]})"),
              "virtual_hosts[0].routes: must be an array");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a","ingress_class":"x"},{"host":"A","ingress_class":"x"}]})"),
              "virtual_hosts[1].host: duplicate host \"a\" in class \"x\"");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":"a","passthrough_backend":"nope"}]})"),
              "virtual_hosts[0].passthrough_backend: unknown backend \"nope\"");
}

// The members of routes, hosts, backends and endpoints are found in one pass
// over each object's keys: in any order, a repeated key keeps its first value
// (as a lookup by name did), and missing or mistyped members give the same
// errors as the lookups by name.
TEST(SnapshotCodec, MembersFoundInOnePassKeepLookupSemantics) {
    auto shuffled = decode(R"({"version":1,"backends":[{"endpoints":[{"port":80,"address":"10.0.0.1","x":1}],"name":"b","name":"c"}],)"
                           R"("virtual_hosts":[{"routes":[{"backend":"b","match":"exact","path":"/a","path":"/b"}],"host":"H","host":"g"}]})");
    ASSERT_TRUE(shuffled) << shuffled.error();
    EXPECT_EQ(shuffled->backends[0].name, "b");
    EXPECT_EQ(shuffled->backends[0].endpoints, (std::vector<Endpoint>{{"10.0.0.1", 80}}));
    EXPECT_EQ(shuffled->virtual_hosts[0].host, "h");
    EXPECT_EQ(shuffled->virtual_hosts[0].routes[0].path, "/a");
    EXPECT_EQ(shuffled->virtual_hosts[0].routes[0].match, PathMatch::Exact);
    const std::string b = R"({"version":1,"backends":[{"name":"b"}],"virtual_hosts":[{"host":"a","routes":[)";
    EXPECT_EQ(decode_error(b + R"({"match":"prefix","backend":"b"}]}]})"), "virtual_hosts[0].routes[0].path: missing");
    EXPECT_EQ(decode_error(b + R"({"path":1,"match":"prefix","backend":"b"}]}]})"),
              "virtual_hosts[0].routes[0].path: must be a string");
    EXPECT_EQ(decode_error(b + R"({"path":"/","backend":"b"}]}]})"), "virtual_hosts[0].routes[0].match: missing");
    EXPECT_EQ(decode_error(b + R"({"path":"/","match":[],"backend":"b"}]}]})"),
              "virtual_hosts[0].routes[0].match: must be a string");
    EXPECT_EQ(decode_error(b + R"({"path":"/","match":"prefix"}]}]})"), "virtual_hosts[0].routes[0].backend: missing");
    EXPECT_EQ(decode_error(b + R"({"path":"/","match":"prefix","backend":null}]}]})"),
              "virtual_hosts[0].routes[0].backend: must be a string");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"routes":[]}]})"), "virtual_hosts[0].host: missing");
    EXPECT_EQ(decode_error(R"({"version":1,"virtual_hosts":[{"host":7}]})"), "virtual_hosts[0].host: must be a string");
    EXPECT_EQ(decode_error(R"({"version":1,"backends":[{"name":false}]})"), "backends[0].name: must be a string");
    const std::string e = R"({"version":1,"backends":[{"name":"b","endpoints":[)";
    EXPECT_EQ(decode_error(e + R"({"port":80}]}]})"), "backends[0].endpoints[0].address: missing");
    EXPECT_EQ(decode_error(e + R"({"address":1,"port":80}]}]})"), "backends[0].endpoints[0].address: must be a string");
    EXPECT_EQ(decode_error(e + R"({"address":"10.0.0.1"}]}]})"), "backends[0].endpoints[0].port: must be an integer in 1..65535");
    EXPECT_EQ(decode_error(e + R"({"address":"10.0.0.1","port":"80"}]}]})"),
              "backends[0].endpoints[0].port: must be an integer in 1..65535");
    EXPECT_EQ(decode_error(e + R"(5]}]})"), "backends[0].endpoints[0]: must be an object");
}

// The compact storage behind the agent's memory budget (<= 500 bytes per
// endpoint at 100,000 endpoints): packed endpoints, the vector-backed label
// and annotation map, the cache keyed by the objects themselves, and the
// per-update bookkeeping that must not outlive the pass.
#include <gtest/gtest.h>

#include "k8s/manifests_source.h"
#include "k8s/object_cache.h"
#include "k8s/packed_endpoint.h"
#include "k8s/string_map.h"

namespace xgress::agent::k8s {
namespace {

std::vector<std::string> addresses_of(const PackedEndpoint& e) {
    std::vector<std::string> out;
    e.for_each_address([&](std::string_view a) { out.emplace_back(a); });
    return out;
}

// Every address comes back exactly as written: binary when that prints the
// same text, text otherwise (non-canonical IPv6, leading zeros, FQDNs).
TEST(PackedEndpoint, AddressesRoundTripAsWritten) {
    const std::vector<std::string> addresses = {"10.12.3.4", "2001:db8::1", "2001:DB8::1", "::ffff:10.0.0.1",
                                                "010.0.0.1", "pod-a.example.com", "0.0.0.0", "ff02::1:3"};
    PackedEndpoint e(true, std::nullopt, false, "web-5d8c7f9b6d-x2k4q", addresses);
    EXPECT_EQ(e.address_count(), addresses.size());
    EXPECT_EQ(addresses_of(e), addresses);
    EXPECT_EQ(e.address(1), "2001:db8::1");
    EXPECT_EQ(e.address(2), "2001:DB8::1");
    EXPECT_EQ(e.address(99), "");
    EXPECT_EQ(e.target_ref_name(), "web-5d8c7f9b6d-x2k4q");
}

TEST(PackedEndpoint, ConditionsKeepUnknownFalseAndTrue) {
    const std::optional<bool> values[] = {std::nullopt, false, true};
    for (auto ready : values)
        for (auto serving : values)
            for (auto terminating : values) {
                PackedEndpoint e(ready, serving, terminating, "", {"10.0.0.1"});
                EXPECT_EQ(e.ready(), ready);
                EXPECT_EQ(e.serving(), serving);
                EXPECT_EQ(e.terminating(), terminating);
                EXPECT_EQ(e.target_ref_name(), "");
                EXPECT_EQ(e.address(0), "10.0.0.1");
            }
}

TEST(PackedEndpoint, SmallCopyableAndComparable) {
    EXPECT_EQ(sizeof(PackedEndpoint), sizeof(void*));
    PackedEndpoint e(true, true, false, "svc-1234-bcdfghjklm-x2k4q", {"10.0.39.16"});
    EXPECT_LE(e.block_size(), 40u);  // one 48-byte malloc block
    PackedEndpoint copy = e;
    EXPECT_EQ(copy, e);
    EXPECT_EQ(copy.address(0), "10.0.39.16");
    PackedEndpoint other(false, true, true, "svc-1234-bcdfghjklm-x2k4q", {"10.0.39.16"});
    EXPECT_FALSE(other == e);
    copy = other;
    EXPECT_EQ(copy, other);
    EXPECT_EQ(e.ready(), std::optional<bool>(true));  // the source of the first copy is untouched
    EXPECT_EQ(PackedEndpoint(), PackedEndpoint(std::nullopt, std::nullopt, std::nullopt, "", {}));
    EXPECT_EQ(PackedEndpoint().address_count(), 0u);
    EXPECT_EQ(PackedEndpoint().target_ref_name(), "");
    // A Pod name longer than the length byte allows is cut, not overrun.
    PackedEndpoint long_name(std::nullopt, std::nullopt, std::nullopt, std::string(300, 'p'), {"10.0.0.1"});
    EXPECT_EQ(long_name.target_ref_name(), std::string(255, 'p'));
    EXPECT_EQ(long_name.address(0), "10.0.0.1");
}

TEST(StringMap, SortedFindInsertReplace) {
    StringMap map{{"b", "2"}, {"a", "1"}, {"b", "3"}};
    ASSERT_EQ(map.size(), 2u);
    EXPECT_EQ(map.begin()->first, "a");
    EXPECT_EQ(map.find("b")->second, "3");
    EXPECT_EQ(map.find("c"), map.end());
    map["c"] = "4";
    map["a"] = "5";
    EXPECT_EQ(map, (StringMap{{"a", "5"}, {"b", "3"}, {"c", "4"}}));
    EXPECT_TRUE(map.contains("c"));
    map.clear();
    EXPECT_TRUE(map.empty());
    EXPECT_EQ(sizeof(StringMap), sizeof(void*));
    StringMap copy = StringMap{{"k", "v"}};
    StringMap other = copy;  // deep copy
    other["k"] = "w";
    EXPECT_EQ(copy.find("k")->second, "v");
    EXPECT_NE(copy, other);
}

// Every cached object is one sizeof(Object) allocation: the alternatives
// stay at an EndpointSlice's size (objects.h says why).
TEST(CompactObjects, ObjectIsNoBiggerThanItsCommonAlternatives) {
    EXPECT_LE(sizeof(Object), 216u);
    EXPECT_LE(sizeof(Service), sizeof(Object) - 8);
    EXPECT_LE(sizeof(Ingress), sizeof(Object) - 8);
    EXPECT_LE(sizeof(EndpointSlice), sizeof(Object) - 8);
}

TEST(CompactObjects, CompactFieldsCopyAndCompareByValue) {
    StringList list{"a", "b"};
    StringList copy = list;
    EXPECT_EQ(copy, list);
    EXPECT_EQ(copy, (std::vector<std::string>{"a", "b"}));
    copy.push_back("c");
    EXPECT_NE(copy, list);
    EXPECT_EQ(list.size(), 2u);
    EXPECT_TRUE(StringList(std::vector<std::string>{}).empty());
    EXPECT_EQ(StringList(), StringList(std::vector<std::string>{}));

    HeapOptional<IngressBackend> none, one = IngressBackend{.service_name = "web", .port_number = 80, .port_name = ""};
    EXPECT_FALSE(none);
    ASSERT_TRUE(one);
    HeapOptional<IngressBackend> two = one;
    EXPECT_EQ(one, two);
    two->port_number = 81;
    EXPECT_EQ(one->port_number, 80);
    EXPECT_NE(one, two);
    EXPECT_NE(none, one);
    none = std::optional<IngressBackend>();
    EXPECT_FALSE(none);

    TlsSecret secret;
    secret.metadata.name = "s";
    Object boxed = secret;
    EXPECT_EQ(kind_of(boxed), Kind::TlsSecret);
    EXPECT_EQ(kind_for<TlsSecret>(), Kind::TlsSecret);
    ASSERT_NE(object_as<TlsSecret>(boxed), nullptr);
    EXPECT_EQ(object_as<TlsSecret>(boxed)->metadata.name, "s");
    EXPECT_EQ(metadata_of(boxed).name, "s");
    EXPECT_EQ(object_as<Service>(boxed), nullptr);
    Object copied = boxed;
    EXPECT_EQ(copied, boxed);
}

Service service(const std::string& name, int port) {
    Service s;
    s.metadata.namespace_ = "d";
    s.metadata.name = name;
    s.ports.push_back(ServicePort{.name = "", .protocol = InternedString("TCP"), .port = static_cast<std::uint16_t>(port)});
    return s;
}

// The cache holds no key copies: an upsert with the same key replaces the
// object in place and lookups by key find the new one.
TEST(ObjectCache, ReplacingKeepsOneEntryAndServesTheNewObject) {
    ObjectCache cache;
    cache.upsert(service("a", 1));
    cache.upsert(service("c", 1));
    auto replacement = std::make_shared<const Object>(service("a", 2));
    EXPECT_TRUE(cache.upsert(replacement));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.shared(ObjectKey{Kind::Service, "d", "a"}), replacement);
    EXPECT_EQ(cache.find<Service>("d", "a")->ports[0].port, 2);
    auto listed = cache.list<Service>();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0]->metadata.name, "a");
    EXPECT_EQ(listed[1]->metadata.name, "c");
    EXPECT_EQ(compare_key(*replacement, ObjectKey{Kind::Service, "d", "b"}), -1);
}

// previous() keeps only keys that had an entry, and both go once the caller
// is done with the update (they named every object after a full sync).
TEST(LastGoodObjects, UpdateBookkeepingIsDroppedAfterThePass) {
    LastGoodObjects last_good;
    std::vector<std::string> messages;
    LoadedManifests first;
    first.files.push_back("a.yaml");
    load_manifest_text("kind: Service\nmetadata: {name: a, namespace: d}\nspec: {ports: [{port: 80}]}\n", "a.yaml",
                       first);
    last_good.update(first, messages);
    EXPECT_EQ(last_good.last_touched().size(), 1u);
    EXPECT_EQ(last_good.previous(ObjectKey{Kind::Service, "d", "a"}), nullptr);  // new: nothing before
    last_good.forget_last_update();
    EXPECT_TRUE(last_good.last_touched().empty());

    LoadedManifests second;
    second.files.push_back("a.yaml");
    load_manifest_text("kind: Service\nmetadata: {name: a, namespace: d}\nspec: {ports: [{port: 81}]}\n", "a.yaml",
                       second);
    last_good.update(second, messages);
    auto before = last_good.previous(ObjectKey{Kind::Service, "d", "a"});
    ASSERT_NE(before, nullptr);
    EXPECT_EQ(std::get<Service>(*before).ports[0].port, 80);
    last_good.forget_last_update();
    EXPECT_EQ(last_good.previous(ObjectKey{Kind::Service, "d", "a"}), nullptr);
}

}  // namespace
}  // namespace xgress::agent::k8s

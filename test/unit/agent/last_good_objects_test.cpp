// LastGoodObjects: a broken file keeps its objects' last good versions;
// clean files and deletions apply exactly.
#include <gtest/gtest.h>

#include "k8s/manifests_source.h"
#include "k8s/units.h"
#include "tls_fixtures.h"

namespace xgress::agent::k8s {
namespace {

LoadedManifests load(const std::vector<std::pair<std::string, std::string>>& files) {
    LoadedManifests out;
    for (const auto& [name, text] : files) {
        out.files.push_back(name);
        load_manifest_text(text, name, out);
    }
    return out;
}

constexpr const char* kGood = "kind: Service\nmetadata: {name: a, namespace: d}\nspec: {ports: [{port: 80}]}\n"
                              "---\nkind: Service\nmetadata: {name: b, namespace: d}\nspec: {ports: [{port: 81}]}\n";

std::string service_on_port(int port) {
    return "kind: Service\nmetadata: {name: a, namespace: d}\nspec: {ports: [{port: " + std::to_string(port) + "}]}\n";
}

LoadedManifests partial(const std::vector<std::pair<std::string, std::string>>& files,
                        const std::vector<std::string>& removed = {}) {
    LoadedManifests out = load(files);
    out.partial = true;
    out.removed = removed;
    return out;
}

// The same object in several files: the file whose path sorts last serves
// it, through every add, edit and removal, and the duplicate is reported
// while it lasts.
TEST(LastGoodObjects, DuplicateDefinitionsFollowTheLastFile) {
    LastGoodObjects last_good;
    std::vector<std::string> messages;
    auto port = [&] { return last_good.cache().find<Service>("d", "a")->ports[0].port; };
    last_good.update(load({{"a.yaml", service_on_port(1)}, {"b.yaml", service_on_port(2)}}), messages);
    EXPECT_EQ(port(), 2);
    EXPECT_EQ(messages, std::vector<std::string>{"duplicate Service d/a (again in b.yaml): the later file wins"});

    messages.clear();
    last_good.update(partial({}, {"b.yaml"}), messages);  // b.yaml deleted: a.yaml's version serves
    EXPECT_EQ(port(), 1);
    EXPECT_TRUE(messages.empty());
    EXPECT_EQ(last_good.previous(ObjectKey{Kind::Service, "d", "a"}) != nullptr, true);

    last_good.update(partial({{"c.yaml", service_on_port(3)}, {"b.yaml", service_on_port(2)}}), messages);
    EXPECT_EQ(port(), 3);
    messages.clear();
    last_good.update(partial({{"a.yaml", service_on_port(5)}}), messages);  // not the winner: still c
    EXPECT_EQ(port(), 3);
    EXPECT_EQ(messages, std::vector<std::string>{"duplicate Service d/a (again in c.yaml): the later file wins"});
    last_good.update(partial({}, {"c.yaml"}), messages);
    EXPECT_EQ(port(), 2);
    last_good.update(partial({}, {"b.yaml"}), messages);
    EXPECT_EQ(port(), 5);
    messages.clear();
    last_good.update(partial({}, {"a.yaml"}), messages);
    EXPECT_EQ(last_good.cache().size(), 0u);
    EXPECT_TRUE(messages.empty());
    // Back again in one file after all that: served, no duplicate.
    last_good.update(partial({{"b.yaml", service_on_port(7)}}), messages);
    EXPECT_EQ(port(), 7);
    EXPECT_TRUE(messages.empty());
}

TEST(LastGoodObjects, BrokenObjectKeepsItsPreviousVersion) {
    LastGoodObjects last_good;
    std::vector<std::string> messages;
    ObjectCache first = last_good.update(load({{"s.yaml", kGood}}), messages);
    EXPECT_EQ(first.size(), 2u);

    // b's port becomes invalid, a changes: a is updated, b keeps port 81.
    messages.clear();
    ObjectCache second = last_good.update(
        load({{"s.yaml", "kind: Service\nmetadata: {name: a, namespace: d}\nspec: {ports: [{port: 90}]}\n---\n"
                         "kind: Service\nmetadata: {name: b, namespace: d}\nspec: {ports: [{port: 0}]}\n"}}),
        messages);
    ASSERT_NE(second.find<Service>("d", "a"), nullptr);
    EXPECT_EQ(second.find<Service>("d", "a")->ports[0].port, 90);
    ASSERT_NE(second.find<Service>("d", "b"), nullptr);
    EXPECT_EQ(second.find<Service>("d", "b")->ports[0].port, 81);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0], "s.yaml: Service d/b did not load; keeping its last good version");

    // Unparseable YAML: everything from the file stays.
    messages.clear();
    ObjectCache third = last_good.update(load({{"s.yaml", "kind: [unclosed\n"}}), messages);
    EXPECT_EQ(third.size(), 2u);
    EXPECT_EQ(third.find<Service>("d", "a")->ports[0].port, 90);

    // Fixed file with b removed: b goes away for real.
    messages.clear();
    ObjectCache fourth = last_good.update(
        load({{"s.yaml", "kind: Service\nmetadata: {name: a, namespace: d}\nspec: {ports: [{port: 90}]}\n"}}), messages);
    EXPECT_EQ(fourth.size(), 1u);
    EXPECT_TRUE(messages.empty());

    // File deleted: its objects go.
    ObjectCache fifth = last_good.update(load({}), messages);
    EXPECT_EQ(fifth.size(), 0u);
}

TEST(LastGoodObjects, BadCertificateKeepsTheLastGoodOne) {
    auto secret = [](const std::string& key) {
        return std::string("kind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: c, namespace: d}\ndata:\n"
                           "  tls.crt: ") + xgress::agent::test::kTestCertBase64 + "\n  tls.key: " + key + "\n";
    };
    LastGoodObjects last_good;
    std::vector<std::string> messages;
    last_good.update(load({{"c.yaml", secret(xgress::agent::test::kTestKeyBase64)}}), messages);
    LoadedManifests broken = load({{"c.yaml", secret(xgress::agent::test::kOtherKeyBase64)}});
    ASSERT_EQ(broken.errors.size(), 1u);
    ObjectCache cache = last_good.update(broken, messages);
    const TlsSecret* kept = cache.find<TlsSecret>("d", "c");
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(kept->dns_names, (std::vector<std::string>{"shop.example.com", "*.shop.example.com"}));
}

TEST(Units, DurationsAndSizes) {
    EXPECT_EQ(parse_duration_ms("30"), 30000u);
    EXPECT_EQ(parse_duration_ms("250ms"), 250u);
    EXPECT_EQ(parse_duration_ms("2m"), 120000u);
    EXPECT_EQ(parse_duration_ms("1h"), 3600000u);
    EXPECT_FALSE(parse_duration_ms("5 s"));
    EXPECT_FALSE(parse_duration_ms("-1"));
    EXPECT_EQ(parse_size_bytes("8m"), 8u << 20);
    EXPECT_EQ(parse_size_bytes("512K"), 512u << 10);
    EXPECT_EQ(parse_size_bytes("0"), 0u);
    EXPECT_FALSE(parse_size_bytes("1t"));
    EXPECT_FALSE(parse_size_bytes("99999999999999999999g"));
}

}  // namespace
}  // namespace xgress::agent::k8s

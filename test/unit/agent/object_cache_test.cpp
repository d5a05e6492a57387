#include <gtest/gtest.h>

#include "k8s/object_cache.h"

namespace xgress::agent::k8s {
namespace {

Service service(const std::string& ns, const std::string& name) {
    Service s;
    s.metadata.namespace_ = ns;
    s.metadata.name = name;
    return s;
}

TEST(ObjectCache, KeyedByKindNamespaceName) {
    ObjectCache cache;
    EXPECT_FALSE(cache.upsert(service("b", "x")));
    EXPECT_FALSE(cache.upsert(service("a", "y")));
    IngressClass c;
    c.metadata.name = "x";
    EXPECT_FALSE(cache.upsert(c));
    EXPECT_TRUE(cache.upsert(service("b", "x")));  // replaced
    EXPECT_EQ(cache.size(), 3u);

    auto services = cache.list<Service>();
    ASSERT_EQ(services.size(), 2u);
    EXPECT_EQ(services[0]->metadata.namespace_, "a");
    EXPECT_EQ(services[1]->metadata.namespace_, "b");
    EXPECT_EQ(cache.list<IngressClass>().size(), 1u);
    EXPECT_TRUE(cache.list<Ingress>().empty());

    EXPECT_NE(cache.find<Service>("b", "x"), nullptr);
    EXPECT_EQ(cache.find<Service>("a", "x"), nullptr);
    EXPECT_TRUE(cache.erase(ObjectKey{Kind::Service, "b", "x"}));
    EXPECT_EQ(cache.find<Service>("b", "x"), nullptr);
    EXPECT_EQ(describe(ObjectKey{Kind::Service, "a", "y"}), "Service a/y");
    EXPECT_EQ(describe(ObjectKey{Kind::IngressClass, "", "x"}), "IngressClass x");
}

}  // namespace
}  // namespace xgress::agent::k8s

namespace xgress::agent::k8s {
namespace {

// Node names are interned: equal text is one pooled string (so equality is a
// pointer compare), different text never compares equal, "" is the empty value.
TEST(InternedString, EqualTextSharesOneCopy) {
    const std::string long_name = "ip-10-0-17-203.eu-west-1.compute.internal";
    InternedString a(long_name), b{std::string_view(long_name)}, c("node-b"), empty, empty2("");
    EXPECT_EQ(&a.str(), &b.str());
    EXPECT_EQ(a, b);
    EXPECT_FALSE(a == c);
    EXPECT_EQ(a.str(), long_name);
    EXPECT_TRUE(a == std::string_view(long_name));
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(empty, empty2);
    EXPECT_EQ(empty.str(), "");
    EXPECT_EQ(sizeof(InternedString), sizeof(void*));
}

}  // namespace
}  // namespace xgress::agent::k8s

// The frontend reconcile plan (pure, no kernel): stable ids, writes before
// deletes, conflicts and invalid specs rejected with the frontend's name.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "frontend_plan.h"
#include "frontend_specs.h"

namespace xgress::agent::dataplane {
namespace {

TEST(FrontendPlan, NewFrontendsTakeLowestFreeIds) {
    std::map<FrontendKey, CurrentFrontend> current{{frontend_key(np(1)), {1, 0, "ns/svc:http"}}};
    auto plan = plan_frontends(current, {np(1), np(2), np(3)});
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->writes.size(), 2u);  // np(1) unchanged: not rewritten
    EXPECT_EQ(plan->writes[0].value.id, 2u);
    EXPECT_EQ(plan->writes[1].value.id, 3u);
    EXPECT_TRUE(plan->writes[0].is_new);
    EXPECT_TRUE(plan->deletes.empty());
}

TEST(FrontendPlan, DeletedIdsAreNotReusedInTheSameApply) {
    std::map<FrontendKey, CurrentFrontend> current{{frontend_key(np(1)), {1, 0, "ns/svc:http"}}};
    auto plan = plan_frontends(current, {np(2)});
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->writes.size(), 1u);
    EXPECT_EQ(plan->writes[0].value.id, 2u);
    ASSERT_EQ(plan->deletes.size(), 1u);
    EXPECT_EQ(plan->deletes[0], frontend_key(np(1)));
}

TEST(FrontendPlan, ChangedSlotOrNameKeepsId) {
    std::map<FrontendKey, CurrentFrontend> current{{frontend_key(np(1)), {7, 0, "ns/svc:http"}},
                                                   {frontend_key(np(2)), {8, 0, "ns/svc:http"}}};
    auto plan = plan_frontends(current, {np(1, 3), np(2, 0, "ns/other:http")});
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->writes.size(), 2u);
    EXPECT_EQ(plan->writes[0].value.id, 7u);
    EXPECT_EQ(plan->writes[0].value.listener_slot, 3u);
    EXPECT_FALSE(plan->writes[0].is_new);
    EXPECT_EQ(plan->writes[1].value.id, 8u);
}

TEST(FrontendPlan, VipAndNodePortOnSamePortAreDistinct) {
    auto plan = plan_frontends({}, {np(80), v4("203.0.113.10", 80)});
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->writes.size(), 2u);
    EXPECT_NE(frontend_key(np(80)), frontend_key(v4("0.0.0.0", 80)));
}

TEST(FrontendPlan, ConflictingDuplicatesAreRejected) {
    auto plan = plan_frontends({}, {np(80, 0, "a/x:http"), np(80, 1, "b/y:http")});
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("a/x:http"), std::string::npos);
    EXPECT_NE(plan.error().message.find("b/y:http"), std::string::npos);
    EXPECT_TRUE(plan_frontends({}, {np(80), np(80)}));  // identical duplicates are fine
}

TEST(FrontendPlan, InvalidSpecsAreRejected) {
    EXPECT_FALSE(plan_frontends({}, {np(0)}));
    EXPECT_FALSE(plan_frontends({}, {np(80, XGRESS_MAX_LISTENERS)}));
}

TEST(FrontendPlan, RunsOutOfIdsCleanly) {
    std::vector<FrontendSpec> many;
    for (std::uint32_t i = 0; i < XGRESS_MAX_FRONTENDS; ++i) many.push_back(np(static_cast<std::uint16_t>(i + 1)));
    auto plan = plan_frontends({}, many);
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("no free frontend id"), std::string::npos);
}

TEST(FrontendPlan, DescribesKeys) {
    EXPECT_EQ(describe(frontend_key(np(30080)).raw()), "*node*:30080/tcp");
    EXPECT_EQ(describe(frontend_key(v4("203.0.113.10", 80)).raw()), "203.0.113.10:80/tcp");
}

IpPrefix prefix(const char* text) {
    std::string s = text;
    const auto slash = s.find('/');
    IpPrefix p;
    const std::string address = s.substr(0, slash);
    p.address.v6 = address.find(':') != std::string::npos;
    inet_pton(p.address.v6 ? AF_INET6 : AF_INET, address.c_str(), p.address.bytes.data());
    p.length = static_cast<std::uint8_t>(std::stoi(s.substr(slash + 1)));
    return p;
}

FrontendSpec ranged(std::uint16_t port, std::vector<const char*> ranges) {
    auto spec = np(port);
    for (const char* r : ranges) spec.source_ranges.push_back(prefix(r));
    return spec;
}

std::set<SourceRangeKey> as_set(const std::vector<SourceRangeKey>& keys) { return {keys.begin(), keys.end()}; }

TEST(SourceRanges, KeysAreNormalisedAndIpv4IsMapped) {
    auto key = source_range_key(3, prefix("10.1.2.3/8"));
    ASSERT_TRUE(key);
    auto raw = key->raw();
    EXPECT_EQ(raw.frontend_id, 3u);
    EXPECT_EQ(raw.prefixlen, 32u + 96u + 8u);
    EXPECT_EQ(describe(raw), "10.0.0.0/8");
    auto v6 = source_range_key(3, prefix("2001:db8:ffff::1/33"));
    ASSERT_TRUE(v6);
    EXPECT_EQ(describe(v6->raw()), "2001:db8:8000::/33");
    EXPECT_EQ(describe(source_range_key(1, prefix("0.0.0.0/0"))->raw()), "0.0.0.0/0");
    EXPECT_EQ(describe(source_range_key(1, prefix("192.0.2.7/32"))->raw()), "192.0.2.7/32");
    EXPECT_FALSE(source_range_key(1, prefix("10.0.0.0/33")));
    EXPECT_FALSE(source_range_key(1, prefix("::/129")));
}

TEST(SourceRanges, NewFrontendGetsRangesAndFlag) {
    auto plan = plan_frontends({}, {ranged(30443, {"10.0.0.0/8", "2001:db8::/64"}), np(30080)});
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->writes.size(), 2u);
    const auto& ranged_write = plan->writes[0].key == frontend_key(np(30443)) ? plan->writes[0] : plan->writes[1];
    const auto& open_write = plan->writes[0].key == frontend_key(np(30443)) ? plan->writes[1] : plan->writes[0];
    EXPECT_EQ(ranged_write.value.flags, static_cast<std::uint32_t>(XGRESS_FRONTEND_SOURCE_RANGES));
    EXPECT_EQ(open_write.value.flags, 0u);
    ASSERT_EQ(plan->range_adds.size(), 2u);
    for (const auto& add : plan->range_adds) EXPECT_EQ(add.raw().frontend_id, ranged_write.value.id);
    EXPECT_TRUE(plan->range_deletes.empty());
}

TEST(SourceRanges, ChangedRangesAddNewDeleteOldWithoutRewritingValue) {
    auto old_range = *source_range_key(4, prefix("10.0.0.0/8"));
    std::map<FrontendKey, CurrentFrontend> current{
        {frontend_key(np(30443)), {4, 0, "ns/svc:http", XGRESS_FRONTEND_SOURCE_RANGES}}};
    auto plan = plan_frontends(current, {ranged(30443, {"192.0.2.0/24"})}, {old_range});
    ASSERT_TRUE(plan);
    EXPECT_TRUE(plan->writes.empty());  // same id, slot, name, flags
    ASSERT_EQ(plan->range_adds.size(), 1u);
    EXPECT_EQ(describe(plan->range_adds[0].raw()), "192.0.2.0/24");
    EXPECT_EQ(plan->range_adds[0].raw().frontend_id, 4u);
    EXPECT_EQ(as_set(plan->range_deletes), std::set<SourceRangeKey>{old_range});
}

TEST(SourceRanges, DroppingAllRangesClearsFlagThenDeletes) {
    auto old_range = *source_range_key(4, prefix("10.0.0.0/8"));
    std::map<FrontendKey, CurrentFrontend> current{
        {frontend_key(np(30443)), {4, 0, "ns/svc:http", XGRESS_FRONTEND_SOURCE_RANGES}}};
    auto plan = plan_frontends(current, {np(30443)}, {old_range});
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->writes.size(), 1u);
    EXPECT_EQ(plan->writes[0].value.flags, 0u);
    EXPECT_EQ(plan->range_deletes.size(), 1u);
    EXPECT_TRUE(plan->range_adds.empty());
}

TEST(SourceRanges, DeletedFrontendsRangesAreDeleted) {
    auto old_range = *source_range_key(4, prefix("10.0.0.0/8"));
    std::map<FrontendKey, CurrentFrontend> current{
        {frontend_key(np(30443)), {4, 0, "ns/svc:http", XGRESS_FRONTEND_SOURCE_RANGES}}};
    auto plan = plan_frontends(current, {}, {old_range});
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->deletes.size(), 1u);
    EXPECT_EQ(plan->range_deletes.size(), 1u);
}

TEST(SourceRanges, UnchangedRangesProduceNoWork) {
    auto range = *source_range_key(4, prefix("10.0.0.0/8"));
    std::map<FrontendKey, CurrentFrontend> current{
        {frontend_key(np(30443)), {4, 0, "ns/svc:http", XGRESS_FRONTEND_SOURCE_RANGES}}};
    auto plan = plan_frontends(current, {ranged(30443, {"10.3.0.0/8"})}, {range});  // same after masking
    ASSERT_TRUE(plan);
    EXPECT_TRUE(plan->writes.empty());
    EXPECT_TRUE(plan->range_adds.empty());
    EXPECT_TRUE(plan->range_deletes.empty());
}

TEST(SourceRanges, InvalidPrefixNamesFrontend) {
    auto spec = ranged(30443, {"10.0.0.0/40"});
    spec.name = "team/web:https";
    auto plan = plan_frontends({}, {spec});
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("team/web:https"), std::string::npos);
}

TEST(SourceRanges, DuplicatesWithDifferentRangesConflict) {
    EXPECT_FALSE(plan_frontends({}, {ranged(30443, {"10.0.0.0/8"}), ranged(30443, {"11.0.0.0/8"})}));
}

}  // namespace
}  // namespace xgress::agent::dataplane

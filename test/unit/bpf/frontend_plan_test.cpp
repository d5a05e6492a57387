// The frontend reconcile plan (pure, no kernel): stable ids, writes before
// deletes, conflicts and invalid specs rejected with the frontend's name.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "frontend_plan.h"

namespace xgress::agent::dataplane {
namespace {

FrontendSpec np(std::uint16_t port, std::uint32_t slot = 0, std::string name = "ns/svc:http") {
    FrontendSpec spec;
    spec.node_port = true;
    spec.port = port;
    spec.listener_slot = slot;
    spec.name = std::move(name);
    return spec;
}

FrontendSpec v4(const char* address, std::uint16_t port, std::uint32_t slot = 0) {
    FrontendSpec spec;
    inet_pton(AF_INET, address, spec.address.bytes.data());
    spec.port = port;
    spec.listener_slot = slot;
    spec.name = "ns/lb:http";
    return spec;
}

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

}  // namespace
}  // namespace xgress::agent::dataplane

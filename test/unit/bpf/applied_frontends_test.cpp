// The incremental apply's pure parts (no kernel): AppliedFrontends finds the
// changed keys of a list and keeps port bits / VIP address users per key;
// plan_frontends with reserved ids plans a subset exactly as the whole.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "applied_frontends.h"
#include "frontend_plan.h"
#include "frontend_specs.h"

namespace xgress::agent::dataplane {
namespace {

std::vector<FrontendKey> keys_of(const std::vector<FrontendChange>& changes) {
    std::vector<FrontendKey> keys;
    for (const auto& change : changes) keys.push_back(change.key);
    std::sort(keys.begin(), keys.end());
    return keys;
}

TEST(AppliedFrontends, DiffNamesOnlyAddedChangedAndRemovedKeys) {
    AppliedFrontends applied;
    applied.assign({np(30001), np(30002), v4("10.0.0.1", 80), v4("10.0.0.2", 80)});
    // Reordered, one slot changed, one removed, one added.
    const std::vector<FrontendSpec> next = {v4("10.0.0.2", 80), np(30002, 1), np(30001), v4("10.0.0.3", 443)};
    auto changes = applied.diff(next);
    ASSERT_TRUE(changes);
    std::vector<FrontendKey> expected = {frontend_key(np(30002)), frontend_key(v4("10.0.0.1", 80)),
                                         frontend_key(v4("10.0.0.3", 443))};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(keys_of(*changes), expected);
    for (const auto& change : *changes) {
        if (change.key == frontend_key(v4("10.0.0.1", 80))) {
            EXPECT_EQ(change.after, nullptr);
        }
        if (change.key == frontend_key(v4("10.0.0.3", 443))) {
            EXPECT_EQ(change.before, nullptr);
        }
        if (change.key == frontend_key(np(30002))) {
            ASSERT_NE(change.before, nullptr);
            EXPECT_EQ(change.before->listener_slot, 0u);
            EXPECT_EQ(change.after->listener_slot, 1u);
        }
    }
    applied.commit(*changes);
    EXPECT_EQ(applied.size(), 4u);
    auto again = applied.diff(next);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->empty());
}

TEST(AppliedFrontends, AKeyListedTwiceNeedsTheFullPlan) {
    AppliedFrontends applied;
    applied.assign({np(30001)});
    EXPECT_FALSE(applied.diff({np(30001), np(30001)}));
    EXPECT_FALSE(applied.diff({np(30002), np(30002, 1)}));
    EXPECT_TRUE(applied.diff({np(30001), np(30002)}));
}

TEST(AppliedFrontends, PortBitsAndVipAddressesFollowTheLastUser) {
    AppliedFrontends applied;
    applied.assign({v4("10.0.0.1", 80), v4("10.0.0.2", 80), np(80)});
    EXPECT_EQ(applied.port_flags(80), XGRESS_PORT_TCP_VIP | XGRESS_PORT_TCP_NODEPORT);
    FrontendSpec a;
    inet_pton(AF_INET, "10.0.0.1", a.address.bytes.data());
    EXPECT_TRUE(applied.vip_address_used(a.address));

    auto changes = applied.diff({v4("10.0.0.2", 80)});  // 10.0.0.1 and the NodePort go
    ASSERT_TRUE(changes);
    applied.commit(*changes);
    EXPECT_EQ(applied.port_flags(80), XGRESS_PORT_TCP_VIP);  // 10.0.0.2 still uses it
    EXPECT_FALSE(applied.vip_address_used(a.address));
    EXPECT_EQ(applied.vip_addresses().size(), 1u);

    changes = applied.diff({});
    ASSERT_TRUE(changes);
    applied.commit(*changes);
    EXPECT_EQ(applied.port_flags(80), 0);
    EXPECT_TRUE(applied.vip_addresses().empty());
}

TEST(FrontendPlan, ReservedIdsMakeASubsetPlanEqualTheWholePlan) {
    // Ids 1..3 held by entries; id 2's entry is the only changed one.
    std::map<FrontendKey, CurrentFrontend> current{{frontend_key(np(1)), {1, 0, "ns/svc:http"}},
                                                   {frontend_key(np(2)), {2, 0, "ns/svc:http"}},
                                                   {frontend_key(np(3)), {3, 0, "ns/svc:http"}}};
    const std::vector<FrontendSpec> desired = {np(1), np(3), np(4), np(5)};
    auto whole = plan_frontends(current, desired);
    ASSERT_TRUE(whole);

    std::map<FrontendKey, CurrentFrontend> changed{{frontend_key(np(2)), {2, 0, "ns/svc:http"}}};
    std::vector<bool> reserved(XGRESS_MAX_FRONTENDS, false);
    reserved[1] = reserved[3] = true;
    auto subset = plan_frontends(changed, {np(4), np(5)}, {}, &reserved);
    ASSERT_TRUE(subset);
    ASSERT_EQ(subset->writes.size(), whole->writes.size());
    for (std::size_t i = 0; i < whole->writes.size(); ++i) {
        EXPECT_EQ(subset->writes[i].key, whole->writes[i].key);
        EXPECT_EQ(subset->writes[i].value.id, whole->writes[i].value.id);  // 4, 5: 2 is still being deleted
    }
    EXPECT_EQ(subset->deletes, whole->deletes);
    EXPECT_EQ(whole->writes[0].value.id, 4u);
}

}  // namespace
}  // namespace xgress::agent::dataplane

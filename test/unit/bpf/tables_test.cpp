// The stores into the shared tables (agent/dataplane/tables.h): what they
// write and what they skip. No root needed: the tables here are plain memory.
#include "tables.h"

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "port_flags.h"

namespace xgress::test {
namespace {

namespace dp = xgress::agent::dataplane;

TEST(Tables, StoreWordsWritesOnlyTheWordsThatDiffer) {
    std::uint32_t shared[6] = {1, 2, 3, 4, 5, 6};
    const std::uint32_t wanted[6] = {1, 20, 3, 40, 5, 60};
    EXPECT_EQ(dp::store_words(shared, wanted, sizeof(wanted)), 3u);
    EXPECT_EQ(std::memcmp(shared, wanted, sizeof(wanted)), 0);
    EXPECT_EQ(dp::store_words(shared, wanted, sizeof(wanted)), 0u) << "nothing left to store";
}

TEST(Tables, PortFlagsAreStoredWithoutTouchingTheNodePortCopies) {
    auto tables = std::make_unique<xgress_tables>();
    tables->port_flags[30080].tcp_nodeport = {7, 2, 0};
    dp::PortFlagTable cache = dp::read_port_flags(*tables);
    EXPECT_EQ(dp::write_port_flag_values(*tables, cache, {{30080, XGRESS_PORT_TCP_NODEPORT}, {80, 0}}), 1u)
        << "port 80 already holds 0";
    EXPECT_EQ(tables->port_flags[30080].flags, XGRESS_PORT_TCP_NODEPORT);
    EXPECT_EQ(tables->port_flags[30080].tcp_nodeport.id, 7u);
    EXPECT_EQ(tables->port_flags[30080].tcp_nodeport.listener_slot, 2u);
    EXPECT_EQ(cache[30080], XGRESS_PORT_TCP_NODEPORT);

    dp::PortFlagTable target = dp::empty_port_flags();
    target[443] = XGRESS_PORT_TCP_VIP;
    EXPECT_EQ(dp::write_port_flags(*tables, cache, target), 2u) << "30080 cleared, 443 set";
    EXPECT_EQ(dp::read_port_flags(*tables), target);
    EXPECT_EQ(tables->port_flags[30080].tcp_nodeport.id, 7u) << "the copy stays";
}

TEST(Tables, NodePortCopyIsReplacedInPlaceOrThroughIdZero) {
    xgress_frontend_value copy{};
    dp::store_nodeport_copy(copy, {5, 1, XGRESS_FRONTEND_SOURCE_RANGES});
    EXPECT_EQ(copy.id, 5u);
    EXPECT_EQ(copy.listener_slot, 1u);
    EXPECT_EQ(copy.flags, static_cast<std::uint32_t>(XGRESS_FRONTEND_SOURCE_RANGES));
    dp::store_nodeport_copy(copy, {5, 2, 0});
    EXPECT_EQ(copy.id, 5u);
    EXPECT_EQ(copy.listener_slot, 2u);
    EXPECT_EQ(copy.flags, 0u);
    dp::store_nodeport_copy(copy, {6, 3, 0});
    EXPECT_EQ(copy.id, 6u) << "another frontend";
    EXPECT_EQ(copy.listener_slot, 3u);
    dp::store_nodeport_copy(copy, {});
    EXPECT_EQ(copy.id, 0u);
    EXPECT_EQ(copy.listener_slot, 3u) << "a copy that goes keeps its fields for a reader that loaded the id";
}

TEST(Tables, ReadVipTableListsTheSlotsInUse) {
    auto tables = std::make_unique<xgress_tables>();
    tables->vip_frontends[3].value.id = 9;
    tables->vip_frontends[XGRESS_VIP_SLOTS - 1].flags = XGRESS_VIP_SLOT_OVERFLOW;
    const dp::VipTable read = dp::read_vip_table(*tables);
    ASSERT_EQ(read.size(), 2u);
    EXPECT_EQ(read.at(3).value.id, 9u);
    EXPECT_EQ(read.at(XGRESS_VIP_SLOTS - 1).flags, static_cast<std::uint32_t>(XGRESS_VIP_SLOT_OVERFLOW));
}

}  // namespace
}  // namespace xgress::test

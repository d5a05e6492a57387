// VipTable: which VIP owns each vip_frontends slot, and the write sequences
// that move a slot between states. The sequences are checked against a model
// of the classifier's read (xgress_lookup_vip in bpf/lib/frontend_lookup.h)
// at every intermediate state: no VIP is ever answered with another VIP's
// value, and a VIP present before and after is never reported absent.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <set>

#include "map_helpers.h"
#include "vip_table.h"

namespace xgress::test {
namespace {

namespace dp = xgress::agent::dataplane;

dp::FrontendKey fk(const xgress_frontend_key& key) { return dp::FrontendKey::from(key); }

// What the classifier concludes for `key` from one slot state.
enum class Read { Hit, AskHash, Absent };
Read read(const xgress_vip_slot& slot, const xgress_frontend_key& key, xgress_frontend_value* value) {
    if (slot.value.id != 0 && std::memcmp(&slot.key, &key, sizeof(key)) == 0) {
        *value = slot.value;
        return Read::Hit;
    }
    return (slot.flags & XGRESS_VIP_SLOT_OVERFLOW) ? Read::AskHash : Read::Absent;
}

struct Fixture : ::testing::Test {
    xgress_frontend_key a = exact_key("203.0.113.10", 80);
    xgress_frontend_key b = vip_colliding_with(a);
    xgress_frontend_key c = exact_key("203.0.113.11", 80);
    std::uint32_t slot_a = xgress_vip_slot_index(&a);

    void SetUp() override {
        ASSERT_NE(std::memcmp(&a, &b, sizeof(a)), 0);
        ASSERT_EQ(xgress_vip_slot_index(&b), slot_a);
        ASSERT_NE(xgress_vip_slot_index(&c), slot_a);
    }

    // A reader may see any mix of old and new 32-bit words of one write, so
    // each write changes only what a reader can take in any mix: the flags
    // word alone; value.id alone; key and value words while value.id stays 0;
    // or, same owner, the value's other words and the flags in place.
    static void expect_one_field_changes(const xgress_vip_slot& before, const xgress_vip_slot& after) {
        std::uint32_t wb[10], wa[10];
        std::memcpy(wb, &before, sizeof(wb));
        std::memcpy(wa, &after, sizeof(wa));
        std::set<int> changed;
        for (int i = 0; i < 10; ++i)
            if (wb[i] != wa[i]) changed.insert(i);
        constexpr int kId = 5, kFlags = 8;
        const bool flags_only = changed == std::set<int>{kFlags};
        const bool id_only = changed == std::set<int>{kId};
        const bool unowned = !changed.contains(kId) && before.value.id == 0;
        const bool same_owner_in_place = !changed.contains(kId) && before.value.id != 0 &&
                                         std::memcmp(&before.key, &after.key, sizeof(before.key)) == 0;
        EXPECT_TRUE(flags_only || id_only || unowned || same_owner_in_place)
            << "a write changing " << changed.size() << " words incl. the id or an owned key";
    }

    // Every state from `from` through the writes of the transition to `to`:
    // a key in `stays` (with its old and new value) must be found at each
    // (slot hit with one of its values, or through the hash); a slot hit for
    // any key must carry that key's own value (old or new).
    void check_transition(const dp::VipTable& from, const dp::VipTable& to,
                          const std::map<dp::FrontendKey, std::pair<xgress_frontend_value, xgress_frontend_value>>& keys,
                          const std::set<dp::FrontendKey>& stays) {
        dp::VipTable state = from;
        auto check_state = [&](const char* when) {
            for (const auto& [key, values] : keys) {
                const auto raw = key.raw();
                const auto index = xgress_vip_slot_index(&raw);
                xgress_vip_slot slot{};
                if (auto it = state.find(index); it != state.end()) slot = it->second;
                xgress_frontend_value got{};
                const Read r = read(slot, raw, &got);
                if (r == Read::Hit) {
                    const bool own = std::memcmp(&got, &values.first, sizeof(got)) == 0 ||
                                     std::memcmp(&got, &values.second, sizeof(got)) == 0;
                    EXPECT_TRUE(own) << when << ": hit with a value that is not this key's";
                }
                if (stays.contains(key)) {
                    EXPECT_NE(r, Read::Absent) << when << ": a staying VIP reads as absent";
                }
            }
        };
        check_state("before");
        for (const auto& write : dp::vip_table_writes(from, to)) {
            expect_one_field_changes(state[write.index], write.slot);
            state[write.index] = write.slot;
            check_state("after a write");
        }
        for (const auto& [index, slot] : to) EXPECT_TRUE(dp::same_vip_slot(state[index], slot)) << "slot " << index << " final";
    }
};

TEST_F(Fixture, EachVipOwnsItsSlotAndACollisionSetsOverflow) {
    const std::map<dp::FrontendKey, xgress_frontend_value> vips{
        {fk(a), {1, 0, 0}}, {fk(b), {2, 0, 0}}, {fk(c), {3, 1, 0}}};
    const auto table = dp::build_vip_table(vips, {});
    ASSERT_EQ(table.size(), 2u);
    const auto& shared = table.at(slot_a);
    EXPECT_EQ(shared.flags, static_cast<std::uint32_t>(XGRESS_VIP_SLOT_OVERFLOW));
    const auto smaller = std::min(fk(a), fk(b)).raw();
    EXPECT_EQ(std::memcmp(&shared.key, &smaller, sizeof(smaller)), 0) << "the smallest key owns a shared slot";
    const auto& own = table.at(xgress_vip_slot_index(&c));
    EXPECT_EQ(own.flags, 0u);
    EXPECT_EQ(own.value.id, 3u);
    EXPECT_EQ(own.value.listener_slot, 1u);
}

TEST_F(Fixture, CurrentOwnerKeepsItsSlot) {
    const auto larger = std::max(fk(a), fk(b));
    const auto first = dp::build_vip_table({{larger, {5, 0, 0}}}, {});
    const auto second = dp::build_vip_table({{fk(a), {1, 0, 0}}, {fk(b), {2, 0, 0}}}, first);
    const auto owner = larger.raw();
    EXPECT_EQ(std::memcmp(&second.at(slot_a).key, &owner, sizeof(owner)), 0) << "no churn for the existing owner";
    EXPECT_EQ(second.at(slot_a).flags, static_cast<std::uint32_t>(XGRESS_VIP_SLOT_OVERFLOW));
}

TEST_F(Fixture, AddToAnEmptySlotWritesTheIdLast) {
    const auto to = dp::build_vip_table({{fk(a), {1, 4, 0}}}, {});
    const auto writes = dp::vip_table_writes({}, to);
    ASSERT_EQ(writes.size(), 2u);
    EXPECT_EQ(writes[0].slot.value.id, 0u);
    EXPECT_EQ(writes[0].slot.value.listener_slot, 4u);
    EXPECT_TRUE(dp::same_vip_slot(writes[1].slot, to.at(slot_a)));
}

TEST_F(Fixture, SameOwnerIsOneWrite) {
    const auto from = dp::build_vip_table({{fk(a), {1, 4, 0}}}, {});
    const auto to = dp::build_vip_table({{fk(a), {1, 5, XGRESS_FRONTEND_SOURCE_RANGES}}}, from);
    EXPECT_EQ(dp::vip_table_writes(from, to).size(), 1u);
    EXPECT_TRUE(dp::vip_table_writes(to, to).empty());
}

TEST_F(Fixture, TransitionsNeverMisreadAVip) {
    const xgress_frontend_value va{1, 0, 0}, va2{1, 7, 0}, vb{2, 1, 0}, vc{3, 2, 0};
    using Set = std::map<dp::FrontendKey, xgress_frontend_value>;
    const std::vector<Set> sets{
        {}, {{fk(a), va}}, {{fk(a), va2}}, {{fk(b), vb}}, {{fk(a), va}, {fk(b), vb}},
        {{fk(a), va2}, {fk(b), vb}, {fk(c), vc}}, {{fk(c), vc}}, {{fk(b), vb}, {fk(c), vc}},
    };
    for (std::size_t i = 0; i < sets.size(); ++i) {
        for (std::size_t j = 0; j < sets.size(); ++j) {
            SCOPED_TRACE(testing::Message() << "set " << i << " -> set " << j);
            // Each owner choice the from-table can have: built fresh, and built
            // with the other colliding key owning first.
            for (const auto& seed : {dp::VipTable{}, dp::build_vip_table({{fk(b), vb}}, {})}) {
                const auto from = dp::build_vip_table(sets[i], seed);
                const auto to = dp::build_vip_table(sets[j], from);
                std::map<dp::FrontendKey, std::pair<xgress_frontend_value, xgress_frontend_value>> keys;
                std::set<dp::FrontendKey> stays;
                for (const auto& [k, v] : sets[i]) keys[k] = {v, v};
                for (const auto& [k, v] : sets[j]) {
                    if (keys.contains(k)) stays.insert(k);
                    keys[k].second = v;
                    if (!sets[i].contains(k)) keys[k].first = v;
                }
                check_transition(from, to, keys, stays);
            }
        }
    }
}

TEST_F(Fixture, StaleIdOfAStayingVipIsReplacedWithoutLosingIt) {
    // A dead agent's slot: the right key with another id. The VIP stays.
    xgress_vip_slot stale{};
    stale.key = a;
    stale.value = {9, 0, 0};
    const dp::VipTable from{{slot_a, stale}};
    const xgress_frontend_value now{1, 0, 0};
    const auto to = dp::build_vip_table({{fk(a), now}}, from);
    check_transition(from, to, {{fk(a), {stale.value, now}}}, {fk(a)});
}

TEST_F(Fixture, StaleSlotLeftByADeadAgentIsCleared) {
    xgress_vip_slot stale{};
    stale.key = c;
    stale.value = {9, 0, 0};
    const dp::VipTable from{{xgress_vip_slot_index(&c), stale}};
    const auto to = dp::build_vip_table({{fk(a), {1, 0, 0}}}, from);
    EXPECT_FALSE(to.contains(xgress_vip_slot_index(&c)));
    dp::VipTable state = from;
    for (const auto& write : dp::vip_table_writes(from, to)) state[write.index] = write.slot;
    EXPECT_TRUE(dp::same_vip_slot(state[xgress_vip_slot_index(&c)], xgress_vip_slot{}));
    EXPECT_TRUE(dp::same_vip_slot(state[slot_a], to.at(slot_a)));
}

}  // namespace
}  // namespace xgress::test

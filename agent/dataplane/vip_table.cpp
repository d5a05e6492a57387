// Direct-mapped VIP table: build and transition (see vip_table.h).
#include "vip_table.h"

#include <cstring>

namespace xgress::agent::dataplane {

bool same_vip_slot(const xgress_vip_slot& a, const xgress_vip_slot& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

namespace {

bool same_key(const xgress_vip_slot& slot, const FrontendKey& key) {
    return std::memcmp(&slot.key, key.bytes.data(), sizeof(slot.key)) == 0;
}

}  // namespace

VipTable build_vip_table(const std::map<FrontendKey, xgress_frontend_value>& vips, const VipTable& current) {
    std::map<std::uint32_t, std::vector<const std::pair<const FrontendKey, xgress_frontend_value>*>> by_slot;
    for (const auto& entry : vips) {
        const auto raw = entry.first.raw();
        by_slot[xgress_vip_slot_index(&raw)].push_back(&entry);  // std::map order: smallest key first
    }
    VipTable table;
    for (const auto& [index, entries] : by_slot) {
        const auto* owner = entries.front();
        if (auto it = current.find(index); it != current.end() && it->second.value.id != 0)
            for (const auto* entry : entries)
                if (same_key(it->second, entry->first)) owner = entry;
        xgress_vip_slot slot{};
        slot.key = owner->first.raw();
        slot.value = owner->second;
        slot.flags = entries.size() > 1 ? XGRESS_VIP_SLOT_OVERFLOW : 0;
        table[index] = slot;
    }
    return table;
}

std::vector<xgress_vip_slot> vip_slot_transition(const xgress_vip_slot& from, const xgress_vip_slot& to) {
    std::vector<xgress_vip_slot> writes;
    if (same_vip_slot(from, to)) return writes;
    const bool same_owner = from.value.id != 0 && to.value.id == from.value.id &&
                            std::memcmp(&from.key, &to.key, sizeof(from.key)) == 0;
    if (same_owner) {
        writes.push_back(to);
        return writes;
    }
    xgress_vip_slot cur = from;
    if (cur.value.id != 0) {
        // While the owner changes, every VIP of this slot is found in the hash.
        if (!(cur.flags & XGRESS_VIP_SLOT_OVERFLOW)) {
            cur.flags |= XGRESS_VIP_SLOT_OVERFLOW;
            writes.push_back(cur);
        }
        cur.value.id = 0;
        writes.push_back(cur);
    }
    if (to.value.id != 0) {
        cur.key = to.key;
        cur.value = to.value;
        cur.value.id = 0;
        writes.push_back(cur);
        cur.value.id = to.value.id;
        writes.push_back(cur);
    }
    if (!same_vip_slot(cur, to)) writes.push_back(to);
    return writes;
}

std::vector<VipSlotWrite> vip_table_writes(const VipTable& from, const VipTable& to) {
    std::map<std::uint32_t, std::pair<xgress_vip_slot, xgress_vip_slot>> changes;
    for (const auto& [index, slot] : from) changes[index].first = slot;
    for (const auto& [index, slot] : to) changes[index].second = slot;
    std::vector<VipSlotWrite> writes;
    for (const auto& [index, change] : changes)
        for (const auto& slot : vip_slot_transition(change.first, change.second)) writes.push_back({index, slot});
    return writes;
}

}  // namespace xgress::agent::dataplane

// The direct-mapped copy of the VIP frontends (vip_frontends, see
// xgress_vip_slot in bpf_abi.h): which VIP owns each slot, which slots must
// send a miss to the frontends hash (OVERFLOW), and the sequence of slot
// writes that moves the array from one state to the next without a reader
// ever taking one VIP's value for another's or losing a VIP that stays.
// Pure: the Dataplane reads the array once, then executes these writes
// between adding and deleting hash entries.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "frontend_plan.h"
#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

// Slot contents by index; a missing index is an all-zero slot.
using VipTable = std::map<std::uint32_t, xgress_vip_slot>;

// Byte-wise equality (the C struct has no operator==).
bool same_vip_slot(const xgress_vip_slot& a, const xgress_vip_slot& b);

// The table for `vips` (exact keys and their values). A slot keeps its
// current owner when that VIP is still wanted (no churn on unrelated
// changes); otherwise the smallest key hashing there owns it. Slots with more
// than one VIP get XGRESS_VIP_SLOT_OVERFLOW.
VipTable build_vip_table(const std::map<FrontendKey, xgress_frontend_value>& vips, const VipTable& current);

struct VipSlotWrite {
    std::uint32_t index;
    xgress_vip_slot slot;
};

// Writes turning `from` into `to` for one slot, each differing from the
// previous state in one field that readers can take at any point:
//   raise OVERFLOW (when an owner is displaced and the flag was clear),
//   clear value.id, write key + value with id 0, write value.id,
//   write the final flags (and zero the key of an emptied slot).
// Same owner: one write (listener_slot / flags / OVERFLOW change in place).
std::vector<xgress_vip_slot> vip_slot_transition(const xgress_vip_slot& from, const xgress_vip_slot& to);

// Every slot's transition, slot by slot in index order.
std::vector<VipSlotWrite> vip_table_writes(const VipTable& from, const VipTable& to);

}  // namespace xgress::agent::dataplane

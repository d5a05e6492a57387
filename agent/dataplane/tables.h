// Writes into the tables map (ABI 9, xgress_tables in bpf_abi.h): the
// programs' global data, which the agent sees through the skeleton's mmap of
// the pinned map. There is no syscall to order writes for us any more, so the
// functions below store 32-bit words one at a time, as release stores: the
// compiler keeps them in program order and x86 makes them visible in that
// order, which is what the reader disciplines in bpf_abi.h rely on
// (port_flags NodePort copies: the id last when a copy appears, first when
// it goes; vip_frontends: one field per step of vip_slot_transition).
#pragma once

#include <cstddef>
#include <cstdint>

#include "vip_table.h"
#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

// Copies `bytes` (a multiple of 4, both sides 4-byte aligned) from `from`
// into the shared `to`, word by word in address order, skipping the words
// that are already equal. Returns how many words it stored.
std::size_t store_words(void* to, const void* from, std::size_t bytes);

// The port's flags byte (the entry's first word; its padding stays zero).
void store_port_flags(xgress_port_flags& entry, std::uint8_t flags);

// One NodePort copy: a copy that changes its frontend clears its id first;
// the id is stored last. A copy that goes (value.id 0) only has its id
// cleared: the fields stay, meaningless, so a reader that loaded the old id a
// moment before still reads the old frontend's fields.
void store_nodeport_copy(xgress_frontend_value& copy, const xgress_frontend_value& value);

// The non-empty slots of vip_frontends.
VipTable read_vip_table(const xgress_tables& tables);

}  // namespace xgress::agent::dataplane

// Ordered stores into the shared tables (see tables.h).
#include "tables.h"

#include <atomic>
#include <cstring>

namespace xgress::agent::dataplane {

namespace {

void store_word(std::uint32_t* to, std::uint32_t value) {
    std::atomic_ref<std::uint32_t>(*to).store(value, std::memory_order_release);
}

std::uint32_t load_word(const void* from) {
    std::uint32_t value;
    std::memcpy(&value, from, sizeof(value));
    return value;
}

}  // namespace

std::size_t store_words(void* to, const void* from, std::size_t bytes) {
    auto* words = static_cast<std::uint32_t*>(to);
    const auto* source = static_cast<const std::uint8_t*>(from);
    std::size_t stored = 0;
    for (std::size_t i = 0; i < bytes / 4; ++i) {
        const std::uint32_t value = load_word(source + 4 * i);
        if (std::atomic_ref<std::uint32_t>(words[i]).load(std::memory_order_relaxed) == value) continue;
        store_word(&words[i], value);
        ++stored;
    }
    return stored;
}

void store_port_flags(xgress_port_flags& entry, std::uint8_t flags) {
    static_assert(offsetof(xgress_port_flags, flags) == 0 && offsetof(xgress_port_flags, tcp_nodeport) == 4);
    store_word(reinterpret_cast<std::uint32_t*>(&entry), flags);  // little-endian: the byte at offset 0
}

void store_nodeport_copy(xgress_frontend_value& copy, const xgress_frontend_value& value) {
    static_assert(sizeof(xgress_frontend_value) == 12 && offsetof(xgress_frontend_value, id) == 0);
    auto* words = reinterpret_cast<std::uint32_t*>(&copy);
    // A copy that goes: the id alone. Its fields stay (meaningless with id
    // 0), so a reader that loaded the old id reads the old fields.
    if (value.id == 0) {
        if (copy.id != 0) store_word(&words[0], 0);
        return;
    }
    if (copy.id != 0 && copy.id != value.id) store_word(&words[0], 0);
    store_words(&words[1], reinterpret_cast<const std::uint8_t*>(&value) + 4, sizeof(value) - 4);
    store_word(&words[0], value.id);
}

VipTable read_vip_table(const xgress_tables& tables) {
    VipTable table;
    const xgress_vip_slot empty{};
    for (std::uint32_t i = 0; i < XGRESS_VIP_SLOTS; ++i)
        if (!same_vip_slot(tables.vip_frontends[i], empty)) table[i] = tables.vip_frontends[i];
    return table;
}

}  // namespace xgress::agent::dataplane

#include "frontend_plan.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "xgress/frontend_key_text.h"

namespace xgress::agent::dataplane {

FrontendKey frontend_key(const FrontendSpec& spec) {
    xgress_frontend_key key{};
    if (spec.node_port) {
        key.flags = XGRESS_FRONTEND_KEY_NODEPORT;
    } else {
        const std::size_t len = spec.address.v6 ? 16 : 4;
        std::memcpy(key.addr, spec.address.bytes.data(), len);
        key.flags = spec.address.v6 ? XGRESS_FRONTEND_KEY_IPV6 : 0;
    }
    key.port = htons(spec.port);
    key.proto = static_cast<std::uint8_t>(spec.protocol);
    return FrontendKey::from(key);
}

std::string describe(const xgress_frontend_key& key) { return frontend_key_text(key); }

std::expected<SourceRangeKey, Error> source_range_key(std::uint32_t id, const IpPrefix& prefix) {
    const unsigned max_len = prefix.address.v6 ? 128 : 32;
    if (prefix.length > max_len)
        return std::unexpected(Error{fmt::format("source range /{} is longer than {} bits", prefix.length, max_len)});
    xgress_source_range_key key{};
    key.frontend_id = id;
    unsigned bits = prefix.length;
    if (prefix.address.v6) {
        std::memcpy(key.addr, prefix.address.bytes.data(), 16);
    } else {
        key.addr[10] = 0xff;
        key.addr[11] = 0xff;
        std::memcpy(key.addr + 12, prefix.address.bytes.data(), 4);
        bits += 96;
    }
    // Clear host bits: "10.1.2.3/8" and "10.0.0.0/8" are the same entry.
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0;
        key.addr[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
    }
    key.prefixlen = 32 + bits;
    return SourceRangeKey::from(key);
}

std::string describe(const xgress_source_range_key& key) {
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const unsigned bits = key.prefixlen >= 32 ? key.prefixlen - 32 : 0;
    char text[INET6_ADDRSTRLEN] = {};
    if (bits >= 96 && std::memcmp(key.addr, mapped, sizeof(mapped)) == 0) {
        inet_ntop(AF_INET, key.addr + 12, text, sizeof(text));
        return fmt::format("{}/{}", text, bits - 96);
    }
    inet_ntop(AF_INET6, key.addr, text, sizeof(text));
    return fmt::format("{}/{}", text, bits);
}

std::string stored_name(const std::string& name) { return name.substr(0, XGRESS_FRONTEND_NAME_LEN - 1); }

namespace {

std::expected<void, Error> validate(const FrontendSpec& spec) {
    auto fail = [&](std::string what) {
        return std::unexpected(Error{fmt::format("frontend \"{}\": {}", spec.name, what)});
    };
    if (spec.port == 0) return fail("port is 0");
    if (spec.protocol != Protocol::Tcp && spec.protocol != Protocol::Udp) return fail("protocol is neither TCP nor UDP");
    if (spec.listener_slot >= XGRESS_MAX_LISTENERS)
        return fail(fmt::format("listener slot {} out of range (max {})", spec.listener_slot, XGRESS_MAX_LISTENERS - 1));
    return {};
}

}  // namespace

std::expected<FrontendPlan, Error> plan_frontends(const std::map<FrontendKey, CurrentFrontend>& current,
                                                  const std::vector<FrontendSpec>& desired,
                                                  const std::set<SourceRangeKey>& current_ranges,
                                                  const std::vector<bool>* reserved_ids) {
    // Deduplicate first: the same frontend listed twice is fine, the same key
    // with different slots is a conflict the model must resolve.
    std::map<FrontendKey, const FrontendSpec*> wanted;
    for (const auto& spec : desired) {
        if (auto ok = validate(spec); !ok) return std::unexpected(ok.error());
        auto key = frontend_key(spec);
        auto [it, inserted] = wanted.emplace(key, &spec);
        if (!inserted && it->second->listener_slot != spec.listener_slot)
            return std::unexpected(Error{fmt::format("frontends \"{}\" and \"{}\" both claim {} with different listener slots",
                                                     it->second->name, spec.name, describe(key.raw()))});
        if (!inserted && it->second->source_ranges != spec.source_ranges)
            return std::unexpected(Error{fmt::format("frontends \"{}\" and \"{}\" both claim {} with different source ranges",
                                                     it->second->name, spec.name, describe(key.raw()))});
    }

    // Ids held by any current entry stay reserved during this apply (even the
    // ones about to be deleted): no packet may count a new frontend on an old id.
    std::set<std::uint32_t> used;
    for (const auto& [key, entry] : current) used.insert(entry.id);
    std::uint32_t next_candidate = 1;
    auto held = [&](std::uint32_t id) {
        return used.contains(id) || (reserved_ids && id < reserved_ids->size() && (*reserved_ids)[id]);
    };
    auto take_id = [&]() -> std::uint32_t {
        while (next_candidate < XGRESS_MAX_FRONTENDS && held(next_candidate)) ++next_candidate;
        if (next_candidate >= XGRESS_MAX_FRONTENDS) return 0;
        used.insert(next_candidate);
        return next_candidate;
    };

    FrontendPlan plan;
    std::set<SourceRangeKey> wanted_ranges;
    auto add_ranges = [&](const FrontendSpec& spec, std::uint32_t id) -> std::expected<void, Error> {
        for (const auto& prefix : spec.source_ranges) {
            auto range = source_range_key(id, prefix);
            if (!range) return std::unexpected(Error{fmt::format("frontend \"{}\": {}", spec.name, range.error().message)});
            wanted_ranges.insert(*range);
        }
        return {};
    };
    for (const auto& [key, spec] : wanted) {
        FrontendWrite write{.key = key, .value = {}, .name = spec->name, .is_new = false};
        write.value.listener_slot = spec->listener_slot;
        write.value.flags = spec->source_ranges.empty() ? 0 : XGRESS_FRONTEND_SOURCE_RANGES;
        if (auto it = current.find(key); it != current.end()) {
            write.value.id = it->second.id;
            if (auto ok = add_ranges(*spec, write.value.id); !ok) return std::unexpected(ok.error());
            if (it->second.listener_slot == spec->listener_slot && it->second.name == stored_name(spec->name) &&
                it->second.flags == write.value.flags)
                continue;
        } else {
            write.value.id = take_id();
            if (write.value.id == 0)
                return std::unexpected(Error{fmt::format("frontend \"{}\": no free frontend id (max {})", spec->name,
                                                         XGRESS_MAX_FRONTENDS - 1)});
            write.is_new = true;
            if (auto ok = add_ranges(*spec, write.value.id); !ok) return std::unexpected(ok.error());
        }
        plan.writes.push_back(std::move(write));
    }
    for (const auto& [key, entry] : current)
        if (!wanted.contains(key)) plan.deletes.push_back(key);
    for (const auto& range : wanted_ranges)
        if (!current_ranges.contains(range)) plan.range_adds.push_back(range);
    for (const auto& range : current_ranges)
        if (!wanted_ranges.contains(range)) plan.range_deletes.push_back(range);
    return plan;
}

}  // namespace xgress::agent::dataplane

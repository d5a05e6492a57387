#include "frontend_plan.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <set>

#include <fmt/format.h>

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

std::string describe(const xgress_frontend_key& key) {
    const char* proto = key.proto == IPPROTO_TCP ? "tcp" : key.proto == IPPROTO_UDP ? "udp" : "?";
    const unsigned port = ntohs(key.port);
    if (key.flags & XGRESS_FRONTEND_KEY_NODEPORT) return fmt::format("*node*:{}/{}", port, proto);
    char text[INET6_ADDRSTRLEN] = {};
    if (key.flags & XGRESS_FRONTEND_KEY_IPV6) {
        inet_ntop(AF_INET6, key.addr, text, sizeof(text));
        return fmt::format("[{}]:{}/{}", text, port, proto);
    }
    inet_ntop(AF_INET, key.addr, text, sizeof(text));
    return fmt::format("{}:{}/{}", text, port, proto);
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
                                                  const std::vector<FrontendSpec>& desired) {
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
    }

    // Ids held by any current entry stay reserved during this apply (even the
    // ones about to be deleted): no packet may count a new frontend on an old id.
    std::set<std::uint32_t> used;
    for (const auto& [key, entry] : current) used.insert(entry.id);
    std::uint32_t next_candidate = 1;
    auto take_id = [&]() -> std::uint32_t {
        while (next_candidate < XGRESS_MAX_FRONTENDS && used.contains(next_candidate)) ++next_candidate;
        if (next_candidate >= XGRESS_MAX_FRONTENDS) return 0;
        used.insert(next_candidate);
        return next_candidate;
    };

    FrontendPlan plan;
    for (const auto& [key, spec] : wanted) {
        FrontendWrite write{.key = key, .value = {}, .name = spec->name, .is_new = false};
        write.value.listener_slot = spec->listener_slot;
        if (auto it = current.find(key); it != current.end()) {
            write.value.id = it->second.id;
            if (it->second.listener_slot == spec->listener_slot && it->second.name == stored_name(spec->name))
                continue;
        } else {
            write.value.id = take_id();
            if (write.value.id == 0)
                return std::unexpected(Error{fmt::format("frontend \"{}\": no free frontend id (max {})", spec->name,
                                                         XGRESS_MAX_FRONTENDS - 1)});
            write.is_new = true;
        }
        plan.writes.push_back(std::move(write));
    }
    for (const auto& [key, entry] : current)
        if (!wanted.contains(key)) plan.deletes.push_back(key);
    return plan;
}

}  // namespace xgress::agent::dataplane

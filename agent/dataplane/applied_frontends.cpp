// Index of the applied frontend list (see applied_frontends.h).
#include "applied_frontends.h"

#include <arpa/inet.h>

#include <cstring>
#include <string_view>

#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

std::size_t FrontendKeyHash::operator()(const FrontendKey& key) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
}

namespace {

std::uint32_t port_user_key(const FrontendKey& key) {
    const auto raw = key.raw();
    return static_cast<std::uint32_t>(ntohs(raw.port)) << 8 | xgress_port_flag_for(&raw);
}

}  // namespace

std::optional<std::vector<FrontendChange>> AppliedFrontends::diff(const std::vector<FrontendSpec>& next) {
    ++generation_;
    new_keys_.clear();
    std::vector<FrontendChange> changes;
    std::size_t listed = 0;  // applied keys seen in `next`
    for (const auto& spec : next) {
        const FrontendKey key = frontend_key(spec);
        if (auto it = entries_.find(key); it != entries_.end()) {
            if (it->second.seen == generation_) return std::nullopt;
            it->second.seen = generation_;
            ++listed;
            if (!(it->second.spec == spec)) changes.push_back({key, &it->second.spec, &spec});
        } else {
            if (!new_keys_.insert(key).second) return std::nullopt;
            changes.push_back({key, nullptr, &spec});
        }
    }
    if (listed != entries_.size())
        for (const auto& [key, entry] : entries_)
            if (entry.seen != generation_) changes.push_back({key, &entry.spec, nullptr});
    return changes;
}

void AppliedFrontends::add(const FrontendKey& key, const FrontendSpec& spec) {
    auto [it, inserted] = entries_.try_emplace(key, Entry{spec, generation_});
    if (!inserted) return;  // a duplicate: the first spec of the key counts
    ++port_users_[port_user_key(key)];
    if (!spec.node_port) ++vip_addresses_[spec.address];
}

void AppliedFrontends::remove(std::unordered_map<FrontendKey, Entry, FrontendKeyHash>::iterator it) {
    if (auto users = port_users_.find(port_user_key(it->first)); users != port_users_.end() && --users->second == 0)
        port_users_.erase(users);
    if (!it->second.spec.node_port)
        if (auto users = vip_addresses_.find(it->second.spec.address);
            users != vip_addresses_.end() && --users->second == 0)
            vip_addresses_.erase(users);
    entries_.erase(it);
}

void AppliedFrontends::commit(const std::vector<FrontendChange>& changes) {
    // Copy the new specs first: a change's `before` points into entries_.
    std::vector<std::pair<FrontendKey, FrontendSpec>> added;
    for (const auto& change : changes)
        if (change.after) added.emplace_back(change.key, *change.after);
    for (const auto& change : changes)
        if (auto it = entries_.find(change.key); it != entries_.end()) remove(it);
    for (const auto& [key, spec] : added) add(key, spec);
}

void AppliedFrontends::assign(const std::vector<FrontendSpec>& all) {
    entries_.clear();
    port_users_.clear();
    vip_addresses_.clear();
    for (const auto& spec : all) add(frontend_key(spec), spec);
}

const FrontendSpec* AppliedFrontends::find(const FrontendKey& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.spec;
}

std::uint8_t AppliedFrontends::port_flags(std::uint16_t port) const {
    std::uint8_t flags = 0;
    for (const std::uint8_t bit : {XGRESS_PORT_TCP_VIP, XGRESS_PORT_TCP_NODEPORT, XGRESS_PORT_UDP_VIP,
                                   XGRESS_PORT_UDP_NODEPORT})
        if (port_users_.contains(static_cast<std::uint32_t>(port) << 8 | bit)) flags |= bit;
    return flags;
}

std::vector<IpAddress> AppliedFrontends::vip_addresses() const {
    std::vector<IpAddress> out;
    out.reserve(vip_addresses_.size());
    for (const auto& [address, users] : vip_addresses_) out.push_back(address);
    return out;
}

}  // namespace xgress::agent::dataplane

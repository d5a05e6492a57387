#include "router/route_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace xgress::router {

std::string_view normalize_host(std::string_view host, char* out, std::size_t cap) {
    if (!host.empty() && host.front() == '[') {
        std::size_t close = host.find(']');
        if (close != std::string_view::npos) host = host.substr(0, close + 1);
    } else {
        std::size_t colon = host.find(':');
        if (colon != std::string_view::npos) host = host.substr(0, colon);
    }
    if (host.size() > cap) return {};
    for (std::size_t i = 0; i < host.size(); ++i) {
        char c = host[i];
        out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    return {out, host.size()};
}

std::uint32_t RouteTable::HostRules::match(std::string_view path) const {
    if (!exact.empty()) {
        auto it = exact.find(path);
        if (it != exact.end()) return it->second;
    }
    for (const PrefixRule& p : prefixes) {
        if (p.prefix == "/") return p.backend;
        if (path.starts_with(p.prefix) && (path.size() == p.prefix.size() || path[p.prefix.size()] == '/'))
            return p.backend;
    }
    return kNoBackend;
}

std::uint32_t RouteTable::route(std::string_view host, std::string_view path) const {
    char buf[256];
    std::string_view h = normalize_host(host, buf, sizeof buf);
    if (!h.empty()) {
        auto it = hosts_.find(h);
        if (it != hosts_.end()) {
            std::uint32_t b = it->second.match(path);
            if (b != kNoBackend) return b;
        }
        // One label, then the suffix: ".example.com". An empty first label
        // (".example.com" as Host) is not a match.
        std::size_t dot = h.find('.');
        if (!wildcards_.empty() && dot != std::string_view::npos && dot > 0) {
            auto w = wildcards_.find(h.substr(dot));
            if (w != wildcards_.end()) {
                std::uint32_t b = w->second.match(path);
                if (b != kNoBackend) return b;
            }
        }
    }
    std::uint32_t b = any_host_.match(path);
    return b != kNoBackend ? b : default_backend_;
}

namespace {

std::expected<EndpointAddress, std::string> resolve(const snapshot::Endpoint& ep) {
    EndpointAddress out;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (inet_pton(AF_INET, ep.address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(ep.port);
        out.len = sizeof(sockaddr_in);
        out.text = ep.address + ":" + std::to_string(ep.port);
    } else if (inet_pton(AF_INET6, ep.address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(ep.port);
        out.len = sizeof(sockaddr_in6);
        out.text = "[" + ep.address + "]:" + std::to_string(ep.port);
    } else {
        return std::unexpected("bad endpoint address \"" + ep.address + "\"");
    }
    return out;
}

}  // namespace

namespace {

// Builds the frontend key into `buf`; returns its length (0: not an IP socket address).
std::size_t frontend_key(const sockaddr* sa, bool with_address, char* buf) {
    if (sa->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(sa);
        std::memcpy(buf, &v4->sin_port, 2);
        if (!with_address) return 2;
        std::memcpy(buf + 2, &v4->sin_addr, 4);
        return 6;
    }
    if (sa->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(sa);
        std::memcpy(buf, &v6->sin6_port, 2);
        if (!with_address) return 2;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            std::memcpy(buf + 2, reinterpret_cast<const char*>(&v6->sin6_addr) + 12, 4);
            return 6;
        }
        std::memcpy(buf + 2, &v6->sin6_addr, 16);
        return 18;
    }
    return 0;
}

}  // namespace

const FrontendTarget* RouteTable::frontend(const sockaddr* local) const {
    if (frontends_.empty()) return nullptr;
    char key[18];
    std::size_t n = frontend_key(local, true, key);
    if (n == 0) return nullptr;
    if (auto it = frontends_.find(std::string_view(key, n)); it != frontends_.end()) return &it->second;
    if (auto it = frontends_.find(std::string_view(key, 2)); it != frontends_.end()) return &it->second;
    return nullptr;
}

std::expected<std::shared_ptr<const RouteTable>, std::string> RouteTable::build(const snapshot::Snapshot& snap) {
    auto table = std::make_shared<RouteTable>();
    table->version_ = snap.version;
    std::unordered_map<std::string, std::uint32_t> index;
    for (const auto& b : snap.backends) {
        BackendTarget t;
        t.name = b.name;
        for (const auto& ep : b.endpoints) {
            auto addr = resolve(ep);
            if (!addr) return std::unexpected("backend \"" + b.name + "\": " + addr.error());
            t.endpoints.push_back(std::move(*addr));
        }
        index.emplace(b.name, static_cast<std::uint32_t>(table->backends_.size()));
        table->backends_.push_back(std::move(t));
    }
    auto lookup = [&](const std::string& name) -> std::expected<std::uint32_t, std::string> {
        auto it = index.find(name);
        if (it == index.end()) return std::unexpected("unknown backend \"" + name + "\"");
        return it->second;
    };
    for (const auto& vh : snap.virtual_hosts) {
        char buf[256];
        std::string host(normalize_host(vh.host, buf, sizeof buf));
        HostRules* target = &table->any_host_;
        if (host.starts_with("*.") && host.size() > 2)
            target = &table->wildcards_[host.substr(1)];  // key ".example.com"
        else if (!vh.host.empty())
            target = &table->hosts_[host];
        HostRules& rules = *target;
        for (const auto& r : vh.routes) {
            auto b = lookup(r.backend);
            if (!b) return std::unexpected(b.error());
            if (r.match == snapshot::PathMatch::Exact) {
                rules.exact.emplace(r.path, *b);  // first rule for a path wins
            } else {
                std::string prefix = r.path;
                while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
                rules.prefixes.push_back({std::move(prefix), *b});
            }
        }
    }
    auto by_length = [](const PrefixRule& a, const PrefixRule& b) { return a.prefix.size() > b.prefix.size(); };
    std::stable_sort(table->any_host_.prefixes.begin(), table->any_host_.prefixes.end(), by_length);
    for (auto& [_, rules] : table->hosts_)
        std::stable_sort(rules.prefixes.begin(), rules.prefixes.end(), by_length);
    for (auto& [_, rules] : table->wildcards_)
        std::stable_sort(rules.prefixes.begin(), rules.prefixes.end(), by_length);
    if (!snap.default_backend.empty()) {
        auto b = lookup(snap.default_backend);
        if (!b) return std::unexpected("default_backend: " + b.error());
        table->default_backend_ = *b;
    }
    for (const auto& f : snap.frontends) {
        FrontendTarget target{f.protocol, kNoBackend};
        if (f.protocol == snapshot::FrontendProtocol::Tcp) {
            auto b = lookup(f.backend);
            if (!b) return std::unexpected("frontend port " + std::to_string(f.port) + ": " + b.error());
            target.backend = *b;
        }
        EndpointAddress where;  // reuse the endpoint parser for the address
        if (!f.address.empty()) {
            auto a = resolve(snapshot::Endpoint{f.address, f.port});
            if (!a) return std::unexpected("frontend: " + a.error());
            where = *a;
        } else {
            auto* v4 = reinterpret_cast<sockaddr_in*>(&where.addr);
            v4->sin_family = AF_INET;
            v4->sin_port = htons(f.port);
        }
        char key[18];
        std::size_t n = frontend_key(reinterpret_cast<const sockaddr*>(&where.addr), !f.address.empty(), key);
        table->frontends_.emplace(std::string(key, n), target);
    }
    return std::shared_ptr<const RouteTable>(std::move(table));
}

}  // namespace xgress::router

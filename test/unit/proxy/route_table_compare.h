// Compares two route tables built from the same snapshot by two paths
// (RouteTable::build and the proxy's table decoder): every route target,
// every backend, and the match of each host and path the snapshot names.
// Shared by table_decoder_test and the snapshot_table_fuzzer.
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "router/route_table.h"
#include "xgress/snapshot.h"

namespace xgress::table_check {

inline std::string route_table_difference(const router::RouteTable& a, const router::RouteTable& b,
                                          const snapshot::Snapshot& snap) {
    if (a.version() != b.version()) return "version";
    if (a.route_count() != b.route_count()) return "route count";
    if (a.table_count() != b.table_count()) return "table count";
    if (a.has_frontends() != b.has_frontends()) return "has_frontends";
    for (std::uint32_t r = 0; r < a.route_count(); ++r) {
        const router::RouteTarget &x = a.target(r), &y = b.target(r);
        const std::string at = "route " + std::to_string(r) + " (" + std::string(x.name) + "): ";
        if (x.name != y.name) return at + "name " + std::string(y.name);
        if (x.backend != y.backend) return at + "backend";
        if (x.regex != y.regex || x.exact != y.exact || x.prefix != y.prefix) return at + "match";
        if (x.plain != y.plain || x.ssl_redirect != y.ssl_redirect || x.redirect_status != y.redirect_status ||
            x.redirect_url != y.redirect_url || x.app_root != y.app_root || x.rewrite_target != y.rewrite_target ||
            x.affinity_cookie != y.affinity_cookie || x.hash_by.empty() != y.hash_by.empty() ||
            x.allowed_sources.empty() != y.allowed_sources.empty() || (x.upstream_tls == nullptr) != (y.upstream_tls == nullptr))
            return at + "policy";
        if (x.policy.connect_timeout_ms != y.policy.connect_timeout_ms || x.policy.read_timeout_ms != y.policy.read_timeout_ms ||
            x.policy.send_timeout_ms != y.policy.send_timeout_ms || x.policy.max_body_bytes != y.policy.max_body_bytes)
            return at + "limits";
    }
    if (a.backends().size() != b.backends().size()) return "backend count";
    for (std::size_t i = 0; i < a.backends().size(); ++i) {
        const router::BackendTarget &x = a.backends()[i], &y = b.backends()[i];
        const std::string at = "backend " + x.name + ": ";
        if (x.name != y.name || x.affinity != y.affinity || x.hashed != y.hashed || x.by_id != y.by_id) return at + "fields";
        if (a.find_backend(x.name) != b.find_backend(x.name)) return at + "index";
        if (x.endpoints.size() != y.endpoints.size()) return at + "endpoint count";
        for (std::size_t e = 0; e < x.endpoints.size(); ++e) {
            const auto &p = x.endpoints[e], &q = y.endpoints[e];
            if (p.text != q.text || p.id != q.id || p.len != q.len || std::memcmp(&p.addr, &q.addr, p.len) != 0)
                return at + "endpoint " + p.text;
        }
    }
    static thread_local router::MatchScratch scratch;
    auto same_match = [&](std::uint32_t t, const std::string& host, const std::string& path) {
        return a.match(t, host, path, scratch, nullptr) == b.match(t, host, path, scratch, nullptr);
    };
    for (const auto& vh : snap.virtual_hosts) {
        const std::uint32_t t = a.class_table(vh.ingress_class);
        if (t != b.class_table(vh.ingress_class)) return "class table " + vh.ingress_class;
        std::string host = vh.host.starts_with("*.") ? "x" + vh.host.substr(1) : vh.host;
        for (const auto& r : vh.routes)
            for (const std::string& path : {r.path, r.path + "/x", std::string("/"), std::string("/zz")})
                if (!same_match(t, host, path) || !same_match(t, "other.invalid", path))
                    return "match " + host + path;
    }
    for (const auto& f : snap.frontends) {
        sockaddr_storage ss{};
        auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
        const std::string addr = f.address.empty() ? "203.0.113.9" : f.address;
        if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(f.port);
        } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(f.port);
        } else {
            continue;
        }
        const auto* p = a.frontend(reinterpret_cast<const sockaddr*>(&ss));
        const auto* q = b.frontend(reinterpret_cast<const sockaddr*>(&ss));
        if ((p == nullptr) != (q == nullptr)) return "frontend presence " + addr;
        if (p && (p->protocol != q->protocol || p->backend != q->backend || p->table != q->table))
            return "frontend " + addr + ":" + std::to_string(f.port);
    }
    return "";
}

}  // namespace xgress::table_check

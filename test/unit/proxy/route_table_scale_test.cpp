// RouteTable::build at scale answers exactly what a plain reference matcher
// (written from the rules in route_table.h, no hashing, no sorting) answers,
// for a large generated table; and the Maglev table built incrementally
// equals the one from the textbook formula. Guards the build-time
// optimisations (pre-sized tables, skipped sorts, incremental Maglev walk).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "router/consistent_hash.h"
#include "router/route_table.h"

using namespace xgress;
using snapshot::PathMatch;

namespace {

// The rules of route_table.h, applied the slow way.
std::uint32_t reference_route(const snapshot::Snapshot& s, const std::string& host, const std::string& path) {
    auto index_of = [&](const std::string& backend) -> std::uint32_t {
        for (std::uint32_t i = 0; i < s.backends.size(); ++i)
            if (s.backends[i].name == backend) return i;
        return router::kNoBackend;
    };
    auto match_host = [&](const snapshot::VirtualHost& vh) -> std::uint32_t {
        for (const auto& r : vh.routes)
            if (r.match == PathMatch::Exact && r.path == path) return index_of(r.backend);
        std::size_t best = 0;
        const snapshot::Route* chosen = nullptr;
        for (const auto& r : vh.routes) {
            if (r.match != PathMatch::Prefix) continue;
            std::string p = r.path;
            while (p.size() > 1 && p.back() == '/') p.pop_back();
            const bool hit = p == "/" || (path.starts_with(p) && (path.size() == p.size() || path[p.size()] == '/'));
            if (hit && (chosen == nullptr || p.size() > best)) best = p.size(), chosen = &r;
        }
        return chosen ? index_of(chosen->backend) : router::kNoBackend;
    };
    auto find = [&](const std::string& name) -> const snapshot::VirtualHost* {
        for (const auto& vh : s.virtual_hosts)
            if (vh.host == name) return &vh;
        return nullptr;
    };
    if (const auto* vh = find(host)) {
        if (auto b = match_host(*vh); b != router::kNoBackend) return b;
    }
    const auto dot = host.find('.');
    if (dot != std::string::npos && dot > 0) {
        if (const auto* vh = find("*" + host.substr(dot))) {
            if (auto b = match_host(*vh); b != router::kNoBackend) return b;
        }
    }
    if (const auto* vh = find("")) {
        if (auto b = match_host(*vh); b != router::kNoBackend) return b;
    }
    return s.default_backend.empty() ? router::kNoBackend : index_of(s.default_backend);
}

TEST(RouteTableScale, LargeGeneratedTableMatchesTheReferenceMatcher) {
    std::mt19937 rng(42);
    snapshot::Snapshot s;
    s.version = 1;
    constexpr int kBackends = 300, kHosts = 1500;
    for (int b = 0; b < kBackends; ++b)
        s.backends.push_back({"b" + std::to_string(b), {{"10.0." + std::to_string(b / 250) + "." + std::to_string(b % 250 + 1), 80}}});
    const std::vector<std::string> paths = {"/", "/api", "/api/v2", "/api/v2/", "/static", "/a/b/c", "/login", "/x"};
    auto backend = [&] { return "b" + std::to_string(rng() % kBackends); };
    for (int h = 0; h < kHosts; ++h) {
        snapshot::VirtualHost vh;
        vh.host = (h % 10 == 0 ? "*.zone" : "h") + std::to_string(h) + ".example.com";
        const int routes = 1 + static_cast<int>(rng() % 5);
        std::vector<std::pair<std::string, PathMatch>> used;
        for (int r = 0; r < routes; ++r) {
            const std::string p = paths[rng() % paths.size()];
            const PathMatch m = rng() % 3 == 0 ? PathMatch::Exact : PathMatch::Prefix;
            bool dup = false;
            for (const auto& u : used) dup |= u.first == p && u.second == m;
            if (dup) continue;  // the model never emits one host+path+match twice
            used.emplace_back(p, m);
            vh.routes.push_back({p, m, backend()});
        }
        s.virtual_hosts.push_back(std::move(vh));
    }
    s.virtual_hosts.push_back({"", {{"/any", PathMatch::Prefix, backend()}}, ""});
    s.default_backend = backend();

    auto table = router::RouteTable::build(s);
    ASSERT_TRUE(table.has_value()) << table.error();
    const std::vector<std::string> probes = {"/",        "/api",    "/api/",  "/api/v2", "/api/v2/x", "/apix",
                                             "/static/1", "/a/b/c/d", "/a/b",   "/login",  "/x",        "/any/1",
                                             "/nothing"};
    int checked = 0;
    for (int h = 0; h < kHosts + 50; h += 3) {
        const std::string host = h % 10 == 0 ? "pod" + std::to_string(h % 7) + ".zone" + std::to_string(h) + ".example.com"
                                             : "h" + std::to_string(h) + ".example.com";
        for (const std::string& path : probes) {
            ASSERT_EQ((*table)->route(host, path), reference_route(s, host, path)) << host << path;
            ++checked;
        }
    }
    EXPECT_GT(checked, 6000);
}

// Maglev, the textbook way: the j-th preference of endpoint i is
// (offset_i + j * skip_i) % m.
std::vector<std::uint32_t> reference_maglev(const std::vector<std::uint64_t>& ids, std::uint64_t m) {
    const std::size_t n = ids.size();
    std::vector<std::uint64_t> offset(n), skip(n), next(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        offset[i] = router::mix64(ids[i] ^ 0x9e3779b97f4a7c15ULL) % m;
        skip[i] = router::mix64(ids[i] + 0x632be59bd9b4e019ULL) % (m - 1) + 1;
    }
    std::vector<std::uint32_t> slots(m, UINT32_MAX);
    std::uint64_t filled = 0;
    while (true) {
        for (std::size_t i = 0; i < n; ++i) {
            std::uint64_t c = (offset[i] + next[i] * skip[i]) % m;
            while (slots[c] != UINT32_MAX) c = (offset[i] + ++next[i] * skip[i]) % m;
            slots[c] = static_cast<std::uint32_t>(i);
            ++next[i];
            if (++filled == m) return slots;
        }
    }
}

TEST(RouteTableScale, IncrementalMaglevEqualsTheTextbookTable) {
    for (std::size_t n : {1u, 2u, 3u, 10u, 40u, 41u, 200u}) {
        std::vector<std::uint64_t> ids;
        for (std::size_t i = 0; i < n; ++i) ids.push_back(router::endpoint_id("10.1.0." + std::to_string(i) + ":80"));
        router::MaglevTable table;
        table.build(ids);
        const auto expected = reference_maglev(ids, table.size());
        ASSERT_EQ(table.size(), expected.size());
        for (std::uint64_t slot = 0; slot < expected.size(); ++slot)
            ASSERT_EQ(table.at(slot), expected[slot]) << "n=" << n << " slot " << slot;
    }
}

}  // namespace

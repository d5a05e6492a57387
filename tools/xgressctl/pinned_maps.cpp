#include "pinned_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "xgress/frontend_key_text.h"

namespace xgress::ctl {
namespace {

// Closes the pinned map's fd when the read is done.
class PinnedMap {
public:
    static std::expected<PinnedMap, std::string> open(const std::string& pin_root, const char* name) {
        const std::string path = pin_root + "/" + name;
        int fd = bpf_obj_get(path.c_str());
        if (fd < 0) return std::unexpected(fmt::format("{}: {} (is the agent running with --pin-root {}?)", path,
                                                       std::strerror(errno), pin_root));
        return PinnedMap(fd);
    }
    PinnedMap(PinnedMap&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    ~PinnedMap() {
        if (fd_ >= 0) close(fd_);
    }
    int fd() const { return fd_; }

private:
    explicit PinnedMap(int fd) : fd_(fd) {}
    int fd_;
};

std::expected<void, std::string> check_abi(const std::string& pin_root) {
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_ABI_INFO);
    if (!map) return std::unexpected(map.error());
    std::uint32_t key = XGRESS_ABI_INFO_KEY;
    xgress_abi_info info{};
    if (bpf_map_lookup_elem(map->fd(), &key, &info) != 0) return std::unexpected("abi_info: unreadable");
    if (info.abi_version != XGRESS_ABI_VERSION)
        return std::unexpected(fmt::format("maps under {} have ABI version {}, this xgressctl reads {}", pin_root,
                                           info.abi_version, XGRESS_ABI_VERSION));
    return {};
}

}  // namespace

std::expected<std::vector<FrontendRow>, std::string> read_frontends(const std::string& pin_root) {
    if (auto ok = check_abi(pin_root); !ok) return std::unexpected(ok.error());
    auto frontends = PinnedMap::open(pin_root, XGRESS_MAP_FRONTENDS);
    if (!frontends) return std::unexpected(frontends.error());
    auto stats = PinnedMap::open(pin_root, XGRESS_MAP_FRONTEND_STATS);
    if (!stats) return std::unexpected(stats.error());
    auto names = PinnedMap::open(pin_root, XGRESS_MAP_FRONTEND_NAMES);
    if (!names) return std::unexpected(names.error());
    auto bases = PinnedMap::open(pin_root, XGRESS_MAP_FRONTEND_STATS_BASE);
    if (!bases) return std::unexpected(bases.error());

    const auto cpus = static_cast<std::size_t>(libbpf_num_possible_cpus());
    std::vector<xgress_frontend_stats> per_cpu(cpus);
    std::vector<FrontendRow> rows;
    xgress_frontend_key key{}, next{};
    for (void* prev = nullptr; bpf_map_get_next_key(frontends->fd(), prev, &next) == 0; prev = &key) {
        key = next;
        xgress_frontend_value value{};
        if (bpf_map_lookup_elem(frontends->fd(), &key, &value) != 0) continue;
        FrontendRow row{frontend_key_text(key), {}, value.id, value.listener_slot, {}};
        xgress_frontend_name name{};
        if (bpf_map_lookup_elem(names->fd(), &value.id, &name) == 0)
            row.name.assign(name.name, strnlen(name.name, sizeof(name.name)));
        if (bpf_map_lookup_elem(stats->fd(), &value.id, per_cpu.data()) == 0)
            for (const auto& s : per_cpu) {
                row.totals.packets += s.packets;
                row.totals.bytes += s.bytes;
                row.totals.syns += s.syns;
                row.totals.source_range_drops += s.source_range_drops;
            }
        // The counters are never reset (ABI 7): this frontend's share is
        // what was counted since the agent gave it the id.
        xgress_frontend_stats base{};
        if (bpf_map_lookup_elem(bases->fd(), &value.id, &base) == 0) {
            row.totals.packets -= base.packets;
            row.totals.bytes -= base.bytes;
            row.totals.syns -= base.syns;
            row.totals.source_range_drops -= base.source_range_drops;
        }
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return rows;
}

std::expected<std::vector<NodeAddressRow>, std::string> read_node_addresses(const std::string& pin_root) {
    if (auto ok = check_abi(pin_root); !ok) return std::unexpected(ok.error());
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_NODE_ADDRS);
    if (!map) return std::unexpected(map.error());
    std::vector<NodeAddressRow> rows;
    xgress_node_addr_key key{}, next{};
    for (void* prev = nullptr; bpf_map_get_next_key(map->fd(), prev, &next) == 0; prev = &key) {
        key = next;
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(key.ipv6 ? AF_INET6 : AF_INET, key.addr, text, sizeof(text));
        rows.push_back({text, key.ipv6 != 0});
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return std::pair(a.ipv6, a.address) < std::pair(b.ipv6, b.address); });
    return rows;
}

std::expected<std::vector<SourceRangeRow>, std::string> read_source_ranges(const std::string& pin_root) {
    auto frontends = read_frontends(pin_root);
    if (!frontends) return std::unexpected(frontends.error());
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_SOURCE_RANGES);
    if (!map) return std::unexpected(map.error());
    std::vector<SourceRangeRow> rows;
    xgress_source_range_key key{}, next{};
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    for (void* prev = nullptr; bpf_map_get_next_key(map->fd(), prev, &next) == 0; prev = &key) {
        key = next;
        SourceRangeRow row;
        row.frontend_id = key.frontend_id;
        const unsigned bits = key.prefixlen >= 32 ? key.prefixlen - 32 : 0;
        char text[INET6_ADDRSTRLEN] = {};
        if (bits >= 96 && std::memcmp(key.addr, mapped, sizeof(mapped)) == 0) {
            inet_ntop(AF_INET, key.addr + 12, text, sizeof(text));
            row.prefix = fmt::format("{}/{}", text, bits - 96);
        } else {
            inet_ntop(AF_INET6, key.addr, text, sizeof(text));
            row.prefix = fmt::format("{}/{}", text, bits);
        }
        for (const auto& f : *frontends)
            if (f.id == key.frontend_id) {
                row.frontend = f.frontend;
                row.name = f.name;
            }
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return std::pair(a.frontend_id, a.prefix) < std::pair(b.frontend_id, b.prefix);
    });
    return rows;
}

std::expected<SettingsRow, std::string> read_settings(const std::string& pin_root) {
    if (auto ok = check_abi(pin_root); !ok) return std::unexpected(ok.error());
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_SETTINGS);
    if (!map) return std::unexpected(map.error());
    std::uint32_t key = XGRESS_SETTINGS_KEY;
    xgress_settings settings{};
    if (bpf_map_lookup_elem(map->fd(), &key, &settings) != 0)
        return std::unexpected(fmt::format("settings: {}", std::strerror(errno)));
    return SettingsRow{settings.node_port_min, settings.node_port_max,
                       (settings.flags & XGRESS_SETTINGS_DROP_UNALLOCATED) != 0};
}

// xdp_matched (ABI 7): the raw counters of every frontend id ever used,
// which are never reset, so the sum never goes back. One batch read of the
// whole per-CPU array.
static std::expected<std::uint64_t, std::string> derive_xdp_matched(const std::string& pin_root) {
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_FRONTEND_STATS);
    if (!map) return std::unexpected(map.error());
    const auto cpus = static_cast<std::size_t>(libbpf_num_possible_cpus());
    std::vector<std::uint32_t> keys(XGRESS_MAX_FRONTENDS);
    std::vector<xgress_frontend_stats> values(keys.size() * cpus);
    std::uint32_t out_batch = 0, count = static_cast<std::uint32_t>(keys.size());
    if (bpf_map_lookup_batch(map->fd(), nullptr, &out_batch, keys.data(), values.data(), &count, nullptr) != 0 &&
        errno != ENOENT)
        return std::unexpected(fmt::format("frontend_stats: {}", std::strerror(errno)));
    std::uint64_t matched = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(count) * cpus; ++i)
        matched += xgress_frontend_stats_matched(&values[i]);
    return matched;
}

std::expected<std::vector<GlobalRow>, std::string> read_global_stats(const std::string& pin_root) {
    if (auto ok = check_abi(pin_root); !ok) return std::unexpected(ok.error());
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_GLOBAL_STATS);
    if (!map) return std::unexpected(map.error());
    std::vector<xgress_global_stats> per_cpu(static_cast<std::size_t>(libbpf_num_possible_cpus()));
    std::uint32_t key = XGRESS_GLOBAL_STATS_KEY;
    if (bpf_map_lookup_elem(map->fd(), &key, per_cpu.data()) != 0)
        return std::unexpected(fmt::format("global_stats: {}", std::strerror(errno)));
    auto matched = derive_xdp_matched(pin_root);
    if (!matched) return std::unexpected(matched.error());
    xgress_global_stats sum{};
    for (const auto& s : per_cpu) {
#define XGRESS_ADD(field) sum.field += s.field;
        XGRESS_GLOBAL_STATS_FIELDS(XGRESS_ADD)
#undef XGRESS_ADD
    }
    sum.xdp_matched += *matched;     // the program does not count it (ABI 7)
    xgress_derive_xdp_packets(&sum);  // nor this one (ABI 6)
    std::vector<GlobalRow> rows;
#define XGRESS_ROW(field) rows.push_back({#field, sum.field});
    XGRESS_GLOBAL_STATS_FIELDS(XGRESS_ROW)
#undef XGRESS_ROW
    return rows;
}

}  // namespace xgress::ctl

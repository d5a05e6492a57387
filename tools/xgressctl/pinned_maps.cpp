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

std::string describe_frontend(const xgress_frontend_key& key) {
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

std::expected<std::vector<FrontendRow>, std::string> read_frontends(const std::string& pin_root) {
    if (auto ok = check_abi(pin_root); !ok) return std::unexpected(ok.error());
    auto frontends = PinnedMap::open(pin_root, XGRESS_MAP_FRONTENDS);
    if (!frontends) return std::unexpected(frontends.error());
    auto stats = PinnedMap::open(pin_root, XGRESS_MAP_FRONTEND_STATS);
    if (!stats) return std::unexpected(stats.error());
    auto names = PinnedMap::open(pin_root, XGRESS_MAP_FRONTEND_NAMES);
    if (!names) return std::unexpected(names.error());

    const auto cpus = static_cast<std::size_t>(libbpf_num_possible_cpus());
    std::vector<xgress_frontend_stats> per_cpu(cpus);
    std::vector<FrontendRow> rows;
    xgress_frontend_key key{}, next{};
    for (void* prev = nullptr; bpf_map_get_next_key(frontends->fd(), prev, &next) == 0; prev = &key) {
        key = next;
        xgress_frontend_value value{};
        if (bpf_map_lookup_elem(frontends->fd(), &key, &value) != 0) continue;
        FrontendRow row{describe_frontend(key), {}, value.id, value.listener_slot, {}};
        xgress_frontend_name name{};
        if (bpf_map_lookup_elem(names->fd(), &value.id, &name) == 0)
            row.name.assign(name.name, strnlen(name.name, sizeof(name.name)));
        if (bpf_map_lookup_elem(stats->fd(), &value.id, per_cpu.data()) == 0)
            for (const auto& s : per_cpu) {
                row.totals.packets += s.packets;
                row.totals.bytes += s.bytes;
                row.totals.syns += s.syns;
            }
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return rows;
}

std::expected<std::vector<GlobalRow>, std::string> read_global_stats(const std::string& pin_root) {
    if (auto ok = check_abi(pin_root); !ok) return std::unexpected(ok.error());
    auto map = PinnedMap::open(pin_root, XGRESS_MAP_GLOBAL_STATS);
    if (!map) return std::unexpected(map.error());
    std::vector<xgress_global_stats> per_cpu(static_cast<std::size_t>(libbpf_num_possible_cpus()));
    std::uint32_t key = XGRESS_GLOBAL_STATS_KEY;
    if (bpf_map_lookup_elem(map->fd(), &key, per_cpu.data()) != 0)
        return std::unexpected(fmt::format("global_stats: {}", std::strerror(errno)));
    xgress_global_stats sum{};
    for (const auto& s : per_cpu) {
        sum.xdp_packets += s.xdp_packets;
        sum.xdp_non_ip += s.xdp_non_ip;
        sum.xdp_unparsed += s.xdp_unparsed;
        sum.xdp_fragments += s.xdp_fragments;
        sum.xdp_other_l4 += s.xdp_other_l4;
        sum.xdp_not_ours += s.xdp_not_ours;
        sum.xdp_matched += s.xdp_matched;
        sum.sk_lookup_assigned += s.sk_lookup_assigned;
        sum.sk_lookup_no_listener += s.sk_lookup_no_listener;
        sum.sk_lookup_assign_failed += s.sk_lookup_assign_failed;
    }
    return std::vector<GlobalRow>{
        {"xdp_packets", sum.xdp_packets},
        {"xdp_matched", sum.xdp_matched},
        {"xdp_not_ours", sum.xdp_not_ours},
        {"xdp_non_ip", sum.xdp_non_ip},
        {"xdp_other_l4", sum.xdp_other_l4},
        {"xdp_fragments", sum.xdp_fragments},
        {"xdp_unparsed", sum.xdp_unparsed},
        {"sk_lookup_assigned", sum.sk_lookup_assigned},
        {"sk_lookup_no_listener", sum.sk_lookup_no_listener},
        {"sk_lookup_assign_failed", sum.sk_lookup_assign_failed},
    };
}

}  // namespace xgress::ctl

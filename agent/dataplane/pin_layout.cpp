#include "pin_layout.h"

#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

const std::vector<const char*>& pinned_map_names() {
    static const std::vector<const char*> names{
        XGRESS_MAP_FRONTENDS,   XGRESS_MAP_NODE_ADDRS, XGRESS_MAP_FRONTEND_STATS, XGRESS_MAP_FRONTEND_NAMES,
        XGRESS_MAP_GLOBAL_STATS, XGRESS_MAP_ABI_INFO,  XGRESS_MAP_LISTENERS,
        XGRESS_MAP_SETTINGS,     XGRESS_MAP_SOURCE_RANGES, XGRESS_MAP_TABLES,
        XGRESS_MAP_FRONTEND_STATS_BASE,
    };
    return names;
}

const std::vector<const char*>& retired_map_names() {
    static const std::vector<const char*> names{XGRESS_MAP_NODEPORT_FRONTENDS, XGRESS_MAP_PORT_FLAGS,
                                                XGRESS_MAP_VIP_FRONTENDS, XGRESS_MAP_NODE_ADDR_LIST};
    return names;
}

int pin_tables(bpf_map* bss, const PinLayout& layout) {
    return bpf_map__set_pin_path(bss, layout.map(XGRESS_MAP_TABLES).c_str());
}

bool is_bpffs(const std::string& path) {
    struct statfs st{};
    return statfs(path.c_str(), &st) == 0 && st.f_type == static_cast<decltype(st.f_type)>(BPF_FS_MAGIC);
}

std::expected<void, Error> prepare_pin_root(const std::string& pin_root) {
    std::error_code ec;
    std::filesystem::create_directories(pin_root, ec);
    if (ec) return std::unexpected(Error{fmt::format("pin root {}: {}", pin_root, ec.message())});
    if (!is_bpffs(pin_root))
        return std::unexpected(Error{fmt::format("pin root {} is not on a bpffs (mount -t bpf bpf <dir>)", pin_root)});
    return {};
}

std::string choose_libxdp_bpffs(const std::string& pin_root) {
    if (const char* set = std::getenv("LIBXDP_BPFFS"); set && *set) return set;
    auto root = std::filesystem::path(pin_root).lexically_normal();
    if (!root.has_filename()) root = root.parent_path();  // "/x/xgress/" -> "/x/xgress"
    std::string parent = root.parent_path().string();
    std::string chosen = (!parent.empty() && is_bpffs(parent)) ? parent : pin_root;
    setenv("LIBXDP_BPFFS", chosen.c_str(), 1);
    spdlog::info("LIBXDP_BPFFS unset; libxdp dispatcher state goes under {}", chosen);
    return chosen;
}

}  // namespace xgress::agent::dataplane

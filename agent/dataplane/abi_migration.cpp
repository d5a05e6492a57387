#include "abi_migration.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "xgress/bpf_abi.h"

namespace xgress::agent::dataplane {

std::optional<std::uint32_t> pinned_abi_version(const PinLayout& layout) {
    const int fd = bpf_obj_get(layout.map(XGRESS_MAP_ABI_INFO).c_str());
    if (fd < 0) return std::nullopt;
    // Read with a buffer big enough for any version's value: only the first
    // field (abi_version, at offset 0 in every version) is interpreted.
    std::array<std::uint8_t, 256> value{};
    bpf_map_info info{};
    __u32 len = sizeof(info);
    std::uint32_t key = XGRESS_ABI_INFO_KEY;
    std::optional<std::uint32_t> version;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.value_size >= 4 && info.value_size <= value.size() &&
        bpf_map_lookup_elem(fd, &key, value.data()) == 0) {
        std::uint32_t v = 0;
        std::memcpy(&v, value.data(), sizeof(v));
        if (v != 0) version = v;
    }
    close(fd);
    return version;
}

std::expected<std::string, Error> move_pins_aside(const PinLayout& layout, std::uint32_t old_version) {
    const std::string directory = fmt::format("{}/old-abi-{}", layout.root, old_version);
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) return std::unexpected(Error{fmt::format("create {}: {}", directory, ec.message())});
    for (const auto& entry : std::filesystem::directory_iterator(layout.root, ec)) {
        if (!entry.is_regular_file()) continue;  // links/, old-abi-*/ and libxdp's dirs stay
        const auto target = directory + "/" + entry.path().filename().string();
        if (std::rename(entry.path().c_str(), target.c_str()) != 0)
            return std::unexpected(Error{fmt::format("move {} to {}: {}", entry.path().string(), target,
                                                     std::strerror(errno))});
    }
    if (ec) return std::unexpected(Error{fmt::format("list {}: {}", layout.root, ec.message())});
    spdlog::warn("pinned maps have ABI version {}, this agent speaks {}: moved them to {} and creating new ones "
                 "(counters restart)",
                 old_version, XGRESS_ABI_VERSION, directory);
    return directory;
}

std::string remove_moved_pins(const std::string& directory) {
    std::string problems;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec))
        if (unlink(entry.path().c_str()) != 0)
            problems += fmt::format("remove {}: {}; ", entry.path().string(), std::strerror(errno));
    if (rmdir(directory.c_str()) != 0 && errno != ENOENT)
        problems += fmt::format("remove {}: {}", directory, std::strerror(errno));
    return problems;
}

std::vector<std::string> moved_pin_directories(const PinLayout& layout) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(layout.root, ec))
        if (entry.is_directory() && entry.path().filename().string().starts_with("old-abi-"))
            found.push_back(entry.path().string());
    return found;
}

}  // namespace xgress::agent::dataplane

#include "libbpf_log.h"

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace xgress::agent::dataplane {
namespace {

std::string format(const char* fmt, va_list args) {
    char buffer[1024];
    int n = std::vsnprintf(buffer, sizeof(buffer), fmt, args);
    std::string text(buffer, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buffer) - 1));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

// libbpf warns about sections it does not know; .xdp_run_config is libxdp's,
// expected and harmless, so it is demoted to debug.
bool is_expected_noise(std::string_view text) { return text.find(".xdp_run_config") != std::string_view::npos; }

spdlog::level::level_enum level_of(bool warn, bool info) {
    return warn ? spdlog::level::warn : info ? spdlog::level::info : spdlog::level::debug;
}

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
    std::string text = format(fmt, args);
    auto lvl = level_of(level == LIBBPF_WARN, level == LIBBPF_INFO);
    if (is_expected_noise(text)) lvl = spdlog::level::debug;
    spdlog::log(lvl, "libbpf: {}", text);
    return 0;
}

int libxdp_print(enum libxdp_print_level level, const char* fmt, va_list args) {
    std::string text = format(fmt, args);
    auto lvl = level_of(level == LIBXDP_WARN, level == LIBXDP_INFO);
    // libxdp reports its own fallbacks as warnings; the caller decides what is
    // a real problem, so keep them at info.
    if (lvl == spdlog::level::warn) lvl = spdlog::level::info;
    spdlog::log(lvl, "libxdp: {}", text);
    return 0;
}

}  // namespace

void route_bpf_library_logs_to_spdlog() {
    static std::once_flag once;
    std::call_once(once, [] {
        libbpf_set_print(libbpf_print);
        libxdp_set_print(libxdp_print);
    });
}

}  // namespace xgress::agent::dataplane

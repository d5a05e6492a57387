#include "k8s/units.h"

#include <charconv>
#include <limits>

namespace xgress::agent::k8s {
namespace {

// Splits "123abc" into 123 and "abc"; nullopt when there is no leading number.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

std::optional<std::uint64_t> scaled(std::uint64_t value, std::uint64_t factor) {
    if (factor != 0 && value > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
    return value * factor;
}

}  // namespace

std::optional<std::uint64_t> parse_duration_ms(std::string_view text) {
    auto parts = split_number(text);
    if (!parts) return std::nullopt;
    const auto [value, unit] = *parts;
    if (unit.empty() || unit == "s") return scaled(value, 1000);
    if (unit == "ms") return value;
    if (unit == "m") return scaled(value, 60'000);
    if (unit == "h") return scaled(value, 3'600'000);
    return std::nullopt;
}

std::optional<std::uint64_t> parse_size_bytes(std::string_view text) {
    auto parts = split_number(text);
    if (!parts) return std::nullopt;
    const auto [value, unit] = *parts;
    if (unit.empty()) return value;
    if (unit == "k" || unit == "K") return scaled(value, 1ull << 10);
    if (unit == "m" || unit == "M") return scaled(value, 1ull << 20);
    if (unit == "g" || unit == "G") return scaled(value, 1ull << 30);
    return std::nullopt;
}

}  // namespace xgress::agent::k8s

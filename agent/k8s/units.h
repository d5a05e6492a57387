// Durations and sizes as operators write them in annotations and in the
// IngressClassParameters CRD: "30" (seconds), "5s", "250ms", "2m", "1h";
// "8m", "512k", "1g", "1048576" (bytes, nginx's proxy-body-size syntax).
// Shared by the decoder (CRD fields) and the model (annotations).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace xgress::agent::k8s {

// Milliseconds; a bare number is seconds (nginx's proxy-*-timeout meaning).
std::optional<std::uint64_t> parse_duration_ms(std::string_view text);

// Bytes; suffixes k/m/g (either case) are powers of 1024. "0" = unlimited.
std::optional<std::uint64_t> parse_size_bytes(std::string_view text);

}  // namespace xgress::agent::k8s

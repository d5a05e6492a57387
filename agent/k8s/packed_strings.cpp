#include "k8s/packed_strings.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace xgress::agent::k8s {

namespace {

std::uint16_t read_length(const char* at) {
    std::uint16_t length;
    std::memcpy(&length, at, sizeof length);
    return length;
}

}  // namespace

PackedStrings::PackedStrings(const std::vector<std::string_view>& parts) {
    const std::size_t count = std::min<std::size_t>(parts.size(), 255);
    if (count == 0) return;
    std::size_t total = 1;
    for (std::size_t i = 0; i < count; ++i) total += 2 + std::min<std::size_t>(parts[i].size(), 65535);
    data_ = std::make_unique_for_overwrite<char[]>(total);
    data_[0] = static_cast<char>(count);
    char* out = data_.get() + 1;
    for (std::size_t i = 0; i < count; ++i) {
        const auto length = static_cast<std::uint16_t>(std::min<std::size_t>(parts[i].size(), 65535));
        std::memcpy(out, &length, sizeof length);
        std::memcpy(out + 2, parts[i].data(), length);
        out += 2 + length;
    }
}

std::size_t PackedStrings::block_size() const {
    if (!data_) return 0;
    std::size_t at = 1;
    for (std::size_t i = 0; i < size(); ++i) at += 2 + read_length(data_.get() + at);
    return at;
}

PackedStrings::PackedStrings(const PackedStrings& other) { *this = other; }

PackedStrings& PackedStrings::operator=(const PackedStrings& other) {
    if (this == &other) return *this;
    const std::size_t bytes = other.block_size();
    if (bytes == 0) {
        data_.reset();
        return *this;
    }
    data_ = std::make_unique_for_overwrite<char[]>(bytes);
    std::memcpy(data_.get(), other.data_.get(), bytes);
    return *this;
}

std::string_view PackedStrings::operator[](std::size_t i) const {
    if (i >= size()) return {};
    std::size_t at = 1;
    for (std::size_t k = 0; k < i; ++k) at += 2 + read_length(data_.get() + at);
    return std::string_view(data_.get() + at + 2, read_length(data_.get() + at));
}

bool PackedStrings::operator==(const PackedStrings& other) const {
    const std::size_t bytes = block_size();
    return bytes == other.block_size() && (bytes == 0 || std::memcmp(data_.get(), other.data_.get(), bytes) == 0);
}

}  // namespace xgress::agent::k8s

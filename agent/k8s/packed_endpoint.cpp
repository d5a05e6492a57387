#include "k8s/packed_endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace xgress::agent::k8s {

// Block layout:
//   [0] conditions: bits 0-1 ready, 2-3 serving, 4-5 terminating (0 unknown, 1 false, 2 true)
//   [1] address count
//   per address: [kind] then 4 bytes (kind 4), 16 bytes (kind 6) or [length][text] (kind 0)
//   [Pod name length][Pod name]
namespace {

constexpr std::uint8_t kText = 0, kV4 = 4, kV6 = 6;

std::uint8_t encode_condition(std::optional<bool> value) { return value ? (*value ? 2 : 1) : 0; }

std::size_t capped(std::size_t n) { return std::min<std::size_t>(n, 255); }

// The binary form of `address` when it prints back exactly as written.
std::uint8_t binary_kind(const std::string& address, unsigned char (&out)[16]) {
    char back[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, address.c_str(), out) == 1 && inet_ntop(AF_INET, out, back, sizeof back) &&
        address == back)
        return kV4;
    if (inet_pton(AF_INET6, address.c_str(), out) == 1 && inet_ntop(AF_INET6, out, back, sizeof back) &&
        address == back)
        return kV6;
    return kText;
}

}  // namespace

PackedEndpoint::PackedEndpoint(std::optional<bool> ready, std::optional<bool> serving, std::optional<bool> terminating,
                               std::string_view target_ref_name, const std::vector<std::string>& addresses) {
    const std::size_t count = std::min<std::size_t>(addresses.size(), 255);
    std::vector<std::uint8_t> block;
    block.reserve(3 + target_ref_name.size() + count * 17);
    block.push_back(static_cast<std::uint8_t>(encode_condition(ready) | encode_condition(serving) << 2 |
                                              encode_condition(terminating) << 4));
    block.push_back(static_cast<std::uint8_t>(count));
    for (std::size_t i = 0; i < count; ++i) {
        unsigned char binary[16];
        const std::uint8_t kind = binary_kind(addresses[i], binary);
        block.push_back(kind);
        if (kind == kV4) {
            block.insert(block.end(), binary, binary + 4);
        } else if (kind == kV6) {
            block.insert(block.end(), binary, binary + 16);
        } else {
            const std::size_t length = capped(addresses[i].size());
            block.push_back(static_cast<std::uint8_t>(length));
            block.insert(block.end(), addresses[i].begin(), addresses[i].begin() + static_cast<std::ptrdiff_t>(length));
        }
    }
    const std::size_t name_length = capped(target_ref_name.size());
    block.push_back(static_cast<std::uint8_t>(name_length));
    block.insert(block.end(), target_ref_name.begin(), target_ref_name.begin() + static_cast<std::ptrdiff_t>(name_length));
    data_ = std::make_unique_for_overwrite<std::uint8_t[]>(block.size());
    std::memcpy(data_.get(), block.data(), block.size());
}

PackedEndpoint::PackedEndpoint(const PackedEndpoint& other) { *this = other; }

PackedEndpoint& PackedEndpoint::operator=(const PackedEndpoint& other) {
    if (this == &other) return *this;
    const std::size_t bytes = other.block_size();
    if (bytes == 0) {
        data_.reset();
        return *this;
    }
    data_ = std::make_unique_for_overwrite<std::uint8_t[]>(bytes);
    std::memcpy(data_.get(), other.data_.get(), bytes);
    return *this;
}

std::optional<bool> PackedEndpoint::condition(int shift) const {
    if (!data_) return std::nullopt;
    const int value = data_[0] >> shift & 3;
    if (value == 0) return std::nullopt;
    return value == 2;
}

std::size_t PackedEndpoint::print_address(std::size_t& at, char* text) const {
    const std::uint8_t kind = data_[at++];
    if (kind == kV4 || kind == kV6) {
        inet_ntop(kind == kV4 ? AF_INET : AF_INET6, data_.get() + at, text, kMaxText);
        at += kind == kV4 ? 4 : 16;
        return std::strlen(text);
    }
    const std::size_t length = data_[at++];
    std::memcpy(text, data_.get() + at, length);
    at += length;
    return length;
}

std::string PackedEndpoint::address(std::size_t i) const {
    std::string result;
    std::size_t n = 0;
    for_each_address([&](std::string_view a) {
        if (n++ == i) result = a;
    });
    return result;
}

std::string_view PackedEndpoint::target_ref_name() const {
    if (!data_) return {};
    std::size_t start = 2;  // past the addresses
    for (std::size_t i = 0; i < address_count(); ++i) {
        const std::uint8_t kind = data_[start++];
        start += kind == kV4 ? 4 : kind == kV6 ? 16 : 1 + data_[start];
    }
    return std::string_view(reinterpret_cast<const char*>(data_.get()) + start + 1, data_[start]);
}

std::size_t PackedEndpoint::block_size() const {
    if (!data_) return 0;
    std::size_t at = 2;
    for (std::size_t i = 0; i < address_count(); ++i) {
        const std::uint8_t kind = data_[at++];
        at += kind == kV4 ? 4 : kind == kV6 ? 16 : 1 + data_[at];
    }
    return at + 1 + data_[at];
}

bool PackedEndpoint::operator==(const PackedEndpoint& other) const {
    if (!data_ || !other.data_) {  // a default one equals a built one with nothing in it
        return ready() == other.ready() && serving() == other.serving() && terminating() == other.terminating() &&
               address_count() == other.address_count() && target_ref_name() == other.target_ref_name();
    }
    // Equal text always packs to equal bytes.
    const std::size_t bytes = block_size();
    return bytes == other.block_size() && std::memcmp(data_.get(), other.data_.get(), bytes) == 0;
}

}  // namespace xgress::agent::k8s

// PackedStrings: a few short strings in one heap block behind one pointer
// (8 bytes), for per-object values that are many and small, such as an
// endpoint's pod name and addresses. Four std::string members cost 128 bytes
// plus a heap block for each one longer than 15 characters; packed, a
// typical endpoint ("10.12.3.4" + a 25-character pod name) takes one
// 48-byte block. Immutable once built; copies duplicate the block.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace xgress::agent::k8s {

class PackedStrings {
public:
    PackedStrings() = default;
    // At most 255 parts of at most 65,535 bytes each (longer ones are cut:
    // Kubernetes names and addresses are far shorter).
    explicit PackedStrings(const std::vector<std::string_view>& parts);
    PackedStrings(const PackedStrings& other);
    PackedStrings& operator=(const PackedStrings& other);
    PackedStrings(PackedStrings&&) noexcept = default;
    PackedStrings& operator=(PackedStrings&&) noexcept = default;

    std::size_t size() const { return data_ ? static_cast<unsigned char>(data_[0]) : 0; }
    // "" when i >= size(). Walks the parts: meant for a handful of them.
    std::string_view operator[](std::size_t i) const;
    bool operator==(const PackedStrings& other) const;

private:
    std::size_t block_size() const;
    std::unique_ptr<char[]> data_;  // [count] then per part [length: 2 bytes][bytes]
};

}  // namespace xgress::agent::k8s

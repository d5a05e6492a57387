// PackedEndpoint: everything of one EndpointSlice endpoint but its node name
// in one heap block behind one pointer (8 bytes): the three conditions as
// two bits each, the addresses (IPv4 as 4 bytes, IPv6 as 16, text only when
// the binary form would not print back exactly as written) and the Pod name
// (targetRef.name, for --dump-endpoints). A typical endpoint ("10.12.3.4",
// a 25-character Pod name) takes 33 bytes, one 48-byte malloc block; as
// strings and optionals it took a 64-byte block plus 8 bytes more in the
// slice, at 100,000 endpoints 2.4 MB. Immutable once built; copies
// duplicate the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::agent::k8s {

class PackedEndpoint {
public:
    PackedEndpoint() = default;  // conditions unknown, no address, no Pod
    // At most 255 addresses; a Pod name or text address longer than 255
    // bytes is cut (Kubernetes names are at most 253, addresses far shorter).
    PackedEndpoint(std::optional<bool> ready, std::optional<bool> serving, std::optional<bool> terminating,
                   std::string_view target_ref_name, const std::vector<std::string>& addresses);
    PackedEndpoint(const PackedEndpoint& other);
    PackedEndpoint& operator=(const PackedEndpoint& other);
    PackedEndpoint(PackedEndpoint&&) noexcept = default;
    PackedEndpoint& operator=(PackedEndpoint&&) noexcept = default;

    std::optional<bool> ready() const { return condition(0); }
    std::optional<bool> serving() const { return condition(2); }
    std::optional<bool> terminating() const { return condition(4); }
    std::string_view target_ref_name() const;
    std::size_t address_count() const { return data_ ? data_[1] : 0; }
    // The i-th address as written ("" when i >= address_count()).
    std::string address(std::size_t i) const;
    // Calls f(std::string_view address) for every address, in order; the
    // view lives for the call only.
    template <class F>
    void for_each_address(F&& f) const {
        char text[kMaxText];
        std::size_t at = 2;
        for (std::size_t i = 0; i < address_count(); ++i) f(std::string_view(text, print_address(at, text)));
    }
    std::size_t block_size() const;  // bytes on the heap (malloc overhead not counted)
    bool operator==(const PackedEndpoint& other) const;

private:
    static constexpr std::size_t kMaxText = 256;
    std::optional<bool> condition(int shift) const;
    // Writes the address at `at` into `text` (kMaxText bytes), advances `at`, returns its length.
    std::size_t print_address(std::size_t& at, char* text) const;
    std::unique_ptr<std::uint8_t[]> data_;  // null = default; see packed_endpoint.cpp for the layout
};

}  // namespace xgress::agent::k8s

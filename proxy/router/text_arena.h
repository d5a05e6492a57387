// Append-only storage for the short texts of a routing table (route names
// and prefixes): views into a few 64 KiB chunks instead of one heap string
// per route. A 10,000-rule table held 20,000 such strings (10,000 names,
// 10,000 prefix copies), each its own allocation made on every swap and freed
// on the next (issue 5). Chunks never move, so views stay valid for the
// arena's life; the arena is not copyable.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace xgress::router {

class TextArena {
public:
    // `a` then `b`, stored back to back; the view of the whole.
    std::string_view add(std::string_view a, std::string_view b = {}) {
        const std::size_t n = a.size() + b.size();
        if (n == 0) return {};
        if (cap_ - used_ < n) {
            const std::size_t size = n > kChunk ? n : kChunk;
            chunks_.push_back(std::make_unique_for_overwrite<char[]>(size));
            used_ = 0;
            cap_ = size;
        }
        char* at = chunks_.back().get() + used_;
        if (!a.empty()) std::memcpy(at, a.data(), a.size());
        if (!b.empty()) std::memcpy(at + a.size(), b.data(), b.size());
        used_ += n;
        return std::string_view(at, n);
    }

private:
    static constexpr std::size_t kChunk = 64 * 1024;
    std::vector<std::unique_ptr<char[]>> chunks_;
    std::size_t used_ = 0, cap_ = 0;
};

}  // namespace xgress::router

// Regex paths (ingress-nginx use-regex): PCRE2 patterns compiled once when a
// routing table is built (JIT when the platform has it), matched
// case-insensitively and anchored at the start of the request path, like
// nginx's `location ~* ^pattern`. A compiled pattern is immutable and shared
// by the workers; the per-match scratch (MatchScratch) belongs to one worker
// and is allocated once, so matching allocates nothing.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace xgress::router {

// Offsets of $0..$9 in the matched path (begin == end == kUnset: group did not take part).
struct Captures {
    static constexpr std::uint32_t kUnset = UINT32_MAX;
    std::array<std::uint32_t, 20> ovector;  // valid below `count` only (not zeroed: per request)
    std::uint32_t count = 0;  // groups filled, including $0
    std::string_view group(std::string_view subject, unsigned i) const {
        if (i >= count || ovector[2 * i] == kUnset) return {};
        return subject.substr(ovector[2 * i], ovector[2 * i + 1] - ovector[2 * i]);
    }
};

// One worker's match data (10 groups) and JIT stack.
class MatchScratch {
public:
    MatchScratch();
    ~MatchScratch();
    MatchScratch(const MatchScratch&) = delete;
    MatchScratch& operator=(const MatchScratch&) = delete;
    pcre2_match_data* data() const { return data_; }

private:
    pcre2_match_data* data_ = nullptr;
};

class PathRegex {
public:
    // Errors carry PCRE2's message and offset.
    static std::expected<PathRegex, std::string> compile(std::string_view pattern);

    // True when the pattern matches at the start of `path`; fills `caps`.
    bool match(std::string_view path, MatchScratch& scratch, Captures* caps) const;
    std::uint32_t capture_count() const { return groups_; }

private:
    std::shared_ptr<pcre2_code> code_;
    std::uint32_t groups_ = 0;
};

}  // namespace xgress::router

#include "router/path_regex.h"

namespace xgress::router {

MatchScratch::MatchScratch() : data_(pcre2_match_data_create(10, nullptr)) {}
MatchScratch::~MatchScratch() { pcre2_match_data_free(data_); }

std::expected<PathRegex, std::string> PathRegex::compile(std::string_view pattern) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_CASELESS | PCRE2_ANCHORED | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err,
                                     &offset, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return std::unexpected("bad regex \"" + std::string(pattern) + "\" at offset " + std::to_string(offset) +
                               ": " + reinterpret_cast<const char*>(msg));
    }
    // JIT is an optimisation: a platform without it still matches (interpreted).
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    PathRegex r;
    r.code_ = std::shared_ptr<pcre2_code>(code, pcre2_code_free);
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &r.groups_);
    return r;
}

bool PathRegex::match(std::string_view path, MatchScratch& scratch, Captures* caps) const {
    const int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(path.data()), path.size(), 0, 0,
                               scratch.data(), nullptr);
    if (rc < 0) return false;
    if (caps) {
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.data());
        const std::uint32_t pairs = pcre2_get_ovector_count(scratch.data());
        caps->count = std::min<std::uint32_t>(pairs, 10);
        for (std::uint32_t i = 0; i < caps->count; ++i) {
            const bool set = ov[2 * i] != PCRE2_UNSET && i < static_cast<std::uint32_t>(rc ? rc : 10);
            caps->ovector[2 * i] = set ? static_cast<std::uint32_t>(ov[2 * i]) : Captures::kUnset;
            caps->ovector[2 * i + 1] = set ? static_cast<std::uint32_t>(ov[2 * i + 1]) : Captures::kUnset;
        }
    }
    return true;
}

}  // namespace xgress::router

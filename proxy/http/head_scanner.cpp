#include "http/head_scanner.h"

#include <array>

namespace xgress::http {

namespace {

constexpr std::array<bool, 256> make_token_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr auto kTokenTable = make_token_table();

// Field values: VCHAR, obs-text, SP and HTAB. Everything else (NUL, CR, LF,
// other controls, DEL) is refused.
bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

bool is_token_char(unsigned char c) { return kTokenTable[c]; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]);
        unsigned char y = static_cast<unsigned char>(b[i]);
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) return false;
    }
    return true;
}

bool list_contains_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = trim_ows(list.substr(0, comma));
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

ParseResult HeadScanner::scan(std::string_view buf, const Limits& limits, bool skip_leading_empty_lines) {
    const std::size_t n = buf.size();
    while (pos_ < n) {
        const char c = buf[pos_];
        if (c == '\r') {
            if (pos_ + 1 >= n) break;  // need the next byte to judge this CR
            if (buf[pos_ + 1] != '\n') return ParseResult::error(400, "bare CR");
            if (!started_) {
                if (pos_ == start_ && skip_leading_empty_lines && start_ < 8) {
                    pos_ += 2;
                    start_ = pos_;
                    continue;
                }
                started_ = true;
            }
            // A CRLF right after a CRLF ends the head.
            if (pos_ >= start_ + 2 && buf[pos_ - 1] == '\n' && buf[pos_ - 2] == '\r') {
                end_ = pos_ + 2;
                pos_ = end_;
                if (end_ - start_ > limits.max_head_bytes) return ParseResult::error(431, "head too large");
                return ParseResult::complete();
            }
            pos_ += 2;
            continue;
        }
        if (c == '\n') return ParseResult::error(400, "bare LF");
        started_ = true;
        ++pos_;
    }
    if (pos_ - start_ > limits.max_head_bytes) return ParseResult::error(431, "head too large");
    return ParseResult::incomplete();
}

ParseResult parse_header_fields(std::string_view lines, Header* headers, std::size_t& count,
                                const Limits& limits) {
    count = 0;
    while (!lines.empty()) {
        std::size_t eol = lines.find("\r\n");
        if (eol == std::string_view::npos) return ParseResult::error(400, "unterminated header line");
        std::string_view line = lines.substr(0, eol);
        lines.remove_prefix(eol + 2);
        if (line.empty()) break;  // the blank line that ends the head
        if (line.front() == ' ' || line.front() == '\t') return ParseResult::error(400, "obsolete line folding");
        std::size_t colon = 0;
        while (colon < line.size() && is_token_char(static_cast<unsigned char>(line[colon]))) ++colon;
        if (colon == 0 || colon >= line.size() || line[colon] != ':')
            return ParseResult::error(400, "bad header name");
        std::string_view value = line.substr(colon + 1);
        for (char v : value)
            if (!is_value_char(static_cast<unsigned char>(v))) return ParseResult::error(400, "bad header value");
        if (count >= limits.max_headers || count >= kMaxHeaders) return ParseResult::error(431, "too many headers");
        headers[count++] = Header{line.substr(0, colon), trim_ows(value)};
    }
    return ParseResult::complete();
}

}  // namespace xgress::http

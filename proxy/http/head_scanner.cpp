#include "http/head_scanner.h"

#include <array>
#include <cstdint>
#include <cstring>

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


std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Eight bytes at a time (SWAR): a head is mostly ordinary bytes between
// line ends, and looking at them one by one cost ~10 instructions a byte.
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

std::uint64_t load8(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;  // little-endian: byte i of the text is bits 8i..8i+7
}
// Marks bytes equal to zero; the lowest mark is exact (higher ones may not be).
std::uint64_t zero_bytes(std::uint64_t w) { return (w - kOnes) & ~w & kHighs; }

// The first CR or LF in [i, n), or n.
std::size_t next_line_break(const char* p, std::size_t i, std::size_t n) {
    for (; i + 8 <= n; i += 8) {
        const std::uint64_t w = load8(p + i);
        const std::uint64_t m = zero_bytes(w ^ (kOnes * '\r')) | zero_bytes(w ^ (kOnes * '\n'));
        if (m) return i + static_cast<std::size_t>(__builtin_ctzll(m) >> 3);
    }
    while (i < n && p[i] != '\r' && p[i] != '\n') ++i;
    return i;
}

// Field values: VCHAR, obs-text, SP and HTAB; everything else (NUL, CR, LF,
// other controls, DEL) is refused. The first byte in [i, n) that is a control character (< 0x20, incl. HTAB,
// CR, LF) or DEL, or n.
std::size_t next_control(const char* p, std::size_t i, std::size_t n) {
    for (; i + 8 <= n; i += 8) {
        const std::uint64_t w = load8(p + i);
        const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;  // exact for the lowest mark
        const std::uint64_t m = below_space | zero_bytes(w ^ (kOnes * 0x7f));
        if (m) return i + static_cast<std::size_t>(__builtin_ctzll(m) >> 3);
    }
    while (i < n && static_cast<unsigned char>(p[i]) >= 0x20 && p[i] != 0x7f) ++i;
    return i;
}

// `name` equals the lower-case literal `lit` ([a-z-] only) in any case.
// (c | 0x20) maps only 'A'-'Z' onto letters and only CR onto '-', and a
// header name (a token) holds no CR.
bool name_is(std::string_view name, std::string_view lit) {
    if (name.size() != lit.size()) return false;
    for (std::size_t i = 0; i < lit.size(); ++i)
        if ((static_cast<unsigned char>(name[i]) | 0x20) != static_cast<unsigned char>(lit[i])) return false;
    return true;
}

}  // namespace

HeaderId header_id(std::string_view n) {
    if (n.empty()) return HeaderId::Other;
    const char first = static_cast<char>(n[0] | 0x20);
    switch (n.size()) {
        case 2: return name_is(n, "te") ? HeaderId::Te : HeaderId::Other;
        case 4: return name_is(n, "host") ? HeaderId::Host : HeaderId::Other;
        case 7:
            if (first == 'u') return name_is(n, "upgrade") ? HeaderId::Upgrade : HeaderId::Other;
            return first == 't' && name_is(n, "trailer") ? HeaderId::Trailer : HeaderId::Other;
        case 9: return first == 'x' && name_is(n, "x-real-ip") ? HeaderId::XRealIp : HeaderId::Other;
        case 10:
            if (first == 'c') return name_is(n, "connection") ? HeaderId::Connection : HeaderId::Other;
            return first == 'k' && name_is(n, "keep-alive") ? HeaderId::KeepAlive : HeaderId::Other;
        case 12: return first == 'x' && name_is(n, "x-request-id") ? HeaderId::XRequestId : HeaderId::Other;
        case 14: return first == 'c' && name_is(n, "content-length") ? HeaderId::ContentLength : HeaderId::Other;
        case 15: return first == 'x' && name_is(n, "x-forwarded-for") ? HeaderId::XForwardedFor : HeaderId::Other;
        case 16:
            if (first == 'p') return name_is(n, "proxy-connection") ? HeaderId::ProxyConnection : HeaderId::Other;
            if (first != 'x') return HeaderId::Other;
            if (name_is(n, "x-forwarded-host")) return HeaderId::XForwardedHost;
            return name_is(n, "x-forwarded-port") ? HeaderId::XForwardedPort : HeaderId::Other;
        case 17:
            if (first == 't') return name_is(n, "transfer-encoding") ? HeaderId::TransferEncoding : HeaderId::Other;
            return first == 'x' && name_is(n, "x-forwarded-proto") ? HeaderId::XForwardedProto : HeaderId::Other;
        default: return HeaderId::Other;
    }
}

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
        pos_ = next_line_break(buf.data(), pos_ + 1, n);
    }
    if (pos_ - start_ > limits.max_head_bytes) return ParseResult::error(431, "head too large");
    return ParseResult::incomplete();
}

ParseResult parse_header_fields(std::string_view lines, Header* headers, std::size_t& count,
                                const Limits& limits) {
    count = 0;
    const char* p = lines.data();
    const std::size_t n = lines.size();
    std::size_t i = 0;
    // Errors as a line-at-a-time reading reports them: a line without its
    // CRLF is "unterminated" whatever else is wrong with it.
    auto fail = [&](int status, std::string_view why) {
        if (lines.find("\r\n", i) == std::string_view::npos) return ParseResult::error(400, "unterminated header line");
        return ParseResult::error(status, why);
    };
    while (i < n) {
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') break;  // the blank line that ends the head
        if (p[i] == ' ' || p[i] == '\t') return fail(400, "obsolete line folding");
        std::size_t colon = i;
        while (colon < n && is_token_char(static_cast<unsigned char>(p[colon]))) ++colon;
        if (colon == i || colon >= n || p[colon] != ':') return fail(400, "bad header name");
        // The value runs to the first control character, which must be the
        // CR of CRLF (HTAB is allowed inside).
        std::size_t end = colon + 1;
        for (;;) {
            end = next_control(p, end, n);
            if (end < n && p[end] == '\t') {
                ++end;
                continue;
            }
            break;
        }
        if (end >= n) return ParseResult::error(400, "unterminated header line");
        if (p[end] != '\r' || end + 1 >= n || p[end + 1] != '\n') return fail(400, "bad header value");
        if (count >= limits.max_headers || count >= kMaxHeaders) return ParseResult::error(431, "too many headers");
        const std::string_view name(p + i, colon - i);
        const std::string_view value = trim_ows(std::string_view(p + colon + 1, end - colon - 1));
        const std::size_t line = static_cast<std::size_t>(value.data() + value.size() - name.data());
        headers[count++] = Header{name, value, header_id(name), static_cast<std::uint16_t>(line <= UINT16_MAX ? line : 0)};
        i = end + 2;
    }
    return ParseResult::complete();
}

}  // namespace xgress::http

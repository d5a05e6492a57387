// A fast path for the dotted-quad IPv4 literals that fill a snapshot's
// endpoints: inet_pton(3) needs a NUL-terminated copy and was ~300
// instructions per call, twice per endpoint of a 10,000-rule swap (the
// codec's check and the route table's sockaddr). Accepts only the plain form
// "a.b.c.d" (1-3 digits per part, no leading zero, each <= 255), a subset of
// what inet_pton(AF_INET) accepts, so callers fall back to inet_pton when it
// says no and every address keeps the meaning it had.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace xgress {

// True and `out` (network byte order) set when `text` is a plain dotted quad.
inline bool parse_ipv4_literal(std::string_view text, in_addr& out) {
    unsigned char bytes[4];
    std::size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= text.size() || text[i] != '.') return false;
            ++i;
        }
        const std::size_t start = i;
        unsigned value = 0;
        while (i < text.size() && i - start < 3 && text[i] >= '0' && text[i] <= '9')
            value = value * 10 + static_cast<unsigned>(text[i++] - '0');
        const std::size_t digits = i - start;
        if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
        bytes[part] = static_cast<unsigned char>(value);
    }
    if (i != text.size()) return false;
    std::memcpy(&out, bytes, 4);
    return true;
}

}  // namespace xgress

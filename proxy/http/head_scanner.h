// Finds the end of an HTTP/1.x head ("\r\n\r\n") in a buffer that grows as
// bytes arrive, remembering how far it has looked so each byte is examined
// once even when a head arrives one byte at a time. It also rejects bare CR
// and bare LF early: line endings that two parsers might read differently are
// the root of request smuggling.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/message.h"

namespace xgress::http {

class HeadScanner {
public:
    // Looks for the end of the head in `buf` (which must start where the
    // previous calls' buffer started). On Complete, head_length() is the size
    // of the head including the blank line and skipped() the number of empty
    // lines before it (tolerated before a request line, RFC 9112 2.2).
    ParseResult scan(std::string_view buf, const Limits& limits, bool skip_leading_empty_lines);

    std::size_t head_length() const { return end_; }
    std::size_t skipped() const { return start_; }
    void reset() { *this = HeadScanner{}; }

private:
    std::size_t pos_ = 0;    // next byte to examine
    std::size_t start_ = 0;  // first byte of the head after skipped empty lines
    std::size_t end_ = 0;
    bool started_ = false;
};

// Splits header lines (each "name: value\r\n") of a validated head and fills
// `headers`. Returns the error to answer with on a malformed field.
ParseResult parse_header_fields(std::string_view lines, Header* headers, std::size_t& count,
                                const Limits& limits);

bool is_token_char(unsigned char c);

}  // namespace xgress::http

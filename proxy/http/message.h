// Shared vocabulary of the HTTP/1.1 codec: header views, framing kinds, parse
// results and limits. Everything here points into the caller's buffer (the
// parsers never copy), so a parsed head is valid only while that buffer is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace xgress::http {

enum class Version : std::uint8_t { Http10, Http11 };

// How the bytes after a head are delimited.
enum class BodyKind : std::uint8_t {
    None,           // no body (GET without CL, HEAD response, 204, 304, 1xx)
    ContentLength,  // exactly content_length bytes
    Chunked,        // chunked transfer coding, forwarded verbatim
    UntilClose,     // response only: body ends when the upstream closes
};

// The header names the proxy acts on, recognised once by the parser so the
// parsers and head writers switch on an id instead of comparing every name
// with every known name (that comparison was ~15 % of the instructions per
// proxied request).
enum class HeaderId : std::uint8_t {
    Other,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    Upgrade,
    KeepAlive,
    ProxyConnection,
    Te,
    Trailer,
    XForwardedFor,
    XForwardedProto,
    XForwardedHost,
    XForwardedPort,
    XRealIp,
    XRequestId,
};

// Recognises `name` (any case); Other for the rest.
HeaderId header_id(std::string_view name);

struct Header {
    std::string_view name;
    std::string_view value;  // without surrounding whitespace
    HeaderId id = HeaderId::Other;  // set by the parser; header_id(name) otherwise
    // Bytes from the start of `name` to the end of `value` in the parsed
    // buffer ("Name: value"), so a writer can copy the line in one go; 0
    // when the header was not parsed from one buffer.
    std::uint16_t line_length = 0;
};

inline constexpr std::size_t kMaxHeaders = 100;

struct Limits {
    std::size_t max_head_bytes = 16 * 1024;  // request line + headers
    std::size_t max_headers = kMaxHeaders;   // must be <= kMaxHeaders
};

enum class ParseStatus : std::uint8_t { Complete, Incomplete, Error };

struct ParseResult {
    ParseStatus status = ParseStatus::Incomplete;
    int http_status = 0;          // on Error: the status to answer with (400, 431, 501, 505)
    std::string_view reason;      // on Error: why, for logs and tests

    static ParseResult complete() { return {ParseStatus::Complete, 0, {}}; }
    static ParseResult incomplete() { return {ParseStatus::Incomplete, 0, {}}; }
    static ParseResult error(int status, std::string_view why) { return {ParseStatus::Error, status, why}; }
};

// ASCII case-insensitive comparison; header names are ASCII tokens.
bool iequals(std::string_view a, std::string_view b);

// True when `list` (a comma-separated header value) contains `token`.
bool list_contains_token(std::string_view list, std::string_view token);

}  // namespace xgress::http

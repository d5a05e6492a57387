// Incremental, zero-copy HTTP/1.1 request-head parser.
//
// Feed it the connection's input buffer each time more bytes arrive (the
// buffer must keep starting at the same request); it answers Incomplete until
// the whole head is there, then fills a RequestHead whose views point into
// that buffer. It decides the body framing and keep-alive, and refuses
// anything ambiguous (CL+TE, differing Content-Length, bare CR/LF, bad
// tokens, missing Host on 1.1) with the status the proxy should answer and
// then close on.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message.h"

namespace xgress::http {

struct RequestHead {
    std::string_view method;
    std::string_view target;      // as sent
    std::string_view path;        // target without query; for absolute-form, the path part
    std::string_view host;        // Host header, or authority of an absolute-form target
    Version version = Version::Http11;
    bool keep_alive = true;
    bool is_head = false;         // method HEAD: the response carries no body
    BodyKind body = BodyKind::None;
    std::uint64_t content_length = 0;
    std::string_view connection;  // raw Connection header value (names more hop-by-hop headers)
    // Upgrade header value when the request asks to switch protocols (an
    // HTTP/1.1 GET without a body whose Connection lists "upgrade"); else empty.
    std::string_view upgrade;
    std::size_t head_length = 0;  // bytes of the head, including skipped leading empty lines
    std::size_t header_count = 0;
    std::array<Header, kMaxHeaders> headers;
};

class RequestParser {
public:
    explicit RequestParser(Limits limits = {}) : limits_(limits) {}

    ParseResult parse(std::string_view buf, RequestHead& head);
    // Ready for the next request; call after consuming head_length bytes.
    void reset() { scanner_.reset(); }

private:
    Limits limits_;
    HeadScanner scanner_;
};

// Parses a Content-Length value: digits only, no sign, no overflow.
bool parse_content_length(std::string_view value, std::uint64_t& out);

}  // namespace xgress::http

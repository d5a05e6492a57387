// Parser for upstream response heads. The proxy needs three answers from it:
// where the body ends (Content-Length, chunked, or at close; none for HEAD,
// 1xx, 204 and 304), whether the upstream connection may be reused, and the
// headers to forward. Views point into the caller's buffer.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "http/head_scanner.h"
#include "http/message.h"

namespace xgress::http {

struct ResponseHead {
    Version version = Version::Http11;
    int status = 0;
    std::string_view status_line;  // "HTTP/1.1 200 OK", without CRLF
    bool keep_alive = true;         // upstream connection reusable after this response
    BodyKind body = BodyKind::None;
    std::uint64_t content_length = 0;
    std::string_view connection;
    std::size_t head_length = 0;
    std::size_t header_count = 0;
    std::array<Header, kMaxHeaders> headers;
};

class ResponseParser {
public:
    explicit ResponseParser(Limits limits = {}) : limits_(limits) {}

    // `request_was_head`: the request was HEAD, so no body follows whatever
    // the headers say.
    ParseResult parse(std::string_view buf, bool request_was_head, ResponseHead& head);
    void reset() { scanner_.reset(); }

private:
    Limits limits_;
    HeadScanner scanner_;
};

}  // namespace xgress::http

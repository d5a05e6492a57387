#include "http/response_parser.h"

#include "http/request_parser.h"

namespace xgress::http {

ParseResult ResponseParser::parse(std::string_view buf, bool request_was_head, ResponseHead& head) {
    ParseResult scanned = scanner_.scan(buf, limits_, /*skip_leading_empty_lines=*/false);
    if (scanned.status != ParseStatus::Complete) return scanned;
    std::string_view text = buf.substr(0, scanner_.head_length());
    head.head_length = scanner_.head_length();

    // Status line: HTTP-version SP 3DIGIT SP reason
    std::size_t eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    head.status_line = line;
    if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
        return ParseResult::error(502, "bad status line");
    std::string_view version = line.substr(0, 8);
    if (version == "HTTP/1.1") head.version = Version::Http11;
    else if (version == "HTTP/1.0") head.version = Version::Http10;
    else return ParseResult::error(502, "bad response version");
    int status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return ParseResult::error(502, "bad status code");
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100) return ParseResult::error(502, "bad status code");
    head.status = status;

    ParseResult fields = parse_header_fields(text.substr(eol + 2), head.headers.data(), head.header_count, limits_);
    if (fields.status != ParseStatus::Complete) return ParseResult::error(502, fields.reason);

    bool have_cl = false, have_te = false;
    std::string_view te;
    head.connection = {};
    head.content_length = 0;
    for (std::size_t i = 0; i < head.header_count; ++i) {
        const Header& h = head.headers[i];
        if (h.id == HeaderId::ContentLength) {
            std::uint64_t v = 0;
            if (!parse_content_length(h.value, v)) return ParseResult::error(502, "bad Content-Length");
            if (have_cl && v != head.content_length) return ParseResult::error(502, "differing Content-Length");
            have_cl = true;
            head.content_length = v;
        } else if (h.id == HeaderId::TransferEncoding) {
            if (have_te) return ParseResult::error(502, "duplicate Transfer-Encoding");
            have_te = true;
            te = h.value;
        } else if (h.id == HeaderId::Connection) {
            head.connection = h.value;
        }
    }

    if (head.version == Version::Http11)
        head.keep_alive = !list_contains_token(head.connection, "close");
    else
        head.keep_alive = list_contains_token(head.connection, "keep-alive");

    if (request_was_head || status < 200 || status == 204 || status == 304) {
        head.body = BodyKind::None;
    } else if (have_te) {
        // A final coding other than chunked means the body runs until close.
        std::size_t comma = te.rfind(',');
        std::string_view last = comma == std::string_view::npos ? te : te.substr(comma + 1);
        while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
        if (iequals(last, "chunked") && te.find(',') == std::string_view::npos) {
            head.body = BodyKind::Chunked;
        } else {
            head.body = BodyKind::UntilClose;
            head.keep_alive = false;
        }
    } else if (have_cl) {
        head.body = head.content_length == 0 ? BodyKind::None : BodyKind::ContentLength;
    } else {
        head.body = BodyKind::UntilClose;
        head.keep_alive = false;
    }
    return ParseResult::complete();
}

}  // namespace xgress::http

#include "http/request_parser.h"

namespace xgress::http {

bool parse_content_length(std::string_view value, std::uint64_t& out) {
    if (value.empty() || value.size() > 18) return false;  // 18 digits cannot overflow 64 bits
    std::uint64_t v = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

namespace {

bool is_target_char(unsigned char c) { return c > 0x20 && c < 0x7f; }

// Splits an absolute-form target ("http://host:port/path?q") into authority and path.
bool split_absolute(std::string_view target, std::string_view& authority, std::string_view& path) {
    std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view scheme = target.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
    std::string_view rest = target.substr(scheme_end + 3);
    std::size_t slash = rest.find_first_of("/?");
    authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    return !authority.empty();
}

}  // namespace

ParseResult RequestParser::parse(std::string_view buf, RequestHead& head) {
    ParseResult scanned = scanner_.scan(buf, limits_, /*skip_leading_empty_lines=*/true);
    if (scanned.status != ParseStatus::Complete) return scanned;

    std::string_view text = buf.substr(scanner_.skipped(), scanner_.head_length() - scanner_.skipped());
    head.head_length = scanner_.head_length();

    // Request line: method SP target SP HTTP-version CRLF
    std::size_t eol = text.find("\r\n");
    std::string_view line = text.substr(0, eol);
    std::size_t sp1 = line.find(' ');
    if (sp1 == 0 || sp1 == std::string_view::npos) return ParseResult::error(400, "bad request line");
    head.method = line.substr(0, sp1);
    for (char c : head.method)
        if (!is_token_char(static_cast<unsigned char>(c))) return ParseResult::error(400, "bad method");
    std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return ParseResult::error(400, "bad request line");
    head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (char c : head.target)
        if (!is_target_char(static_cast<unsigned char>(c))) return ParseResult::error(400, "bad request target");
    std::string_view version = line.substr(sp2 + 1);
    if (version == "HTTP/1.1") {
        head.version = Version::Http11;
    } else if (version == "HTTP/1.0") {
        head.version = Version::Http10;
    } else if (version.size() == 8 && version.starts_with("HTTP/") && version[5] >= '0' && version[5] <= '9' &&
               version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
        return ParseResult::error(505, "unsupported HTTP version");
    } else {
        return ParseResult::error(400, "bad HTTP version");
    }
    head.is_head = head.method == "HEAD";

    ParseResult fields = parse_header_fields(text.substr(eol + 2), head.headers.data(), head.header_count, limits_);
    if (fields.status != ParseStatus::Complete) return fields;

    // Framing and connection semantics.
    bool have_host = false, have_cl = false, have_te = false;
    head.host = {};
    head.connection = {};
    head.upgrade = {};
    head.content_length = 0;
    std::string_view te, upgrade;
    for (std::size_t i = 0; i < head.header_count; ++i) {
        const Header& h = head.headers[i];
        switch (h.id) {
            case HeaderId::Host:
                if (have_host) return ParseResult::error(400, "duplicate Host");
                have_host = true;
                head.host = h.value;
                break;
            case HeaderId::ContentLength: {
                std::uint64_t v = 0;
                if (!parse_content_length(h.value, v)) return ParseResult::error(400, "bad Content-Length");
                if (have_cl && v != head.content_length) return ParseResult::error(400, "differing Content-Length");
                have_cl = true;
                head.content_length = v;
                break;
            }
            case HeaderId::TransferEncoding:
                if (have_te) return ParseResult::error(400, "duplicate Transfer-Encoding");
                have_te = true;
                te = h.value;
                break;
            case HeaderId::Connection:
                if (!head.connection.empty()) return ParseResult::error(400, "duplicate Connection");
                head.connection = h.value;
                break;
            case HeaderId::Upgrade:
                upgrade = h.value;
                break;
            default:
                break;
        }
    }
    for (char c : head.host)
        if (!(is_token_char(static_cast<unsigned char>(c)) || c == ':' || c == '[' || c == ']'))
            return ParseResult::error(400, "bad Host");
    if (head.version == Version::Http11 && !have_host) return ParseResult::error(400, "missing Host");

    if (have_te && have_cl) return ParseResult::error(400, "both Content-Length and Transfer-Encoding");
    if (have_te) {
        if (head.version == Version::Http10) return ParseResult::error(400, "Transfer-Encoding on HTTP/1.0");
        if (!iequals(te, "chunked")) return ParseResult::error(501, "unsupported Transfer-Encoding");
        head.body = BodyKind::Chunked;
    } else if (have_cl && head.content_length > 0) {
        head.body = BodyKind::ContentLength;
    } else {
        head.body = BodyKind::None;
    }

    if (head.version == Version::Http11)
        head.keep_alive = !list_contains_token(head.connection, "close");
    else
        head.keep_alive = list_contains_token(head.connection, "keep-alive");

    // Only a bodiless 1.1 GET may switch protocols (RFC 9110 7.8; WebSocket is
    // a GET): anything else is forwarded with Upgrade stripped as hop-by-hop.
    if (!upgrade.empty() && head.version == Version::Http11 && head.method == "GET" &&
        head.body == BodyKind::None && list_contains_token(head.connection, "upgrade"))
        head.upgrade = upgrade;

    // Path for routing: origin-form, or absolute-form (whose authority wins over Host).
    std::string_view path = head.target;
    if (path.front() != '/') {
        std::string_view authority;
        if (!split_absolute(head.target, authority, path)) {
            if (head.target == "*" && head.method == "OPTIONS") {
                path = "*";
            } else {
                return ParseResult::error(400, "bad request target");
            }
        } else {
            head.host = authority;
        }
    }
    head.path = path.substr(0, path.find('?'));
    return ParseResult::complete();
}

}  // namespace xgress::http

#include "http/head_writer.h"

#include <charconv>

namespace xgress::http {

namespace {

// Parsed headers carry their id; hand-built ones (tests, tools) are looked up.
HeaderId id_of(const Header& h) { return h.line_length ? h.id : header_id(h.name); }

bool is_hop_by_hop(HeaderId id) {
    return id == HeaderId::Connection || id == HeaderId::KeepAlive || id == HeaderId::ProxyConnection ||
           id == HeaderId::Te || id == HeaderId::Trailer || id == HeaderId::Upgrade;
}

// Framing headers are never dropped because Connection names them: doing so
// would change where the message ends.
bool is_framing(HeaderId id) {
    return id == HeaderId::ContentLength || id == HeaderId::TransferEncoding || id == HeaderId::Host;
}

// Whether a Connection value names anything besides hop-by-hop headers
// (keep-alive, upgrade, te, ...), which are dropped anyway. Usually not
// ("keep-alive"), and then no header needs looking up in it. "close" counts
// as other: a header named Close would be dropped.
bool names_other_headers(std::string_view connection) {
    while (!connection.empty()) {
        std::size_t comma = connection.find(',');
        std::string_view item = connection.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty() && !is_hop_by_hop(header_id(item))) return true;
        if (comma == std::string_view::npos) break;
        connection.remove_prefix(comma + 1);
    }
    return false;
}

// `connection`: the message's Connection value when it names other headers, else empty.
bool dropped(const Header& h, HeaderId id, std::string_view connection) {
    if (is_hop_by_hop(id)) return true;
    return !connection.empty() && !is_framing(id) && list_contains_token(connection, h.name);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

// A parsed header is copied as it arrived ("Name: value"), in one piece.
void append_header(std::string& out, const Header& h) {
    if (h.line_length) {
        out.append(h.name.data(), h.line_length);
        out.append("\r\n", 2);
    } else {
        append_header(out, h.name, h.value);
    }
}

}  // namespace

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

void write_request_head(std::string& out, const RequestHead& req, const ForwardingInfo& info) {
    const bool http10 = req.version == Version::Http10;
    out.append(req.method);
    out.push_back(' ');
    out.append(info.target.empty() ? req.target : info.target);
    out.append(http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    bool has_host_header = false, has_request_id = false;
    std::string_view xff[8];  // the client's X-Forwarded-For copies, in order (more are dropped)
    std::size_t xff_count = 0;
    const std::string_view connection = names_other_headers(req.connection) ? req.connection : std::string_view();
    for (std::size_t i = 0; i < req.header_count; ++i) {
        const Header& h = req.headers[i];
        const HeaderId id = id_of(h);
        if (dropped(h, id, connection)) continue;
        switch (id) {
            case HeaderId::XForwardedFor:
                if (xff_count < std::size(xff) && !h.value.empty()) xff[xff_count++] = h.value;
                continue;
            case HeaderId::XForwardedProto:
            case HeaderId::XForwardedHost:
            case HeaderId::XForwardedPort:
            case HeaderId::XRealIp:
                continue;
            case HeaderId::XRequestId:
                has_request_id = true;
                break;
            case HeaderId::Host:
                has_host_header = true;
                break;
            default:
                break;
        }
        append_header(out, h);
    }
    if (!has_host_header) append_header(out, "Host", req.host.empty() ? info.fallback_host : req.host);
    out.append("X-Forwarded-For: ");
    for (std::size_t i = 0; i < xff_count; ++i) {
        out.append(xff[i]);
        out.append(", ");
    }
    out.append(info.client_ip);
    out.append("\r\n");
    append_header(out, "X-Real-IP", info.client_ip);
    append_header(out, "X-Forwarded-Proto", info.proto);
    if (!req.host.empty()) append_header(out, "X-Forwarded-Host", req.host);
    if (!info.port.empty()) append_header(out, "X-Forwarded-Port", info.port);
    if (!has_request_id && !info.request_id.empty()) append_header(out, "X-Request-ID", info.request_id);
    if (!req.upgrade.empty()) {
        append_header(out, "Upgrade", req.upgrade);
        out.append("Connection: upgrade\r\n");
    }
    if (http10) out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void write_upgrade_response_head(std::string& out, const ResponseHead& resp) {
    out.append("HTTP/1.1");
    out.append(resp.status_line.substr(8));
    out.append("\r\n");
    const std::string_view connection = names_other_headers(resp.connection) ? resp.connection : std::string_view();
    for (std::size_t i = 0; i < resp.header_count; ++i) {
        const Header& h = resp.headers[i];
        const HeaderId id = id_of(h);
        if (id != HeaderId::Upgrade && dropped(h, id, connection)) continue;
        append_header(out, h);
    }
    out.append("Connection: upgrade\r\n\r\n");
}

void write_response_head(std::string& out, const ResponseHead& resp, Version client_version, bool client_keep_alive,
                         std::string_view extra_headers) {
    out.append("HTTP/1.1");
    out.append(resp.status_line.substr(8));
    out.append("\r\n");
    const std::string_view connection = names_other_headers(resp.connection) ? resp.connection : std::string_view();
    for (std::size_t i = 0; i < resp.header_count; ++i) {
        const Header& h = resp.headers[i];
        if (dropped(h, id_of(h), connection)) continue;
        append_header(out, h);
    }
    out.append(extra_headers);
    if (!client_keep_alive) out.append("Connection: close\r\n");
    else if (client_version == Version::Http10) out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void write_local_response(std::string& out, int status, bool keep_alive, std::string_view extra_headers) {
    std::string_view reason = reason_phrase(status);
    char num[8];
    auto [end, _] = std::to_chars(num, num + sizeof num, status);
    std::string_view code(num, static_cast<std::size_t>(end - num));
    char len[24];
    auto [lend, _2] = std::to_chars(len, len + sizeof len, reason.size() + 1);
    out.append("HTTP/1.1 ");
    out.append(code);
    out.push_back(' ');
    out.append(reason);
    out.append("\r\nServer: xgress\r\nContent-Type: text/plain\r\nContent-Length: ");
    out.append(len, static_cast<std::size_t>(lend - len));
    out.append("\r\n");
    out.append(extra_headers);
    out.append(keep_alive ? "\r\n" : "Connection: close\r\n\r\n");
    out.append(reason);
    out.push_back('\n');
}

}  // namespace xgress::http

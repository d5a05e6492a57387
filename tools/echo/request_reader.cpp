#include "request_reader.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

namespace xgress::echo {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// True when the comma-separated list `value` holds `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (lower(trim(value.substr(0, comma))) == token) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

bool is_token_char(unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::expected<Request, ReadError> parse_head(std::string_view head) {
    Request req;
    const auto line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == sp2 || sp1 == 0) return std::unexpected(ReadError::Malformed);
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    req.version = std::string(line.substr(sp2 + 1));
    if (!std::ranges::all_of(req.method, [](unsigned char c) { return is_token_char(c); }) ||
        req.target.empty() || req.target.find(' ') != std::string::npos ||
        (req.version != "HTTP/1.1" && req.version != "HTTP/1.0"))
        return std::unexpected(ReadError::Malformed);

    std::string_view rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
    while (!rest.empty()) {
        const auto end = rest.find("\r\n");
        const std::string_view field = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
        const auto colon = field.find(':');
        if (colon == std::string_view::npos || colon == 0) return std::unexpected(ReadError::Malformed);
        const std::string_view name = field.substr(0, colon);
        // No whitespace between name and colon (RFC 9112 5.1): a smuggling vector elsewhere.
        if (!std::ranges::all_of(name, [](unsigned char c) { return is_token_char(c); }))
            return std::unexpected(ReadError::Malformed);
        req.headers.emplace_back(lower(name), std::string(trim(field.substr(colon + 1))));
    }
    return req;
}

}  // namespace

std::string Request::header(std::string_view lower_name) const {
    std::string joined;
    for (const auto& [name, value] : headers) {
        if (name != lower_name) continue;
        if (!joined.empty()) joined += ", ";
        joined += value;
    }
    return joined;
}

bool Request::keep_alive() const {
    const std::string connection = header("connection");
    if (version == "HTTP/1.0") return has_token(connection, "keep-alive");
    return !has_token(connection, "close");
}

bool RequestReader::fill() {
    char chunk[16 * 1024];
    for (;;) {
        const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buf_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
}

void RequestReader::compact() {
    buf_.erase(0, pos_);
    pos_ = 0;
}

std::expected<std::string, ReadError> RequestReader::read_line() {
    for (;;) {
        const auto end = buf_.find("\r\n", pos_);
        if (end != std::string::npos) {
            std::string line = buf_.substr(pos_, end - pos_);
            pos_ = end + 2;
            return line;
        }
        if (buf_.size() - pos_ > kMaxHead) return std::unexpected(ReadError::TooLarge);
        if (!fill()) return std::unexpected(ReadError::Io);
    }
}

std::expected<void, ReadError> RequestReader::skip(std::size_t bytes) {
    for (;;) {
        const std::size_t available = std::min(bytes, buf_.size() - pos_);
        pos_ += available;
        bytes -= available;
        skipped_ += available;
        compact();
        if (bytes == 0) return {};
        if (!fill()) return std::unexpected(ReadError::Io);
    }
}

std::expected<void, ReadError> RequestReader::skip_chunked_body() {
    for (;;) {
        auto line = read_line();
        if (!line) return std::unexpected(line.error());
        const std::string_view size_text = trim(std::string_view(*line).substr(0, line->find(';')));
        std::size_t size = 0;
        const auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (size_text.empty() || ec != std::errc{} || end != size_text.data() + size_text.size())
            return std::unexpected(ReadError::Malformed);
        if (size == 0) break;
        if (auto skipped = skip(size); !skipped) return skipped;
        auto crlf = read_line();
        if (!crlf) return std::unexpected(crlf.error());
        if (!crlf->empty()) return std::unexpected(ReadError::Malformed);
    }
    for (;;) {  // trailer fields, up to the empty line
        auto trailer = read_line();
        if (!trailer) return std::unexpected(trailer.error());
        if (trailer->empty()) return {};
    }
}

std::expected<Request, ReadError> RequestReader::next() {
    compact();
    std::size_t head_end;
    for (;;) {
        // Tolerate empty lines before a request line (RFC 9112 2.2).
        while (buf_.compare(pos_, 2, "\r\n") == 0) pos_ += 2;
        head_end = buf_.find("\r\n\r\n", pos_);
        if (head_end != std::string::npos) break;
        if (buf_.size() - pos_ > kMaxHead) return std::unexpected(ReadError::TooLarge);
        const bool idle = buf_.size() == pos_;
        if (!fill()) return std::unexpected(idle ? ReadError::Closed : ReadError::Io);
    }
    if (head_end - pos_ > kMaxHead) return std::unexpected(ReadError::TooLarge);
    auto req = parse_head(std::string_view(buf_).substr(pos_, head_end - pos_));
    pos_ = head_end + 4;
    if (!req) return req;
    if (const std::string delay = req->header("x-echo-delay-ms"); !delay.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(std::strtoul(delay.c_str(), nullptr, 10)));
    skipped_ = 0;

    const std::string transfer_encoding = req->header("transfer-encoding");
    const std::string content_length = req->header("content-length");
    if (!transfer_encoding.empty()) {
        if (!content_length.empty() || !has_token(transfer_encoding, "chunked"))
            return std::unexpected(ReadError::Malformed);
        if (auto body = skip_chunked_body(); !body) return std::unexpected(body.error());
    } else if (!content_length.empty()) {
        std::size_t length = 0;
        const auto [end, ec] =
            std::from_chars(content_length.data(), content_length.data() + content_length.size(), length);
        if (ec != std::errc{} || end != content_length.data() + content_length.size())
            return std::unexpected(ReadError::Malformed);
        if (auto body = skip(length); !body) return std::unexpected(body.error());
    }
    req->body_bytes = skipped_;
    return req;
}

}  // namespace xgress::echo

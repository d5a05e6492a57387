// Reads HTTP/1.x requests one after another from a connected socket (blocking).
// Request bodies (Content-Length or chunked) are read and thrown away: the echo
// reports what it saw in the head, and the connection stays usable for keep-alive.
// Test hook: `X-Echo-Delay-Ms: N` makes next() sleep N ms after the head, before
// reading the body (a slow upstream: for read timeouts and upload backpressure).
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace xgress::echo {

struct Request {
    std::string method;
    std::string target;   // as received, query included
    std::string version;  // "HTTP/1.1" or "HTTP/1.0"
    // Header names lower-cased (they are case-insensitive); values trimmed; in order.
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t body_bytes = 0;  // request body bytes read (and discarded)

    // The value of a header, repeated fields joined with ", "; empty if absent.
    std::string header(std::string_view lower_name) const;
    bool keep_alive() const;
};

enum class ReadError {
    Closed,      // peer closed (or timed out) between requests: not an error to report
    Malformed,   // answer 400 and close
    TooLarge,    // head over the limit: answer 431 and close
    Io,          // socket error or EOF mid-request: just close
};

class RequestReader {
public:
    explicit RequestReader(int fd) : fd_(fd) {}
    std::expected<Request, ReadError> next();

private:
    static constexpr std::size_t kMaxHead = 64 * 1024;

    bool fill();  // false on EOF, error or timeout
    std::expected<std::string, ReadError> read_line();
    std::expected<void, ReadError> skip(std::size_t bytes);
    std::expected<void, ReadError> skip_chunked_body();
    void compact();

    int fd_;
    std::string buf_;
    std::size_t pos_ = 0;  // first unconsumed byte of buf_
    std::size_t skipped_ = 0;  // body bytes skipped for the current request
};

}  // namespace xgress::echo

// The optional access log (--access-log PATH): one JSON object per line and
// request, written without blocking the workers.
//
// Each worker formats its lines into a private buffer (AccessLogBuffer) and,
// once per event-loop batch, hands the batch to a shared slot under a short
// per-worker mutex (one lock per batch, not per request; the only other taker
// is the writer thread). One writer thread swaps the slots out every few
// milliseconds and write()s them. The slot is bounded: when the writer falls
// behind (slow disk), a batch that does not fit is dropped whole and its
// lines counted (xgress_proxy_access_log_dropped_total); workers never wait
// on the file.
//
// Everything taken from the request is JSON-escaped (append_json_string), so
// a header cannot forge a field or a line.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace xgress::log {

// Appends `s` as a JSON string (with quotes). Control characters, quote and
// backslash are escaped; bytes that are not valid UTF-8 become \u00XX, so
// the line is always valid JSON whatever the client sent.
void append_json_string(std::string& out, std::string_view s);

// The request half of a line, known when the request head is routed.
struct AccessRequest {
    std::int64_t unix_ms = 0;  // wall clock at the request start
    std::string_view client;
    std::string_view method;
    std::string_view host;
    std::string_view target;  // as received, query included
    std::string_view request_id;
    std::string_view route;  // "host path" of the matched route, "" = none
};
// Starts a line in `out` (cleared): {"time":...,"route":... without the closing brace.
void format_access_begin(std::string& out, const AccessRequest& r);
// Ends it: ,"status":N,"bytes":N,"upstream":"...","upstream_latency_ms":X}\n
// `upstream` "" and latency < 0 give null.
void format_access_end(std::string& out, int status, std::uint64_t bytes, std::string_view upstream,
                       std::int64_t upstream_latency_us);

// One worker's side. add() and publish() belong to the worker thread.
class AccessLogBuffer {
public:
    static constexpr std::size_t kMaxPendingBytes = 4 << 20;  // per worker, waiting for the writer

    void add(std::string_view line) {
        local_.append(line);
        ++local_lines_;
    }
    // Hands the batch to the writer, or drops it (counted) when the slot is full.
    void publish();
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    std::uint64_t written_lines() const { return lines_.load(std::memory_order_relaxed); }

private:
    friend class AccessLog;
    std::string local_;
    std::uint64_t local_lines_ = 0;
    std::mutex mutex_;
    std::string shared_;  // under mutex_
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> lines_{0};  // handed to the writer
};

class AccessLog {
public:
    // Opens (appends to) `path` and starts the writer thread.
    static std::expected<std::unique_ptr<AccessLog>, std::string> open(const std::string& path, unsigned workers);
    ~AccessLog();  // writes what is pending, then stops
    AccessLogBuffer& buffer(unsigned worker) { return *buffers_[worker]; }
    std::uint64_t dropped() const;
    std::uint64_t lines() const;
    // Writes everything published so far (tests; the destructor).
    void flush_now();

private:
    AccessLog() = default;
    void run(std::stop_token stop);
    int fd_ = -1;
    std::vector<std::unique_ptr<AccessLogBuffer>> buffers_;
    std::mutex write_mutex_;  // writer thread vs. flush_now()
    std::string scratch_;
    std::jthread writer_;
};

}  // namespace xgress::log

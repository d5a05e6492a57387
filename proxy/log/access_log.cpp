#include "log/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

namespace xgress::log {

namespace {

constexpr auto kWriterPeriod = std::chrono::milliseconds(20);

void append_u64(std::string& out, std::uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k) { return (b(k) & 0xc0) == 0x80; };
    if (c >= 0xc2 && c <= 0xdf) return left >= 2 && cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || !cont(1) || !cont(2)) return 0;
        if (c == 0xe0 && b(1) < 0xa0) return 0;  // overlong
        if (c == 0xed && b(1) >= 0xa0) return 0; // surrogate
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xf0 && b(1) < 0x90) return 0;
        if (c == 0xf4 && b(1) >= 0x90) return 0;
        return 4;
    }
    return 0;
}

// "2026-11-22T05:54:24" for the current second, cached per thread.
void append_time(std::string& out, std::int64_t unix_ms) {
    thread_local std::int64_t cached_second = -1;
    thread_local char cached[24];
    const std::int64_t second = unix_ms / 1000;
    if (second != cached_second) {
        const std::time_t t = static_cast<std::time_t>(second);
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_second = second;
    }
    out.append(cached);
    const auto ms = static_cast<unsigned>(unix_ms % 1000);
    out.push_back('.');
    out.push_back(static_cast<char>('0' + ms / 100));
    out.push_back(static_cast<char>('0' + ms / 10 % 10));
    out.push_back(static_cast<char>('0' + ms % 10));
    out.push_back('Z');
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        // Runs of plain printable ASCII (nearly everything) go in one append.
        std::size_t run = i;
        while (run < s.size()) {
            const auto c = static_cast<unsigned char>(s[run]);
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') break;
            ++run;
        }
        if (run != i) {
            out.append(s.data() + i, run - i);
            i = run;
            if (i == s.size()) break;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const std::size_t n = utf8_sequence(s, i)) {
                out.append(s.substr(i, n));
                i += n;
                continue;
            }
        }
        // Control characters, DEL and stray bytes: \u00XX (a stray byte
        // shows as the Latin-1 character of the same value).
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
        ++i;
    }
    out.push_back('"');
}

void format_access_begin(std::string& out, const AccessRequest& r) {
    out.clear();
    out.append("{\"time\":\"");
    append_time(out, r.unix_ms);
    out.append("\",\"client\":");
    append_json_string(out, r.client);
    out.append(",\"method\":");
    append_json_string(out, r.method);
    out.append(",\"host\":");
    append_json_string(out, r.host);
    out.append(",\"path\":");
    append_json_string(out, r.target);
    out.append(",\"request_id\":");
    append_json_string(out, r.request_id);
    out.append(",\"route\":");
    if (r.route.empty()) out.append("null");
    else append_json_string(out, r.route);
}

void format_access_end(std::string& out, int status, std::uint64_t bytes, std::string_view upstream,
                       std::int64_t upstream_latency_us) {
    out.append(",\"status\":");
    append_u64(out, static_cast<std::uint64_t>(status < 0 ? 0 : status));
    out.append(",\"bytes\":");
    append_u64(out, bytes);
    out.append(",\"upstream\":");
    if (upstream.empty()) out.append("null");
    else append_json_string(out, upstream);
    out.append(",\"upstream_latency_ms\":");
    if (upstream_latency_us < 0) {
        out.append("null");
    } else {
        // Milliseconds with microsecond digits, no floating point formatting.
        const auto us = static_cast<std::uint64_t>(upstream_latency_us);
        append_u64(out, us / 1000);
        char frac[4] = {'.', static_cast<char>('0' + us / 100 % 10), static_cast<char>('0' + us / 10 % 10),
                        static_cast<char>('0' + us % 10)};
        out.append(frac, 4);
    }
    out.append("}\n");
}

void AccessLogBuffer::publish() {
    if (local_lines_ == 0) return;
    bool kept = false;
    {
        std::lock_guard lock(mutex_);
        if (shared_.size() + local_.size() <= kMaxPendingBytes) {
            shared_.append(local_);
            kept = true;
        }
    }
    if (kept) lines_.fetch_add(local_lines_, std::memory_order_relaxed);
    else dropped_.fetch_add(local_lines_, std::memory_order_relaxed);
    local_.clear();
    local_lines_ = 0;
}

std::expected<std::unique_ptr<AccessLog>, std::string> AccessLog::open(const std::string& path, unsigned workers) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return std::unexpected("--access-log " + path + ": " + std::strerror(errno));
    std::unique_ptr<AccessLog> log(new AccessLog());
    log->fd_ = fd;
    for (unsigned i = 0; i < workers; ++i) log->buffers_.push_back(std::make_unique<AccessLogBuffer>());
    log->writer_ = std::jthread([raw = log.get()](std::stop_token stop) { raw->run(stop); });
    return log;
}

AccessLog::~AccessLog() {
    writer_.request_stop();
    if (writer_.joinable()) writer_.join();
    flush_now();
    if (fd_ >= 0) close(fd_);
}

void AccessLog::flush_now() {
    std::lock_guard write_lock(write_mutex_);
    for (auto& b : buffers_) {
        {
            std::lock_guard lock(b->mutex_);
            scratch_.swap(b->shared_);
        }
        std::string_view rest = scratch_;
        while (!rest.empty()) {
            const ssize_t n = ::write(fd_, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // disk full / error: the lines are lost, workers never wait
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
        scratch_.clear();
    }
}

void AccessLog::run(std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
        cv.wait_for(lock, stop, kWriterPeriod, [] { return false; });
        flush_now();
    }
}

std::uint64_t AccessLog::dropped() const {
    std::uint64_t n = 0;
    for (const auto& b : buffers_) n += b->dropped();
    return n;
}

std::uint64_t AccessLog::lines() const {
    std::uint64_t n = 0;
    for (const auto& b : buffers_) n += b->written_lines();
    return n;
}

}  // namespace xgress::log

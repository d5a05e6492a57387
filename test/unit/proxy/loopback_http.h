// Small blocking HTTP helpers for in-process proxy tests on loopback: a
// client connection with a message reader, and an echo backend that answers
// "<name>\n<request head>" so a test can see exactly what the proxy sent.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace xgress::testing {

inline int listen_loopback(int& port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd, 64);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

// Receives on `fd` give up after `seconds`: a test's peer that stops
// talking fails the test instead of hanging it.
inline void set_recv_timeout(int fd, int seconds = 5) {
    timeval tv{seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Receives on `fd` into `in` until it holds a whole message head; returns
// the offset of the blank line ("\r\n\r\n"), or npos when the peer closed
// or the receive timed out.
inline std::size_t recv_head(int fd, std::string& in) {
    char buf[8192];
    std::size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return std::string::npos;
        in.append(buf, static_cast<std::size_t>(n));
    }
    return end;
}

// One connection accepted on `listen_fd`, with the receive timeout; -1 when accept fails.
inline int accept_with_timeout(int listen_fd) {
    const int c = accept(listen_fd, nullptr, nullptr);
    if (c >= 0) set_recv_timeout(c);
    return c;
}

// A blocking IPv4 connection to address:port with a 5 s receive timeout; -1 on failure.
inline int connect_ipv4(const char* address, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, address, &a.sin_addr);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    set_recv_timeout(fd);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

inline int connect_loopback(int port) { return connect_ipv4("127.0.0.1", port); }

inline void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

inline std::string header_of(std::string_view head, std::string_view name) {
    std::string lower(head);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "\n" + std::string(name) + ":";
    std::size_t p = lower.find(key);
    if (p == std::string::npos) return {};
    p += key.size();
    while (p < head.size() && head[p] == ' ') ++p;
    std::size_t end = head.find('\r', p);
    return std::string(head.substr(p, end - p));
}

// Reads Content-Length delimited messages (all these tests need).
struct Conn {
    int fd = -1;
    std::string pending;
    explicit Conn(int port) : fd(connect_loopback(port)) {}
    Conn(const char* address, int port) : fd(connect_ipv4(address, port)) {}
    ~Conn() {
        if (fd >= 0) close(fd);
    }
    bool fill() {
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        pending.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    struct Message {
        int status = 0;
        std::string head, body;
    };
    Message read() {
        std::size_t end;
        while ((end = pending.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return {};
        Message m;
        m.head = pending.substr(0, end + 2);
        pending.erase(0, end + 4);
        std::string cl = header_of(m.head, "content-length");
        std::size_t n = cl.empty() ? 0 : std::stoul(cl);
        while (pending.size() < n)
            if (!fill()) return {};
        m.body = pending.substr(0, n);
        pending.erase(0, n);
        m.status = m.head.size() > 12 ? std::stoi(m.head.substr(9, 3)) : 0;
        return m;
    }
    Message get(std::string_view host, std::string_view target, std::string_view extra = {}) {
        send_all(fd, "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" +
                         std::string(extra) + "\r\n");
        return read();
    }
    // True when the peer closed (EOF) within the receive timeout.
    bool closed_by_peer() {
        char c;
        return recv(fd, &c, 1, 0) == 0;
    }
};

// A loopback listener that runs `handler(fd)` on a thread of its own for each
// accepted connection (the handler closes it). The destructor stops accepting
// and joins every thread, so an owner declares it as its last member: it goes
// first, before anything its handler uses.
class LoopbackServer {
public:
    explicit LoopbackServer(std::function<void(int)> handler) : handler_(std::move(handler)) {
        fd_ = listen_loopback(port_);
        thread_ = std::thread([this] {
            for (;;) {
                const int c = accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                std::lock_guard lock(mutex_);
                conns_.emplace_back(handler_, c);
            }
        });
    }
    ~LoopbackServer() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        std::lock_guard lock(mutex_);
        for (auto& t : conns_) t.join();
    }
    std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }

private:
    std::function<void(int)> handler_;
    int fd_ = -1, port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::thread> conns_;
};

// Answers every request with "<name>\n<the request head as received>";
// target /sleep waits `sleep` first.
class EchoBackend {
public:
    explicit EchoBackend(std::string name, std::chrono::milliseconds sleep = std::chrono::milliseconds(1000))
        : name_(std::move(name)), sleep_(sleep) {}
    ~EchoBackend() { stop_ = true; }
    std::uint16_t port() const { return server_.port(); }
    int requests() const { return requests_.load(); }

private:
    void handle(int c) {
        set_recv_timeout(c);
        std::string in;
        while (!stop_) {
            const std::size_t end = recv_head(c, in);
            if (end == std::string::npos) {
                close(c);
                return;
            }
            std::string head = in.substr(0, end + 2);
            in.erase(0, end + 4);
            ++requests_;
            if (head.starts_with("GET /sleep")) std::this_thread::sleep_for(sleep_);
            std::string body = name_ + "\n" + head;
            send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        }
        close(c);
    }
    std::string name_;
    std::chrono::milliseconds sleep_;
    std::atomic<bool> stop_{false};
    std::atomic<int> requests_{0};
    LoopbackServer server_{[this](int c) { handle(c); }};  // last: joined first
};

// The first line of an echo body: which backend answered.
inline std::string backend_of(const std::string& body) { return body.substr(0, body.find('\n')); }
// The request line the backend received.
inline std::string request_line_of(const std::string& body) {
    std::size_t s = body.find('\n') + 1;
    return body.substr(s, body.find("\r\n", s) - s);
}

}  // namespace xgress::testing

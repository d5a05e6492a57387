// xgress-echo: the backend of the lab, demo and integration tests. It answers every
// HTTP/1.x request with 200 and a JSON description of who answered and what request
// arrived, so a test can check routing, balancing and the headers the proxy adds.
//
// One thread accepts per listening address; each connection gets its own thread.
// That is plenty for a test fixture and keeps the code obvious.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "echo_body.h"
#include "listen_spec.h"
#include "request_reader.h"

namespace xgress::echo {
namespace {

constexpr int kIdleTimeoutSeconds = 60;  // a silent keep-alive connection is closed after this

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string response_head(int status, std::string_view reason, std::string_view type, std::size_t length,
                          std::string_view connection, std::size_t request_body_bytes) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\nContent-Type: " +
                      std::string(type) + "\r\nContent-Length: " + std::to_string(length) + "\r\n";
    // Only when the request had a body, so plain answers stay as they were.
    if (request_body_bytes) out += "X-Echo-Body-Bytes: " + std::to_string(request_body_bytes) + "\r\n";
    if (!connection.empty()) out += "Connection: " + std::string(connection) + "\r\n";
    out += "\r\n";
    return out;
}

std::string response(int status, std::string_view reason, const std::string& body, bool head_only,
                     std::string_view connection, std::size_t request_body_bytes = 0) {
    std::string out = response_head(status, reason, "application/json", body.size(), connection, request_body_bytes);
    if (!head_only) out += body;
    return out;
}

// Test hook for streaming through a proxy: `X-Echo-Bytes: N` answers with N
// bytes of filler, written in 64 KiB pieces (the echo never holds N bytes).
bool send_filler(int fd, std::size_t bytes) {
    static const std::string piece(64 * 1024, 'x');
    while (bytes > 0) {
        const std::size_t n = std::min(bytes, piece.size());
        if (!send_all(fd, std::string_view(piece).substr(0, n))) return false;
        bytes -= n;
    }
    return true;
}

void serve_connection(int fd, Responder responder, bool access_log) {
    timeval idle{.tv_sec = kIdleTimeoutSeconds, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    RequestReader reader(fd);
    for (;;) {
        auto request = reader.next();
        if (!request) {
            if (request.error() == ReadError::Malformed)
                send_all(fd, response(400, "Bad Request", "{\"error\":\"malformed request\"}\n", false, "close"));
            else if (request.error() == ReadError::TooLarge)
                send_all(fd, response(431, "Request Header Fields Too Large",
                                      "{\"error\":\"request head too large\"}\n", false, "close"));
            break;
        }
        const bool keep_alive = request->keep_alive();
        // HTTP/1.0 clients close unless told the connection stays open.
        const std::string_view connection =
            !keep_alive ? "close" : (request->version == "HTTP/1.0" ? "keep-alive" : "");
        if (access_log)
            std::fprintf(stderr, "%s %s %s host=%s\n", responder.service.c_str(), request->method.c_str(),
                         request->target.c_str(), request->header("host").c_str());
        const bool head_only = request->method == "HEAD";
        if (const std::string filler = request->header("x-echo-bytes"); !filler.empty()) {
            const std::size_t n = std::strtoull(filler.c_str(), nullptr, 10);
            if (!send_all(fd, response_head(200, "OK", "application/octet-stream", n, connection, request->body_bytes)) ||
                (!head_only && !send_filler(fd, n)) || !keep_alive)
                break;
            continue;
        }
        const std::string body = render_echo_body(responder, *request);
        if (!send_all(fd, response(200, "OK", body, head_only, connection, request->body_bytes)) || !keep_alive) break;
    }
    close(fd);
}

int open_listener(const ListenSpec& spec) {
    const int fd = socket(spec.sockaddr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&spec.sockaddr), spec.sockaddr_len) != 0 ||
        listen(fd, 1024) != 0) {
        const int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

void accept_loop(int listen_fd, Responder responder, bool access_log) {
    for (;;) {
        const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            std::fprintf(stderr, "xgress-echo: accept on port %u: %s\n", responder.port, std::strerror(errno));
            // Out of fds or memory: back off instead of spinning.
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        std::thread(serve_connection, fd, responder, access_log).detach();
    }
}

}  // namespace
}  // namespace xgress::echo

int main(int argc, char** argv) {
    using namespace xgress::echo;
    CLI::App app{"xgress-echo: HTTP backend that answers with a JSON description of the request"};
    std::string pod;
    std::string ns;
    std::vector<std::string> listen_texts;
    bool access_log = false;
    app.add_option("--pod", pod, "Pod name to report")->required();
    app.add_option("--namespace", ns, "Namespace to report")->required();
    app.add_option("--listen", listen_texts, "ADDR:PORT=SERVICE (repeatable)")->required();
    app.add_flag("--access-log", access_log, "Log one line per request to stderr");
    CLI11_PARSE(app, argc, argv);

    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::thread> acceptors;
    for (const auto& text : listen_texts) {
        auto spec = parse_listen_spec(text);
        if (!spec) {
            std::fprintf(stderr, "xgress-echo: %s\n", spec.error().c_str());
            return 2;
        }
        const int fd = open_listener(*spec);
        if (fd < 0) {
            std::fprintf(stderr, "xgress-echo: cannot listen on %s:%u: %s\n", spec->address.c_str(), spec->port,
                         std::strerror(errno));
            return 1;
        }
        std::fprintf(stderr, "xgress-echo: pod %s/%s serving service %s on %s:%u\n", ns.c_str(), pod.c_str(),
                     spec->service.c_str(), spec->address.c_str(), spec->port);
        acceptors.emplace_back(accept_loop, fd, Responder{pod, ns, spec->service, spec->port}, access_log);
    }
    for (auto& t : acceptors) t.join();
    return 0;
}

#include "admin/admin_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/head_writer.h"
#include "http/request_parser.h"
#include "io/listener.h"

namespace xgress::admin {

namespace {

// An admin request must arrive whole and quickly; probes are tiny.
constexpr std::size_t kMaxRequestBytes = 8 * 1024;
constexpr timeval kIoTimeout{2, 0};

std::string response(int status, std::string_view content_type, std::string_view body) {
    return fmt::format("HTTP/1.1 {} {}\r\nServer: xgress\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
                       "Connection: close\r\n\r\n{}",
                       status, http::reason_phrase(status), content_type, body.size(), body);
}

void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

std::expected<std::unique_ptr<AdminServer>, std::string> AdminServer::start(const std::string& address,
                                                                             AdminSource source) {
    auto where = io::parse_address(address);
    if (!where) return std::unexpected("--admin: " + where.error());
    std::unique_ptr<AdminServer> s(new AdminServer());
    s->source_ = std::move(source);
    // No SO_REUSEPORT group here: a second proxy on the same admin port must
    // fail to bind rather than silently share the scrapes.
    int fd = socket(where->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::unexpected(std::string("admin socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&where->addr), where->len) != 0 || listen(fd, 64) != 0) {
        std::string err = std::strerror(errno);
        close(fd);
        return std::unexpected("admin listen on " + address + ": " + err);
    }
    s->listen_fd_ = fd;
    s->port_ = io::bound_port(fd);
    s->stop_fd_ = eventfd(0, EFD_CLOEXEC);
    if (s->stop_fd_ < 0) return std::unexpected(std::string("eventfd: ") + std::strerror(errno));
    s->thread_ = std::thread([p = s.get()] { p->run(); });
    return s;
}

AdminServer::~AdminServer() {
    if (thread_.joinable()) {
        std::uint64_t one = 1;
        (void)!write(stop_fd_, &one, sizeof one);
        thread_.join();
    }
    if (listen_fd_ >= 0) close(listen_fd_);
    if (stop_fd_ >= 0) close(stop_fd_);
}

void AdminServer::run() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            spdlog::error("admin: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents) return;
        if (!(fds[0].revents & POLLIN)) continue;
        int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        serve(c);
        close(c);
    }
}

void AdminServer::serve(int fd) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &kIoTimeout, sizeof kIoTimeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kIoTimeout, sizeof kIoTimeout);
    http::RequestParser parser(http::Limits{.max_head_bytes = kMaxRequestBytes, .max_headers = 32});
    http::RequestHead head;
    std::string in;
    char buf[2048];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;  // closed or timed out before a whole head
        in.append(buf, static_cast<std::size_t>(n));
        http::ParseResult r = parser.parse(in, head);
        if (r.status == http::ParseStatus::Incomplete) continue;
        if (r.status == http::ParseStatus::Error) {
            send_all(fd, response(r.http_status, "text/plain", std::string(r.reason) + "\n"));
            return;
        }
        send_all(fd, answer(head.method, head.path));
        return;
    }
}

std::string AdminServer::answer(std::string_view method, std::string_view path) {
    if (method != "GET") return response(405, "text/plain", "only GET\n");
    if (path == "/healthz") return response(200, "text/plain", "ok\n");
    if (path == "/readyz") {
        return source_.ready() ? response(200, "text/plain", "ready\n")
                     : response(503, "text/plain", "no routing snapshot applied yet\n");
    }
    if (path == "/metrics") return response(200, "text/plain; version=0.0.4", render_metrics(source_.metrics()));
    if (path == "/config") {
        auto [version, json] = source_.config();
        return response(200, "application/json",
                        fmt::format("{{\"version\":{},\"snapshot\":{}}}\n", version, json.empty() ? "null" : json));
    }
    return response(404, "text/plain", "not found\n");
}

}  // namespace xgress::admin

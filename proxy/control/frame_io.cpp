#include "control/frame_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xgress::control {

namespace {

std::expected<void, std::string> write_all(int sock, const char* data, std::size_t len) {
    while (len > 0) {
        ssize_t n = send(sock, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(std::string("send: ") + std::strerror(errno));
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return {};
}

std::expected<void, std::string> read_all(int sock, char* data, std::size_t len, const std::atomic<bool>& stop) {
    while (len > 0) {
        if (stop.load()) return std::unexpected("stopped");
        pollfd p{sock, POLLIN, 0};
        int rc = poll(&p, 1, 200);
        if (rc == 0) continue;
        if (rc < 0) {
            if (errno == EINTR) continue;
            return std::unexpected(std::string("poll: ") + std::strerror(errno));
        }
        char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerFrame)];
        iovec iov{data, len};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof cbuf;
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return std::unexpected(std::string("recv: ") + std::strerror(errno));
        }
        if (n == 0) return std::unexpected("connection closed by agent");
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    close(fd);
                }
            }
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace

std::expected<void, std::string> write_frame(int sock, MessageType type, std::uint64_t version,
                                             std::string_view payload, const std::vector<int>& fds) {
    if (payload.size() > kMaxPayload) return std::unexpected("payload too large");
    if (fds.size() > static_cast<std::size_t>(kMaxFdsPerFrame)) return std::unexpected("too many fds");
    FrameHeader h{};
    h.magic = kFrameMagic;
    h.type = static_cast<std::uint16_t>(type);
    h.length = static_cast<std::uint32_t>(payload.size());
    h.version = version;
    // The fds ride on the header's first byte so the receiver gets them with it.
    iovec iov{&h, sizeof h};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerFrame)] = {};
    if (!fds.empty()) {
        msg.msg_control = cbuf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return std::unexpected(std::string("sendmsg: ") + std::strerror(errno));
    if (static_cast<std::size_t>(n) < sizeof h) {
        auto r = write_all(sock, reinterpret_cast<const char*>(&h) + n, sizeof h - static_cast<std::size_t>(n));
        if (!r) return r;
    }
    return write_all(sock, payload.data(), payload.size());
}

std::expected<Frame, std::string> read_frame(int sock, const std::atomic<bool>& stop,
                                             std::chrono::steady_clock::time_point* header_at) {
    FrameHeader h{};
    if (auto r = read_all(sock, reinterpret_cast<char*>(&h), sizeof h, stop); !r) return std::unexpected(r.error());
    if (header_at) *header_at = std::chrono::steady_clock::now();
    if (h.magic != kFrameMagic) return std::unexpected("bad frame magic");
    if (h.length > kMaxPayload) return std::unexpected("frame too large");
    Frame f;
    f.type = static_cast<MessageType>(h.type);
    f.version = h.version;
    f.payload.resize(h.length);
    if (auto r = read_all(sock, f.payload.data(), f.payload.size(), stop); !r) return std::unexpected(r.error());
    return f;
}

}  // namespace xgress::control

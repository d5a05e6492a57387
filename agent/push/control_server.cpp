#include "push/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "push/frame.h"
#include "push/hello.h"

namespace xgress::agent::push {

struct ControlServer::Connection {
    int fd = -1;
    std::int64_t pid = 0;
    bool said_hello = false;
    std::string rx;
    std::string tx;
    std::deque<int> pending_fds;  // received with SCM_RIGHTS, not yet claimed by a Hello
    std::uint64_t acked = 0;
    std::uint64_t sent = 0;          // version of the last Snapshot or EndpointsPatch sent
    std::uint64_t sent_patch = 0;    // version of the last EndpointsPatch sent (0 = none)
    bool patches_enabled = true;     // false after a patch went unanswered (a proxy without patch support)
    std::uint64_t unanswered_patch = 0;                     // oldest patch version awaiting Ack/Nack
    std::chrono::steady_clock::time_point patch_due{};      // when to stop waiting for it
    std::uint64_t nacked = 0;                            // last version this proxy rejected
    std::chrono::steady_clock::time_point retry_at{};    // when to offer it again
    std::chrono::milliseconds retry_delay{0};

    ~Connection() {
        for (int f : pending_fds) ::close(f);
        if (fd >= 0) ::close(fd);
    }
    std::string name() const {
        return said_hello ? "proxy pid " + std::to_string(pid) : "proxy connection fd " + std::to_string(fd);
    }
};

namespace {

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

bool fill_address(const std::string& path, sockaddr_un& address) {
    std::memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof address.sun_path) return false;
    std::memcpy(address.sun_path, path.data(), path.size());
    return true;
}

// A socket file nobody listens on is left over from a crash: remove it.
std::expected<void, std::string> remove_stale_socket(const std::string& path, const sockaddr_un& address) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode)) return std::unexpected(path + " exists and is not a socket");
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return std::unexpected(errno_text("socket"));
    const bool in_use = ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(probe);
    if (in_use) return std::unexpected(path + ": another agent is listening there");
    if (::unlink(path.c_str()) != 0) return std::unexpected(errno_text(("unlink " + path).c_str()));
    spdlog::info("control: removed stale socket {}", path);
    return {};
}

}  // namespace

std::expected<std::unique_ptr<ControlServer>, std::string> ControlServer::listen(const std::string& path,
                                                                                 ListenerSink& sink) {
    sockaddr_un address;
    if (!fill_address(path, address)) return std::unexpected("control socket path too long or empty: " + path);
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return std::unexpected("cannot create " + parent.string() + ": " + ec.message());
    if (auto removed = remove_stale_socket(path, address); !removed) return std::unexpected(removed.error());

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::unexpected(errno_text("socket"));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        std::string error = errno_text(("bind " + path).c_str());
        ::close(fd);
        return std::unexpected(error);
    }
    // Before listen(): nobody can connect until the mode is right.
    if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
        std::string error = errno_text(("chmod/listen " + path).c_str());
        ::close(fd);
        ::unlink(path.c_str());
        return std::unexpected(error);
    }
    return std::unique_ptr<ControlServer>(new ControlServer(fd, path, sink));
}

ControlServer::ControlServer(int listen_fd, std::string path, ListenerSink& sink)
    : listen_fd_(listen_fd), path_(std::move(path)), sink_(sink) {}

ControlServer::~ControlServer() {
    connections_.clear();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
}

std::size_t ControlServer::proxy_count() const {
    return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                  [](const auto& c) { return c->said_hello; }));
}

void ControlServer::publish(std::uint64_t version, std::string payload, std::function<std::string()> reencode) {
    version_ = version;
    payload_ = std::move(payload);
    payload_ready_ = true;
    payload_source_ = std::move(reencode);
    have_snapshot_ = true;
    for (auto& connection : connections_) {
        if (connection->said_hello) send_snapshot(*connection);
    }
    flush_or_drop_all();
}

void ControlServer::publish_patch(std::uint64_t version, std::uint64_t base_version, std::string patch_payload,
                                  std::function<std::string()> full_payload) {
    version_ = version;
    payload_.clear();
    payload_ready_ = false;
    payload_source_ = std::move(full_payload);
    have_snapshot_ = true;
    std::string frame;  // one encoding shared by every proxy that takes the patch
    for (auto& c : connections_) {
        if (!c->said_hello) continue;
        // Only a proxy that was sent the base, and did not refuse it, can apply the patch.
        if (!c->patches_enabled || c->sent != base_version || c->nacked == base_version) {
            send_snapshot(*c);
            continue;
        }
        if (frame.empty()) frame = encode_frame(control::MessageType::EndpointsPatch, version, patch_payload);
        c->tx += frame;
        c->sent = version;
        c->sent_patch = version;
        if (c->unanswered_patch == 0) {
            c->unanswered_patch = version;
            c->patch_due = std::chrono::steady_clock::now() + kPatchAnswerTimeout;
        }
        ++patches_sent_;
        spdlog::debug("control: sending endpoints patch version {} ({} bytes) to {}", version, patch_payload.size(),
                      c->name());
    }
    flush_or_drop_all();
}

void ControlServer::flush_or_drop_all() {
    std::erase_if(connections_, [this](auto& c) {
        if (!c->said_hello || flush(*c)) return false;
        spdlog::info("control: {} disconnected (last acked version {})", c->name(), c->acked);
        return true;
    });
}

// The encoded snapshot is only needed by a proxy that has not got it yet
// (a new one, or one that must be re-sent it). Once every connected proxy
// ACKed the current version, free it (when it can be re-made): at 100,000
// endpoints it is ~5 MB the agent would otherwise hold for nothing.
void ControlServer::release_payload_if_all_acked() {
    if (!payload_ready_ || !payload_source_ || payload_.empty()) return;
    for (const auto& c : connections_)
        if (c->said_hello && c->acked != version_) return;  // one not yet said Hello gets a fresh encoding
    std::string().swap(payload_);
    payload_ready_ = false;
}

const std::string& ControlServer::full_payload() {
    if (!payload_ready_) {
        payload_ = payload_source_ ? payload_source_() : std::string();
        payload_ready_ = true;
    }
    return payload_;
}

void ControlServer::send_snapshot(Connection& connection) {
    const std::string& payload = full_payload();
    connection.tx += encode_frame(control::MessageType::Snapshot, version_, payload);
    connection.sent = version_;
    spdlog::debug("control: sending snapshot version {} ({} bytes) to {}", version_, payload.size(),
                  connection.name());
}

int ControlServer::retry_resends(int timeout_ms) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& c : connections_) {
        if (c->unanswered_patch != 0) {
            if (c->patch_due <= now) {
                spdlog::warn("control: {} did not answer endpoints patch version {} within {} ms; sending it whole "
                             "snapshots from now on",
                             c->name(), c->unanswered_patch, kPatchAnswerTimeout.count());
                c->unanswered_patch = 0;
                c->patches_enabled = false;
                c->sent_patch = 0;
                if (have_snapshot_) send_snapshot(*c);
            } else {
                const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(c->patch_due - now).count() + 1;
                if (timeout_ms < 0 || wait < timeout_ms) timeout_ms = static_cast<int>(wait);
            }
        }
        if (!c->said_hello || c->nacked == 0 || c->nacked != version_ || !have_snapshot_) continue;
        if (c->retry_at <= now) {
            spdlog::info("control: offering snapshot version {} to {} again", version_, c->name());
            c->nacked = 0;
            send_snapshot(*c);
            continue;
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(c->retry_at - now).count() + 1;
        if (timeout_ms < 0 || wait < timeout_ms) timeout_ms = static_cast<int>(wait);
    }
    return timeout_ms;
}

bool ControlServer::poll_once(int timeout_ms, int extra_fd) {
    timeout_ms = retry_resends(timeout_ms);
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({extra_fd, POLLIN, 0});  // poll ignores negative fds
    for (const auto& c : connections_) {
        fds.push_back({c->fd, static_cast<short>(POLLIN | (c->tx.empty() ? 0 : POLLOUT)), 0});
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return false;  // timeout or EINTR (signal)

    // Connections first (their indices match fds), new ones after.
    std::vector<Connection*> dropped;
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        Connection& c = *connections_[i];
        const short revents = fds[i + 2].revents;
        bool keep = true;
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
            // Frames that arrived before the peer hung up (a last Nack) still count.
            const bool open = read_from(c);
            keep = handle_frames(c) && open;
        }
        if (keep && !c.tx.empty()) keep = flush(c);
        if (!keep) dropped.push_back(&c);
    }
    std::erase_if(connections_, [&](const auto& c) {
        if (std::find(dropped.begin(), dropped.end(), c.get()) == dropped.end()) return false;
        spdlog::info("control: {} disconnected (last acked version {})", c->name(), c->acked);
        return true;
    });
    if (fds[0].revents & POLLIN) accept_connections();
    return extra_fd >= 0 && (fds[1].revents & POLLIN);
}

void ControlServer::accept_connections() {
    for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                spdlog::warn("control: {}", errno_text("accept"));
            }
            return;
        }
        auto connection = std::make_unique<Connection>();
        connection->fd = fd;
        spdlog::debug("control: new connection fd {}", fd);
        connections_.push_back(std::move(connection));
    }
}

bool ControlServer::read_from(Connection& c) {
    for (;;) {
        char data[64 * 1024];
        alignas(cmsghdr) char control_buffer[CMSG_SPACE(sizeof(int) * control::kMaxFdsPerFrame)];
        iovec iov{data, sizeof data};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control_buffer;
        message.msg_controllen = sizeof control_buffer;
        const ssize_t n = ::recvmsg(c.fd, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            if (errno == EINTR) continue;
            spdlog::warn("control: {}: {}", c.name(), errno_text("recvmsg"));
            return false;
        }
        for (cmsghdr* h = CMSG_FIRSTHDR(&message); h; h = CMSG_NXTHDR(&message, h)) {
            if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
            const std::size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int received;
                std::memcpy(&received, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                c.pending_fds.push_back(received);  // closed by ~Connection unless a Hello claims it
            }
        }
        if (message.msg_flags & MSG_CTRUNC) {
            spdlog::warn("control: {}: too many file descriptors in one message (max {})", c.name(),
                         control::kMaxFdsPerFrame);
            return false;
        }
        if (n == 0) return false;  // peer closed
        c.rx.append(data, static_cast<std::size_t>(n));
        if (c.rx.size() > sizeof(control::FrameHeader) + kMaxInboundPayload) {
            spdlog::warn("control: {}: too much unread data", c.name());
            return false;
        }
    }
}

bool ControlServer::handle_frames(Connection& c) {
    while (c.rx.size() >= sizeof(control::FrameHeader)) {
        control::FrameHeader header;
        std::memcpy(&header, c.rx.data(), sizeof header);
        if (auto valid = validate_inbound_header(header); !valid) {
            spdlog::warn("control: {}: {}; closing", c.name(), valid.error());
            return false;
        }
        const std::size_t frame_size = sizeof header + header.length;
        if (c.rx.size() < frame_size) return true;
        const std::string_view payload(c.rx.data() + sizeof header, header.length);
        bool keep = true;
        switch (static_cast<control::MessageType>(header.type)) {
            case control::MessageType::Hello:
                keep = handle_hello(c, payload);
                break;
            case control::MessageType::Ack:
                if (c.unanswered_patch != 0 && header.version >= c.unanswered_patch) c.unanswered_patch = 0;
                if (header.version == c.sent_patch) c.patches_enabled = true;  // it does apply patches
                c.acked = header.version;
                c.retry_delay = std::chrono::milliseconds(0);
                last_acked_ = std::max(last_acked_, header.version);
                spdlog::info("control: {} serves snapshot version {}", c.name(), header.version);
                release_payload_if_all_acked();
                break;
            case control::MessageType::Nack: {
                if (c.unanswered_patch != 0 && header.version >= c.unanswered_patch) c.unanswered_patch = 0;
                if (header.version == c.sent_patch && header.version != 0) {
                    // A refused patch (the proxy was not at its base, or lacks a
                    // backend): the whole snapshot fixes that, no backoff needed.
                    ++patch_nack_count_;
                    ++nack_count_;
                    c.sent_patch = 0;
                    spdlog::info("control: {} refused endpoints patch version {}: {}; sending the whole snapshot",
                                 c.name(), header.version,
                                 std::string_view(payload.data(), std::min<std::size_t>(payload.size(), 4096)));
                    if (header.version == version_ && have_snapshot_) send_snapshot(c);
                    break;
                }
                // A rejection may be transient (the proxy short of memory or
                // file descriptors): offer the same version again with
                // exponential backoff. The proxy keeps serving its last good
                // snapshot meanwhile; a newer publish() supersedes the retry.
                c.nacked = header.version;
                c.retry_delay = std::clamp(c.retry_delay * 2, kFirstRetry, kMaxRetry);
                c.retry_at = std::chrono::steady_clock::now() + c.retry_delay;
                ++nack_count_;
                spdlog::warn("control: {} rejected snapshot version {}: {}; retrying in {} ms", c.name(), header.version,
                             std::string_view(payload.data(), std::min<std::size_t>(payload.size(), 4096)),
                             c.retry_delay.count());
                break;
            }
            default:
                keep = false;  // validate_inbound_header let only the above through
        }
        c.rx.erase(0, frame_size);
        if (!keep) return false;
        // File descriptors belong to the Hello they were sent with; any left
        // after a frame that takes none came without a reason.
        if (!c.pending_fds.empty() && static_cast<control::MessageType>(header.type) != control::MessageType::Hello) {
            spdlog::warn("control: {}: file descriptors sent with a non-Hello frame; closing", c.name());
            return false;
        }
    }
    return true;
}

bool ControlServer::handle_hello(Connection& c, std::string_view payload) {
    auto hello = parse_hello(payload);
    if (!hello) {
        spdlog::warn("control: {}: {}; closing", c.name(), hello.error());
        return false;
    }
    if (hello->listeners.size() != c.pending_fds.size()) {
        spdlog::warn("control: {}: Hello lists {} listeners but carried {} sockets; closing", c.name(),
                     hello->listeners.size(), c.pending_fds.size());
        return false;
    }
    c.pid = hello->pid;
    c.said_hello = true;
    spdlog::info("control: proxy pid {} connected with {} listener(s)", c.pid, hello->listeners.size());
    for (const HelloListener& listener : hello->listeners) {
        const int fd = c.pending_fds.front();
        c.pending_fds.pop_front();
        if (auto set = sink_.set_listener(listener.slot, fd); !set) {
            spdlog::error("control: proxy pid {}: listener slot {} ({} {}): {}", c.pid, listener.slot,
                          listener.kind, listener.address, set.error());
        } else {
            spdlog::info("control: proxy pid {}: listener slot {} = {} {}", c.pid, listener.slot, listener.kind,
                         listener.address);
        }
        ::close(fd);
    }
    if (have_snapshot_) send_snapshot(c);
    return true;
}

bool ControlServer::flush(Connection& c) {
    while (!c.tx.empty()) {
        const ssize_t n = ::send(c.fd, c.tx.data(), c.tx.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            if (errno == EINTR) continue;
            spdlog::warn("control: {}: {}", c.name(), errno_text("send"));
            return false;
        }
        c.tx.erase(0, static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace xgress::agent::push

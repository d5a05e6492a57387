#include "k8s/directory_watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace xgress::agent::k8s {
namespace {
constexpr std::size_t kMaxNames = 65536;
}  // namespace

std::expected<DirectoryWatcher, std::string> DirectoryWatcher::watch(const std::string& directory) {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return std::unexpected(std::string("inotify_init1: ") + std::strerror(errno));
    // IN_MOVED_TO and IN_CREATE catch atomic renames and ConfigMap symlink swaps.
    const std::uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                               IN_DELETE_SELF | IN_MOVE_SELF;
    if (::inotify_add_watch(fd, directory.c_str(), mask) < 0) {
        std::string error = "inotify_add_watch " + directory + ": " + std::strerror(errno);
        ::close(fd);
        return std::unexpected(error);
    }
    return DirectoryWatcher(fd);
}

DirectoryWatcher& DirectoryWatcher::operator=(DirectoryWatcher&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        gone_ = other.gone_;
        changes_ = std::move(other.changes_);
        other.fd_ = -1;
    }
    return *this;
}

DirectoryWatcher::~DirectoryWatcher() {
    if (fd_ >= 0) ::close(fd_);
}

bool DirectoryWatcher::drain() {
    bool any = false;
    alignas(inotify_event) char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
        if (n <= 0) break;
        any = true;
        for (ssize_t offset = 0; offset < n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
            if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) gone_ = true;
            if (event->mask & IN_Q_OVERFLOW) changes_.rescan = true;
            // The name is NUL-padded to `len`; strlen stops at the first NUL.
            if (event->len > 0 && !changes_.rescan) {
                changes_.names.insert(std::string(event->name, ::strnlen(event->name, event->len)));
                // A huge burst (a whole tree copied in) is cheaper to rescan than to track.
                if (changes_.names.size() > kMaxNames) {
                    changes_.rescan = true;
                    changes_.names.clear();
                }
            }
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
    return any;
}

DirectoryWatcher::Changes DirectoryWatcher::take_changes() {
    Changes taken = std::move(changes_);
    changes_ = Changes{};
    return taken;
}

int DirectoryWatcher::wait_until_quiet(int quiet_ms, int max_ms) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + std::chrono::milliseconds(max_ms);
    drain();
    for (;;) {
        const auto now = clock::now();
        if (now >= deadline || gone_) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::min<long long>(quiet_ms, left + 1))) <= 0) break;
        drain();
    }
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count());
}

}  // namespace xgress::agent::k8s

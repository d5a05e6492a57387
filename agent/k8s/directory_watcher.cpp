#include "k8s/directory_watcher.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xgress::agent::k8s {

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

DirectoryWatcher::~DirectoryWatcher() {
    if (fd_ >= 0) ::close(fd_);
}

bool DirectoryWatcher::drain() {
    bool any = false;
    alignas(inotify_event) char buffer[8192];
    while (::read(fd_, buffer, sizeof buffer) > 0) any = true;
    return any;
}

void DirectoryWatcher::wait_until_quiet(int quiet_ms) {
    drain();
    for (int round = 0; round < 20; ++round) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, quiet_ms) <= 0) return;
        drain();
    }
}

}  // namespace xgress::agent::k8s

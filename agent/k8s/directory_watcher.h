// Tells the agent when files in the manifests directory change (inotify), so
// it can reload. Editors and `kubectl`-style tools write several events per
// save, so the caller debounces with wait_until_quiet(): a burst is coalesced
// until it has been quiet for a short window, but never for longer than a
// ceiling, so a steady trickle of writes cannot starve reconciliation.
//
// When the directory itself is deleted or moved away the watch ends
// (directory_gone()); the caller keeps serving and calls watch() again later.
#pragma once

#include <expected>
#include <string>

namespace xgress::agent::k8s {

class DirectoryWatcher {
public:
    static std::expected<DirectoryWatcher, std::string> watch(const std::string& directory);
    DirectoryWatcher(DirectoryWatcher&& other) noexcept : fd_(other.fd_), gone_(other.gone_) { other.fd_ = -1; }
    DirectoryWatcher& operator=(DirectoryWatcher&& other) noexcept;
    ~DirectoryWatcher();

    int fd() const { return fd_; }  // readable when something changed
    // Consumes pending events; returns true if there were any.
    bool drain();
    // Drains until no event arrived for `quiet_ms`, or `max_ms` passed since
    // the call. Returns the milliseconds spent.
    int wait_until_quiet(int quiet_ms, int max_ms);
    // The watched directory was deleted or moved: no more events will come.
    bool directory_gone() const { return gone_; }

private:
    explicit DirectoryWatcher(int fd) : fd_(fd) {}
    int fd_ = -1;
    bool gone_ = false;
};

}  // namespace xgress::agent::k8s

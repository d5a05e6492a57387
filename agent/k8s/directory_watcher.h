// Tells the agent when files in the manifests directory change (inotify), so
// it can reload. Editors and `kubectl`-style tools write several events per
// save, so the caller debounces with wait_until_quiet(): a burst is coalesced
// until it has been quiet for a short window, but never for longer than a
// ceiling, so a steady trickle of writes cannot starve reconciliation.
//
// When the directory itself is deleted or moved away the watch ends
// (directory_gone()); the caller keeps serving and calls watch() again later.
//
// The watcher also remembers which file names the events were about
// (take_changes()), so the caller re-reads only those files; when the kernel
// queue overflowed the names are incomplete and the caller must rescan.
#pragma once

#include <expected>
#include <set>
#include <string>

namespace xgress::agent::k8s {

class DirectoryWatcher {
public:
    static std::expected<DirectoryWatcher, std::string> watch(const std::string& directory);
    // What changed since the last take_changes(): names of entries in the
    // directory that were written, created, deleted or moved in or out.
    struct Changes {
        std::set<std::string> names;
        bool rescan = false;  // events were lost (IN_Q_OVERFLOW): re-read everything
    };

    DirectoryWatcher(DirectoryWatcher&& other) noexcept
        : fd_(other.fd_), gone_(other.gone_), changes_(std::move(other.changes_)) {
        other.fd_ = -1;
    }
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
    // Returns and forgets the changes drained so far.
    Changes take_changes();

private:
    explicit DirectoryWatcher(int fd) : fd_(fd) {}
    int fd_ = -1;
    bool gone_ = false;
    Changes changes_;
};

}  // namespace xgress::agent::k8s

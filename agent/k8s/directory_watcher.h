// Tells the agent when files in the manifests directory change (inotify), so
// it can reload. Editors and `kubectl`-style tools write several events per
// save; the caller debounces with wait_until_quiet().
#pragma once

#include <expected>
#include <string>

namespace xgress::agent::k8s {

class DirectoryWatcher {
public:
    static std::expected<DirectoryWatcher, std::string> watch(const std::string& directory);
    DirectoryWatcher(DirectoryWatcher&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    DirectoryWatcher& operator=(DirectoryWatcher&&) = delete;
    ~DirectoryWatcher();

    int fd() const { return fd_; }  // readable when something changed
    // Consumes pending events; returns true if there were any.
    bool drain();
    // Drains until no event arrived for `quiet_ms` (bounded by 20 rounds).
    void wait_until_quiet(int quiet_ms);

private:
    explicit DirectoryWatcher(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace xgress::agent::k8s

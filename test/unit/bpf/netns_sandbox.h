// A private network + mount namespace for root tests: everything created in
// it (veth pairs, addresses, a bpffs mount, XDP and sk_lookup attachments)
// disappears with the process, so a failing test leaves nothing behind on
// the host. The bpffs mount point (a temp dir) is removed explicitly.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace xgress::test {

inline int run_command(const std::string& command) {
    int rc = std::system((command + " >/dev/null 2>&1").c_str());
    return rc;
}

class NetnsSandbox {
public:
    // Returns an empty string on success, else what failed.
    std::string enter() {
        if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) return fmt::format("unshare: {}", std::strerror(errno));
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return fmt::format("make / private: {}", std::strerror(errno));
        char tmpl[] = "/tmp/xgh1-bpffs-XXXXXX";
        if (!mkdtemp(tmpl)) return fmt::format("mkdtemp: {}", std::strerror(errno));
        bpffs_ = tmpl;
        if (mount("bpf", bpffs_.c_str(), "bpf", 0, nullptr) != 0)
            return fmt::format("mount bpffs on {}: {}", bpffs_, std::strerror(errno));
        mounted_ = true;
        netns_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (run_command("ip link set lo up") != 0) return "ip link set lo up failed";
        return {};
    }

    // A second, empty network namespace (the "client" side); the test stays
    // in the node namespace. Its fd path works with `ip ... netns PATH` and
    // `nsenter --net=PATH`.
    std::string make_peer() {
        int node = open("/proc/thread-self/ns/net", O_RDONLY);  // inheritable on purpose: `ip` opens it by path
        if (unshare(CLONE_NEWNET) != 0) return fmt::format("unshare peer: {}", std::strerror(errno));
        peer_fd_ = open("/proc/thread-self/ns/net", O_RDONLY);
        setns(node, CLONE_NEWNET);
        close(node);
        return {};
    }
    std::string peer_path() const { return fmt::format("/proc/{}/fd/{}", getpid(), peer_fd_); }
    int peer_fd() const { return peer_fd_; }
    int node_fd() const { return netns_fd_; }
    std::string in_peer(const std::string& command) const {
        return fmt::format("nsenter --net={} {}", peer_path(), command);
    }

    const std::string& bpffs() const { return bpffs_; }

    ~NetnsSandbox() {
        if (peer_fd_ >= 0) close(peer_fd_);
        if (netns_fd_ >= 0) close(netns_fd_);
        if (mounted_) umount2(bpffs_.c_str(), MNT_DETACH);
        if (!bpffs_.empty()) rmdir(bpffs_.c_str());
    }

private:
    std::string bpffs_;
    bool mounted_ = false;
    int netns_fd_ = -1;
    int peer_fd_ = -1;
};

}  // namespace xgress::test

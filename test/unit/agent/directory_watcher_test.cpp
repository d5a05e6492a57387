// DirectoryWatcher: bursts are coalesced within the quiet window, the
// ceiling bounds the wait, and deleting the directory ends the watch.
#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "k8s/directory_watcher.h"

namespace xgress::agent::k8s {
namespace {

std::filesystem::path temp_dir() {
    auto dir = std::filesystem::temp_directory_path() / ("xgh7-watch-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

void touch(const std::filesystem::path& path) {
    std::ofstream(path) << "x";
}

bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
}

TEST(DirectoryWatcher, BurstCoalescedAndCeilingHolds) {
    const auto dir = temp_dir();
    auto watcher = DirectoryWatcher::watch(dir.string());
    ASSERT_TRUE(watcher) << watcher.error();
    touch(dir / "a.yaml");
    ASSERT_TRUE(readable(watcher->fd(), 1000));
    // One write: returns after about the quiet window.
    const int waited = watcher->wait_until_quiet(20, 200);
    EXPECT_GE(waited, 19);
    EXPECT_LT(waited, 150);
    EXPECT_FALSE(readable(watcher->fd(), 0));

    // A writer that never pauses for 20 ms: the ceiling ends the wait.
    std::atomic<bool> stop = false;
    std::thread writer([&] {
        while (!stop) {
            touch(dir / "b.yaml");
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    ASSERT_TRUE(readable(watcher->fd(), 1000));
    const int capped = watcher->wait_until_quiet(20, 200);
    stop = true;
    writer.join();
    EXPECT_GE(capped, 195);
    EXPECT_LT(capped, 400);
    std::filesystem::remove_all(dir);
}

TEST(DirectoryWatcher, DeletedDirectoryEndsTheWatch) {
    const auto dir = temp_dir();
    auto watcher = DirectoryWatcher::watch(dir.string());
    ASSERT_TRUE(watcher);
    EXPECT_FALSE(watcher->directory_gone());
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(readable(watcher->fd(), 1000));
    watcher->wait_until_quiet(20, 200);
    EXPECT_TRUE(watcher->directory_gone());
}

}  // namespace
}  // namespace xgress::agent::k8s

// Hands a read-only object (the TLS state built from a snapshot) from the
// control thread to one worker, like SnapshotSlot does for routing tables: the
// worker checks an atomic generation once per completion batch and takes the
// mutex (shared with the publisher only) when something changed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace xgress::io {

template <class T>
class SharedSlot {
public:
    void publish(std::shared_ptr<const T> value) {
        std::lock_guard lock(mutex_);
        value_ = std::move(value);
        generation_.fetch_add(1, std::memory_order_release);
    }

    bool refresh(std::uint64_t& seen, std::shared_ptr<const T>& current) {
        std::uint64_t g = generation_.load(std::memory_order_acquire);
        if (g == seen) return false;
        std::lock_guard lock(mutex_);
        current = value_;
        seen = generation_.load(std::memory_order_relaxed);
        return true;
    }

private:
    std::atomic<std::uint64_t> generation_{0};
    std::mutex mutex_;
    std::shared_ptr<const T> value_;
};

}  // namespace xgress::io

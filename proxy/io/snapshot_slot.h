// Hands a new routing table from the control thread to one worker. The worker
// checks an atomic generation once per completion batch (one relaxed load)
// and only takes the mutex, shared with the control thread and nobody else,
// when something changed. Requests already routed keep what they resolved, so
// in-flight work finishes on the old table while new requests use the new one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "router/route_table.h"

namespace xgress::io {

class SnapshotSlot {
public:
    void publish(std::shared_ptr<const router::RouteTable> table) {
        std::lock_guard lock(mutex_);
        table_ = std::move(table);
        generation_.fetch_add(1, std::memory_order_release);
    }

    // Replaces `current` when a newer table was published since `seen`.
    bool refresh(std::uint64_t& seen, std::shared_ptr<const router::RouteTable>& current) {
        std::uint64_t g = generation_.load(std::memory_order_acquire);
        if (g == seen) return false;
        std::lock_guard lock(mutex_);
        current = table_;
        seen = generation_.load(std::memory_order_relaxed);
        return true;
    }

private:
    std::atomic<std::uint64_t> generation_{0};
    std::mutex mutex_;
    std::shared_ptr<const router::RouteTable> table_;
};

}  // namespace xgress::io

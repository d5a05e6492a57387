// A provided-buffer ring: a pool of equal receive buffers the kernel picks
// from when a multishot recv completes, so idle connections hold no memory.
// The proxy copies or consumes a buffer's bytes right away and hands it back.
//
// Buffers are provided lazily: the ring has room for `count`, but only
// `initial` are handed to the kernel at first, and grow() hands over more
// (the next untouched ones) when the worker runs short. The kernel cycles
// through every provided buffer in ring order, so each provided buffer is
// touched (resident) sooner or later: providing all of them up front made
// every worker resident by count x size (16 MiB) after a single long
// transfer, and spread a light load's receives over a cache-cold 16 MiB.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <expected>
#include <string>

namespace xgress::io {

class BufferRing {
public:
    BufferRing() = default;
    BufferRing(const BufferRing&) = delete;
    BufferRing& operator=(const BufferRing&) = delete;
    ~BufferRing();

    // `count` must be a power of two; `initial` (at most count, at least 1)
    // buffers are provided now, the rest by grow().
    std::expected<void, std::string> setup(io_uring& ring, std::uint16_t group, unsigned count, unsigned size,
                                           unsigned initial);
    // Provides up to `n` more never-provided buffers; returns how many.
    unsigned grow(unsigned n);
    unsigned provided() const { return provided_; }
    unsigned capacity() const { return count_; }
    unsigned buffer_size() const { return size_; }

    char* data(std::uint16_t bid) { return base_ + static_cast<std::size_t>(bid) * size_; }
    // Makes buffer `bid` available to the kernel again.
    void recycle(std::uint16_t bid) {
        io_uring_buf_ring_add(ring_, data(bid), size_, bid, io_uring_buf_ring_mask(count_), 0);
        io_uring_buf_ring_advance(ring_, 1);
    }
    std::uint16_t group() const { return group_; }

private:
    io_uring* uring_ = nullptr;
    io_uring_buf_ring* ring_ = nullptr;
    std::size_t ring_bytes_ = 0;
    char* base_ = nullptr;
    unsigned count_ = 0;
    unsigned provided_ = 0;
    unsigned size_ = 0;
    std::uint16_t group_ = 0;
};

}  // namespace xgress::io

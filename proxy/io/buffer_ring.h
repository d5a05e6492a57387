// A provided-buffer ring: a pool of equal receive buffers the kernel picks
// from when a multishot recv completes, so idle connections hold no memory.
// The proxy copies or consumes a buffer's bytes right away and hands it back.
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

    // `count` must be a power of two.
    std::expected<void, std::string> setup(io_uring& ring, std::uint16_t group, unsigned count, unsigned size);

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
    unsigned size_ = 0;
    std::uint16_t group_ = 0;
};

}  // namespace xgress::io

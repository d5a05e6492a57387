#include "io/buffer_ring.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace xgress::io {

BufferRing::~BufferRing() {
    if (ring_) {
        io_uring_unregister_buf_ring(uring_, group_);
        munmap(ring_, ring_bytes_);
    }
    std::free(base_);
}

// liburing 2.3 lacks io_uring_setup_buf_ring(); this is the same recipe:
// page-aligned ring memory registered under a buffer group id.
std::expected<void, std::string> BufferRing::setup(io_uring& ring, std::uint16_t group, unsigned count, unsigned size,
                                                   unsigned initial) {
    uring_ = &ring;
    group_ = group;
    count_ = count;
    size_ = size;
    ring_bytes_ = count * sizeof(io_uring_buf);
    void* mem = mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return std::unexpected(std::string("mmap buffer ring: ") + std::strerror(errno));
    ring_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(ring_);
    reg.ring_entries = count;
    reg.bgid = group;
    if (int rc = io_uring_register_buf_ring(&ring, &reg, 0); rc != 0) {
        munmap(ring_, ring_bytes_);
        ring_ = nullptr;
        return std::unexpected(std::string("io_uring_register_buf_ring: ") + std::strerror(-rc));
    }
    io_uring_buf_ring_init(ring_);
    // Address space for all `count`; pages become resident only once the
    // kernel writes into a provided buffer.
    base_ = static_cast<char*>(std::aligned_alloc(4096, static_cast<std::size_t>(count) * size));
    if (!base_) return std::unexpected("buffer ring: out of memory");
    provided_ = 0;
    grow(initial < 1 ? 1 : initial);
    return {};
}

unsigned BufferRing::grow(unsigned n) {
    const unsigned add = n < count_ - provided_ ? n : count_ - provided_;
    const int mask = io_uring_buf_ring_mask(count_);
    for (unsigned i = 0; i < add; ++i) {
        const auto bid = static_cast<std::uint16_t>(provided_ + i);
        io_uring_buf_ring_add(ring_, data(bid), size_, bid, mask, static_cast<int>(i));
    }
    io_uring_buf_ring_advance(ring_, static_cast<int>(add));
    provided_ += add;
    return add;
}

}  // namespace xgress::io

#include "io/ring.h"

#include <atomic>
#include <cstring>
#include <span>

namespace xgress::io {

namespace {
struct Attempt {
    unsigned flags;
    const char* name;
};
constexpr Attempt kDefer{IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "single-issuer+defer-taskrun"};
constexpr Attempt kCoop{IORING_SETUP_COOP_TASKRUN, "coop-taskrun"};
constexpr Attempt kPlain{0, "plain"};
constexpr Attempt kAuto[] = {kDefer, kCoop, kPlain};
constexpr unsigned kFeatMinTimeout = 1u << 15;  // IORING_FEAT_MIN_TIMEOUT; not in Debian 12's headers
}  // namespace

std::optional<RingMode> parse_ring_mode(std::string_view name) {
    if (name == "auto") return RingMode::Auto;
    if (name == "defer-taskrun") return RingMode::DeferTaskrun;
    if (name == "coop-taskrun") return RingMode::CoopTaskrun;
    if (name == "plain") return RingMode::Plain;
    return std::nullopt;
}

std::expected<std::string, std::string> init_ring(io_uring& ring, const RingOptions& options) {
    std::span<const Attempt> attempts = kAuto;
    switch (options.mode) {
        case RingMode::Auto: break;
        case RingMode::DeferTaskrun: attempts = std::span(&kDefer, 1); break;
        case RingMode::CoopTaskrun: attempts = std::span(&kCoop, 1); break;
        case RingMode::Plain: attempts = std::span(&kPlain, 1); break;
    }
    int last = 0;
    for (const Attempt& a : attempts) {
        io_uring_params params{};
        params.flags = a.flags | IORING_SETUP_CQSIZE;
        params.cq_entries = options.entries * 4;
        last = io_uring_queue_init_params(options.entries, &ring, &params);
        if (last == 0) {
            if (options.min_wait && !(params.features & kFeatMinTimeout)) {
                io_uring_queue_exit(&ring);
                return std::unexpected(std::string("--ring-min-wait-us: the kernel lacks IORING_FEAT_MIN_TIMEOUT (6.12+)"));
            }
            return std::string(a.name);
        }
        if (last != -EINVAL) break;  // only "unsupported flag" is worth retrying
    }
    return std::unexpected(std::string("io_uring_queue_init: ") + std::strerror(-last));
}

int submit_and_wait_min(io_uring& ring, unsigned wait_nr, unsigned min_wait_us, unsigned timeout_ms) {
    // What io_uring_submit does before entering: publish the queued SQEs.
    io_uring_sq& sq = ring.sq;
    const unsigned tail = sq.sqe_tail;
    if (sq.sqe_head != tail) {
        sq.sqe_head = tail;
        std::atomic_ref<unsigned>(*sq.ktail).store(tail, std::memory_order_release);
    }
    const unsigned to_submit = tail - std::atomic_ref<unsigned>(*sq.khead).load(std::memory_order_acquire);
    __kernel_timespec ts{.tv_sec = timeout_ms / 1000, .tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000};
    io_uring_getevents_arg arg{};
    arg.pad = min_wait_us;  // min_wait_usec since 6.12
    arg.ts = reinterpret_cast<std::uint64_t>(&ts);
    return io_uring_enter2(ring.ring_fd, to_submit, wait_nr, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                           reinterpret_cast<sigset_t*>(&arg), sizeof arg);
}

}  // namespace xgress::io

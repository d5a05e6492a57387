#include "io/ring.h"

#include <cstring>

namespace xgress::io {

std::expected<std::string, std::string> init_ring(io_uring& ring, const RingOptions& options) {
    struct Attempt {
        unsigned flags;
        const char* name;
    };
    const Attempt attempts[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "single-issuer+defer-taskrun"},
        {IORING_SETUP_COOP_TASKRUN, "coop-taskrun"},
        {0, "plain"},
    };
    int last = 0;
    for (const Attempt& a : attempts) {
        io_uring_params params{};
        params.flags = a.flags | IORING_SETUP_CQSIZE;
        params.cq_entries = options.entries * 4;
        last = io_uring_queue_init_params(options.entries, &ring, &params);
        if (last == 0) return std::string(a.name);
        if (last != -EINVAL) break;  // only "unsupported flag" is worth retrying
    }
    return std::unexpected(std::string("io_uring_queue_init: ") + std::strerror(-last));
}

}  // namespace xgress::io

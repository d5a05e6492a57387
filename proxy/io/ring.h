// Creates a worker's io_uring: single-issuer with deferred task running when
// the kernel supports it (completions are processed only when the worker asks,
// which batches wakeups), falling back to plain rings on older kernels.
#pragma once

#include <liburing.h>

#include <expected>
#include <string>

namespace xgress::io {

struct RingOptions {
    unsigned entries = 4096;
};

// Returns a description of the setup flags in use, for the startup log.
std::expected<std::string, std::string> init_ring(io_uring& ring, const RingOptions& options);

}  // namespace xgress::io

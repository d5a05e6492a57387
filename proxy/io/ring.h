// Creates a worker's io_uring: single-issuer with deferred task running when
// the kernel supports it (completions are processed only when the worker asks,
// which batches wakeups), falling back to plain rings on older kernels.
// `--ring-mode` pins one setup instead of the fallback chain, for A/B runs
// (test/bench/contention_bench.sh).
#pragma once

#include <liburing.h>

#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace xgress::io {

enum class RingMode {
    Auto,          // defer-taskrun, else coop-taskrun, else plain
    DeferTaskrun,  // IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
    CoopTaskrun,   // IORING_SETUP_COOP_TASKRUN
    Plain,         // no task-running flags: completions run as task work at any kernel exit
};

// "auto", "defer-taskrun", "coop-taskrun", "plain"; nullopt for anything else.
std::optional<RingMode> parse_ring_mode(std::string_view name);

struct RingOptions {
    unsigned entries = 4096;
    RingMode mode = RingMode::Auto;
    bool min_wait = false;  // fail unless the kernel has IORING_FEAT_MIN_TIMEOUT (6.12+)
};

// Returns a description of the setup flags in use, for the startup log. A
// mode other than Auto fails rather than fall back.
std::expected<std::string, std::string> init_ring(io_uring& ring, const RingOptions& options);

// Submits what is queued and waits for `wait_nr` completions, but once
// `min_wait_us` has passed returns as soon as there is any (the kernel's
// min_wait_usec, 6.12+; liburing 2.3 has no wrapper, its struct calls the
// field `pad`). With nothing at all it sleeps at most `timeout_ms` (then
// -ETIME), so an idle worker does not wake every min_wait_us.
int submit_and_wait_min(io_uring& ring, unsigned wait_nr, unsigned min_wait_us, unsigned timeout_ms);

}  // namespace xgress::io

// Renders the proxy's counters in the Prometheus text exposition format
// (version 0.0.4): one HELP and TYPE line per metric family, names prefixed
// xgress_proxy_. Pure: the admin server passes a sum taken from the workers.
#pragma once

#include <cstdint>
#include <string>

#include "io/backend_metrics.h"
#include "io/worker_stats.h"

namespace xgress::admin {

struct MetricsInput {
    io::StatsTotals totals;
    std::uint64_t snapshot_version = 0;  // 0: no snapshot applied yet
    unsigned workers = 0;
    io::BackendTotalsByName backends;  // per-backend sums over the workers
    io::RouteTotalsByName routes;      // per-route sums over the workers (routes with requests only)
};

std::string render_metrics(const MetricsInput& in);

}  // namespace xgress::admin

#include "admin/metrics_text.h"

#include <fmt/format.h>

namespace xgress::admin {

namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP xgress_proxy_{} {}\n# TYPE xgress_proxy_{} {}\n", name, help, name,
                   type);
}

void sample(std::string& out, std::string_view name, std::uint64_t value) {
    fmt::format_to(std::back_inserter(out), "xgress_proxy_{} {}\n", name, value);
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
    const io::StatsTotals& t = in.totals;
    std::string out;
    out.reserve(2048);
    family(out, "requests_total", "counter", "Request heads parsed and routed or answered by the proxy.");
    sample(out, "requests_total", t.requests);
    family(out, "generated_responses_total", "counter",
           "Responses the proxy generated itself (no upstream answer), by status.");
    for (std::size_t i = 0; i < io::kGeneratedStatuses.size(); ++i)
        fmt::format_to(std::back_inserter(out), "xgress_proxy_generated_responses_total{{status=\"{}\"}} {}\n",
                       io::kGeneratedStatuses[i], t.generated[i]);
    fmt::format_to(std::back_inserter(out), "xgress_proxy_generated_responses_total{{status=\"other\"}} {}\n",
                   t.generated[io::kGeneratedStatuses.size()]);
    family(out, "upstream_retries_total", "counter", "Requests re-sent to an upstream after a failed attempt.");
    sample(out, "upstream_retries_total", t.upstream_retries);
    family(out, "endpoint_ejections_total", "counter", "Endpoints ejected by passive health checking.");
    sample(out, "endpoint_ejections_total", t.endpoint_ejections);
    family(out, "client_timeouts_total", "counter", "Client connections that hit a header, body, idle, send or tunnel timeout.");
    sample(out, "client_timeouts_total", t.client_timeouts);
    family(out, "upstream_timeouts_total", "counter", "Upstream connect, send and read timeouts.");
    sample(out, "upstream_timeouts_total", t.upstream_timeouts);
    family(out, "active_connections", "gauge", "Client connections open now.");
    sample(out, "active_connections", t.active_connections);
    family(out, "snapshot_version", "gauge", "Version of the routing snapshot in use (0: none yet).");
    sample(out, "snapshot_version", in.snapshot_version);
    family(out, "workers", "gauge", "Worker threads (one io_uring each).");
    sample(out, "workers", in.workers);
    return out;
}

}  // namespace xgress::admin

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

// TLS termination (issue 6); its own function so TLS and HTTP changes merge apart.
void render_tls_metrics(std::string& out, const io::StatsTotals& t) {
    family(out, "tls_handshakes_total", "counter", "Completed TLS handshakes (full and resumed).");
    sample(out, "tls_handshakes_total", t.tls_handshakes);
    family(out, "tls_resumed_total", "counter", "TLS handshakes resumed with a session ticket.");
    sample(out, "tls_resumed_total", t.tls_resumed);
    family(out, "tls_handshake_errors_total", "counter",
           "TLS connections closed before the handshake completed: refused versions, malformed ClientHellos, garbage.");
    sample(out, "tls_handshake_errors_total", t.tls_handshake_errors);
    family(out, "tls_passthrough_total", "counter", "TLS connections relayed undecrypted by SNI (ssl-passthrough).");
    sample(out, "tls_passthrough_total", t.tls_passthrough);
    family(out, "tls_certificate_problems", "gauge",
           "Certificates of the current snapshot that failed to load (the previous good one or the default serves).");
    sample(out, "tls_certificate_problems", t.tls_certificate_problems);
    family(out, "tls_ktls", "gauge", "1 when kernel TLS offload is used for new connections.");
    sample(out, "tls_ktls", t.ktls_enabled ? 1 : 0);
    family(out, "upstream_tls_handshakes_total", "counter",
           "TLS handshakes with endpoints of backend-protocol HTTPS routes (full and resumed).");
    sample(out, "upstream_tls_handshakes_total", t.upstream_tls_handshakes);
    family(out, "upstream_tls_resumed_total", "counter", "Upstream TLS handshakes that resumed an earlier session.");
    sample(out, "upstream_tls_resumed_total", t.upstream_tls_resumed);
    family(out, "upstream_tls_errors_total", "counter",
           "Upstream TLS failures: handshake or certificate verification failed, bad records (the request gets 502).");
    sample(out, "upstream_tls_errors_total", t.upstream_tls_errors);
}

// Label values: backslash, double quote and newline escaped (text format 0.0.4).
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

// Route label: the route's name "host path" ("* /p" for host-less rules,
// "default_backend"); "" for requests that matched no route.
void render_routes(std::string& out, const io::RouteTotalsByName& routes) {
    family(out, "route_requests_total", "counter",
           "Requests by route and status class of the response sent to the client (relayed or generated); route=\"\": no route.");
    static constexpr const char* kClass[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (const auto& [name, counts] : routes) {
        const std::string l = label(name);
        for (std::size_t i = 0; i < counts.size(); ++i)
            if (counts[i])
                fmt::format_to(std::back_inserter(out), "xgress_proxy_route_requests_total{{route=\"{}\",class=\"{}\"}} {}\n", l,
                               kClass[i], counts[i]);
    }
}

void render_backends(std::string& out, const io::BackendTotalsByName& backends) {
    family(out, "upstream_responses_total", "counter",
           "Responses relayed from upstreams, by backend and status class.");
    static constexpr const char* kClass[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (const auto& [name, t] : backends)
        for (std::size_t i = 0; i < t.responses.size(); ++i)
            fmt::format_to(std::back_inserter(out), "xgress_proxy_upstream_responses_total{{backend=\"{}\",class=\"{}\"}} {}\n",
                           label(name), kClass[i], t.responses[i]);
    family(out, "upstream_latency_seconds", "histogram",
           "Time from handing a request to an upstream to its response head, by backend.");
    for (const auto& [name, t] : backends) {
        const std::string l = label(name);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < io::kLatencyBucketsUs.size(); ++i) {
            cumulative += t.latency[i];
            fmt::format_to(std::back_inserter(out), "xgress_proxy_upstream_latency_seconds_bucket{{backend=\"{}\",le=\"{}\"}} {}\n",
                           l, static_cast<double>(io::kLatencyBucketsUs[i]) / 1e6, cumulative);
        }
        cumulative += t.latency.back();
        fmt::format_to(std::back_inserter(out), "xgress_proxy_upstream_latency_seconds_bucket{{backend=\"{}\",le=\"+Inf\"}} {}\n", l,
                       cumulative);
        fmt::format_to(std::back_inserter(out), "xgress_proxy_upstream_latency_seconds_sum{{backend=\"{}\"}} {}\n", l,
                       static_cast<double>(t.latency_sum_us) / 1e6);
        fmt::format_to(std::back_inserter(out), "xgress_proxy_upstream_latency_seconds_count{{backend=\"{}\"}} {}\n", l,
                       cumulative);
    }
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
    const io::StatsTotals& t = in.totals;
    std::string out;
    out.reserve(2048);
    family(out, "requests_total", "counter", "Request heads parsed and routed or answered by the proxy.");
    sample(out, "requests_total", t.requests);
    render_routes(out, in.routes);
    family(out, "generated_responses_total", "counter",
           "Responses the proxy generated itself (no upstream answer), by status; other = 501.");
    for (std::size_t i = 0; i < io::kGeneratedStatuses.size(); ++i)
        fmt::format_to(std::back_inserter(out), "xgress_proxy_generated_responses_total{{status=\"{}\"}} {}\n",
                       io::kGeneratedStatuses[i], t.generated[i]);
    fmt::format_to(std::back_inserter(out), "xgress_proxy_generated_responses_total{{status=\"other\"}} {}\n",
                   t.generated[io::kGeneratedStatuses.size()]);
    family(out, "access_log_lines_total", "counter", "Access log lines handed to the writer thread (0 without --access-log).");
    sample(out, "access_log_lines_total", t.access_log_lines);
    family(out, "access_log_dropped_total", "counter", "Access log lines dropped because the writer fell behind.");
    sample(out, "access_log_dropped_total", t.access_log_dropped);
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
    render_tls_metrics(out, t);
    family(out, "idle_upstream_connections", "gauge", "Keep-alive upstream connections idle in the workers' pools.");
    sample(out, "idle_upstream_connections", t.idle_upstreams);
    family(out, "recv_enobufs_total", "counter",
           "Multishot receives that ended because the worker's receive buffer ring had no free buffer (re-armed).");
    sample(out, "recv_enobufs_total", t.recv_enobufs);
    family(out, "recv_held_cap_hits_total", "counter",
           "Upstream response bytes copied instead of sent from the receive buffer: the held quarter of the ring was full.");
    sample(out, "recv_held_cap_hits_total", t.recv_held_cap_hits);
    family(out, "recv_buffers_held_peak", "gauge",
           "Most receive buffers one worker has held at once for in-place sends (cap: a quarter of --recv-buffers).");
    sample(out, "recv_buffers_held_peak", t.recv_held_peak);
    family(out, "recv_buffer_bytes", "gauge",
           "Bytes of receive buffers the workers have provided to the kernel (all workers; these may be resident). "
           "Starts at --recv-buffers-initial x --recv-buffer-size per worker and doubles on demand up to --recv-buffers.");
    sample(out, "recv_buffer_bytes", t.recv_buffer_bytes);
    render_backends(out, in.backends);
    family(out, "snapshot_version", "gauge", "Version of the routing snapshot in use (0: none yet).");
    sample(out, "snapshot_version", in.snapshot_version);
    family(out, "workers", "gauge", "Worker threads (one io_uring each).");
    sample(out, "workers", in.workers);
    return out;
}

}  // namespace xgress::admin

// Routes libbpf's and libxdp's own diagnostics into spdlog so they share the
// agent's log format and level. Installed once per process.
#pragma once

namespace xgress::agent::dataplane {

void route_bpf_library_logs_to_spdlog();

}  // namespace xgress::agent::dataplane

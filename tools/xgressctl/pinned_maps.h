// Read-only view of the maps xgress-agent pinned under its pin root: the
// frontends with their per-CPU counters summed, and the global counters.
// Talks to the kernel through bpf_obj_get on the pins; needs no agent running.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "xgress/bpf_abi.h"

namespace xgress::ctl {

struct FrontendRow {
    std::string frontend;  // "203.0.113.10:80/tcp", "*node*:30080/tcp", "[2001:db8::1]:443/tcp"
    std::string name;      // "namespace/service:port" as the agent recorded it
    std::uint32_t id = 0;
    std::uint32_t listener_slot = 0;
    xgress_frontend_stats totals{};
};

struct GlobalRow {
    std::string counter;
    std::uint64_t value = 0;
};

std::expected<std::vector<FrontendRow>, std::string> read_frontends(const std::string& pin_root);
std::expected<std::vector<GlobalRow>, std::string> read_global_stats(const std::string& pin_root);

std::string describe_frontend(const xgress_frontend_key& key);

}  // namespace xgress::ctl

// Read-only view of the maps xgress-agent pinned under its pin root: the
// frontends with their per-CPU counters summed, the global counters, the
// node addresses, the source ranges and the settings.
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

struct NodeAddressRow {
    std::string address;  // "198.18.0.1", "fd00:198:18::1"
    bool ipv6 = false;
};

struct SourceRangeRow {
    std::uint32_t frontend_id = 0;
    std::string frontend;  // the frontend's address:port/proto, "" when no frontend has the id
    std::string name;
    std::string prefix;    // "10.0.0.0/8", "2001:db8::/64"
};

struct SettingsRow {
    std::uint16_t node_port_min = 0;
    std::uint16_t node_port_max = 0;
    bool drop_unallocated = false;
};

std::expected<std::vector<NodeAddressRow>, std::string> read_node_addresses(const std::string& pin_root);
std::expected<std::vector<SourceRangeRow>, std::string> read_source_ranges(const std::string& pin_root);
std::expected<SettingsRow, std::string> read_settings(const std::string& pin_root);

std::expected<std::vector<FrontendRow>, std::string> read_frontends(const std::string& pin_root);
std::expected<std::vector<GlobalRow>, std::string> read_global_stats(const std::string& pin_root);

}  // namespace xgress::ctl

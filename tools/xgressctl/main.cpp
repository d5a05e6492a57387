// xgressctl: inspect a node's xgress datapath from its pinned BPF maps.
//
//   xgressctl [--pin-root PATH] [-o table|json] frontends
//       every frontend: address:port/proto (or *node*:port/proto for a
//       NodePort), name, id, listener slot, packets/bytes/SYNs let through and
//       source-range drops, summed over CPUs
//   xgressctl [...] stats [--watch SECONDS [--count N]]
//       the global counters (what XDP and sk_lookup saw), then the frontends;
//       with --watch, per-second rates over each interval instead of totals
//   xgressctl [...] node-addrs
//       the addresses NodePort frontends match on, and the NodePort settings
//   xgressctl [...] source-ranges
//       the allowed source prefixes per frontend (loadBalancerSourceRanges)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "pinned_maps.h"

namespace {

using xgress::ctl::FrontendRow;
using xgress::ctl::GlobalRow;

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += fmt::format("\\{}", c);
        else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else out += c;
    }
    return out + "\"";
}

std::string frontends_json(const std::vector<FrontendRow>& rows) {
    std::string out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        out += fmt::format("{}{{\"frontend\":{},\"name\":{},\"id\":{},\"listener_slot\":{},\"packets\":{},"
                           "\"bytes\":{},\"syns\":{},\"source_range_drops\":{}}}",
                           i ? "," : "", json_string(r.frontend), json_string(r.name), r.id, r.listener_slot,
                           r.totals.packets, r.totals.bytes, r.totals.syns, r.totals.source_range_drops);
    }
    return out + "]";
}

void print_frontends_table(const std::vector<FrontendRow>& rows, const char* unit = "") {
    std::size_t fw = 8, nw = 4;
    for (const auto& r : rows) {
        fw = std::max(fw, r.frontend.size());
        nw = std::max(nw, r.name.size());
    }
    fmt::print("{:<{}}  {:<{}}  {:>5}  {:>4}  {:>12}  {:>14}  {:>10}  {:>10}\n", "FRONTEND", fw, "NAME", nw, "ID",
               "SLOT", fmt::format("PACKETS{}", unit), fmt::format("BYTES{}", unit), fmt::format("SYNS{}", unit),
               fmt::format("DENIED{}", unit));
    for (const auto& r : rows)
        fmt::print("{:<{}}  {:<{}}  {:>5}  {:>4}  {:>12}  {:>14}  {:>10}  {:>10}\n", r.frontend, fw, r.name, nw, r.id,
                   r.listener_slot, r.totals.packets, r.totals.bytes, r.totals.syns, r.totals.source_range_drops);
}

void print_global_table(const std::vector<GlobalRow>& rows, const char* heading = "VALUE") {
    fmt::print("{:<26}  {:>14}\n", "COUNTER", heading);
    for (const auto& r : rows) fmt::print("{:<26}  {:>14}\n", r.counter, r.value);
}

std::string global_json(const std::vector<GlobalRow>& rows) {
    std::string out = "{";
    for (std::size_t i = 0; i < rows.size(); ++i)
        out += fmt::format("{}{}:{}", i ? "," : "", json_string(rows[i].counter), rows[i].value);
    return out + "}";
}

int report(const std::string& error) {
    fmt::print(stderr, "xgressctl: {}\n", error);
    return 1;
}

// Per-second rates between two readings. Frontends are matched by id and
// key; one that appeared in between is rated from zero, one whose counters
// went backwards (id reused) is rated from zero too.
std::uint64_t rate(std::uint64_t now, std::uint64_t before, double seconds) {
    return static_cast<std::uint64_t>(static_cast<double>(now >= before ? now - before : now) / seconds + 0.5);
}

int watch_stats(const std::string& pin_root, bool json, double interval, int count) {
    using clock = std::chrono::steady_clock;
    auto global_before = xgress::ctl::read_global_stats(pin_root);
    auto frontends_before = xgress::ctl::read_frontends(pin_root);
    if (!global_before) return report(global_before.error());
    if (!frontends_before) return report(frontends_before.error());
    auto at_before = clock::now();
    for (int round = 0; count <= 0 || round < count; ++round) {
        std::this_thread::sleep_for(std::chrono::duration<double>(interval));
        auto global = xgress::ctl::read_global_stats(pin_root);
        auto frontends = xgress::ctl::read_frontends(pin_root);
        if (!global) return report(global.error());
        if (!frontends) return report(frontends.error());
        const auto at = clock::now();
        const double seconds = std::chrono::duration<double>(at - at_before).count();
        std::vector<GlobalRow> global_rates = *global;
        for (std::size_t i = 0; i < global_rates.size() && i < global_before->size(); ++i)
            global_rates[i].value = rate((*global)[i].value, (*global_before)[i].value, seconds);
        std::map<std::pair<std::uint32_t, std::string>, xgress_frontend_stats> previous;
        for (const auto& f : *frontends_before) previous[{f.id, f.frontend}] = f.totals;
        std::vector<FrontendRow> frontend_rates = *frontends;
        for (auto& f : frontend_rates) {
            const auto before = previous[{f.id, f.frontend}];
            f.totals.packets = rate(f.totals.packets, before.packets, seconds);
            f.totals.bytes = rate(f.totals.bytes, before.bytes, seconds);
            f.totals.syns = rate(f.totals.syns, before.syns, seconds);
            f.totals.source_range_drops = rate(f.totals.source_range_drops, before.source_range_drops, seconds);
        }
        if (json) {
            fmt::print("{{\"interval_seconds\":{:.3f},\"global_per_second\":{},\"frontends_per_second\":{}}}\n", seconds,
                       global_json(global_rates), frontends_json(frontend_rates));
        } else {
            fmt::print("--- rates per second over {:.2f} s\n", seconds);
            print_global_table(global_rates, "PER SECOND");
            fmt::print("\n");
            print_frontends_table(frontend_rates, "/S");
        }
        std::fflush(stdout);
        global_before = std::move(global);
        frontends_before = std::move(frontends);
        at_before = at;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Inspect the xgress datapath through its pinned BPF maps"};
    std::string pin_root = "/sys/fs/bpf/xgress";
    std::string output = "table";
    app.add_option("--pin-root", pin_root, "bpffs directory the agent pinned its maps in")->capture_default_str();
    app.add_option("-o,--output", output, "table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    auto* frontends_cmd = app.add_subcommand("frontends", "frontends with their counters");
    auto* stats_cmd = app.add_subcommand("stats", "global counters, then the frontends");
    double watch = 0;
    int count = 0;
    stats_cmd->add_option("--watch", watch, "print per-second rates every SECONDS")->check(CLI::PositiveNumber);
    stats_cmd->add_option("--count", count, "with --watch: stop after N intervals (default: forever)");
    auto* node_addrs_cmd = app.add_subcommand("node-addrs", "node addresses NodePorts match on, NodePort settings");
    auto* ranges_cmd = app.add_subcommand("source-ranges", "allowed source prefixes per frontend");
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);
    const bool json = output == "json";

    if (node_addrs_cmd->parsed()) {
        auto rows = xgress::ctl::read_node_addresses(pin_root);
        auto settings = xgress::ctl::read_settings(pin_root);
        if (!rows) return report(rows.error());
        if (!settings) return report(settings.error());
        if (json) {
            std::string list;
            for (const auto& r : *rows)
                list += fmt::format("{}{{\"address\":{},\"family\":\"{}\"}}", list.empty() ? "" : ",",
                                    json_string(r.address), r.ipv6 ? "ipv6" : "ipv4");
            fmt::print("{{\"node_addresses\":[{}],\"node_port_min\":{},\"node_port_max\":{},\"unallocated\":\"{}\"}}\n",
                       list, settings->node_port_min, settings->node_port_max,
                       settings->drop_unallocated ? "drop" : "pass");
        } else {
            fmt::print("{:<40}  {}\n", "ADDRESS", "FAMILY");
            for (const auto& r : *rows) fmt::print("{:<40}  {}\n", r.address, r.ipv6 ? "ipv6" : "ipv4");
            fmt::print("\nNodePort range {}-{}, unallocated ports {}\n", settings->node_port_min,
                       settings->node_port_max, settings->drop_unallocated ? "dropped" : "passed");
        }
        return 0;
    }
    if (ranges_cmd->parsed()) {
        auto rows = xgress::ctl::read_source_ranges(pin_root);
        if (!rows) return report(rows.error());
        if (json) {
            std::string list;
            for (const auto& r : *rows)
                list += fmt::format("{}{{\"frontend_id\":{},\"frontend\":{},\"name\":{},\"prefix\":{}}}",
                                    list.empty() ? "" : ",", r.frontend_id, json_string(r.frontend),
                                    json_string(r.name), json_string(r.prefix));
            fmt::print("[{}]\n", list);
        } else {
            std::size_t fw = 8, nw = 4;
            for (const auto& r : *rows) {
                fw = std::max(fw, r.frontend.size());
                nw = std::max(nw, r.name.size());
            }
            fmt::print("{:>5}  {:<{}}  {:<{}}  {}\n", "ID", "FRONTEND", fw, "NAME", nw, "ALLOWED SOURCE");
            for (const auto& r : *rows)
                fmt::print("{:>5}  {:<{}}  {:<{}}  {}\n", r.frontend_id, r.frontend, fw, r.name, nw, r.prefix);
        }
        return 0;
    }
    if (stats_cmd->parsed() && watch > 0) return watch_stats(pin_root, json, watch, count);

    auto frontends = xgress::ctl::read_frontends(pin_root);
    if (!frontends) return report(frontends.error());
    if (frontends_cmd->parsed()) {
        if (json) fmt::print("{}\n", frontends_json(*frontends));
        else print_frontends_table(*frontends);
        return 0;
    }
    auto global = xgress::ctl::read_global_stats(pin_root);
    if (!global) return report(global.error());
    if (json) {
        fmt::print("{{\"global\":{},\"frontends\":{}}}\n", global_json(*global), frontends_json(*frontends));
    } else {
        print_global_table(*global);
        fmt::print("\n");
        print_frontends_table(*frontends);
    }
    return 0;
}

// xgressctl: inspect a node's xgress datapath from its pinned BPF maps.
//
//   xgressctl [--pin-root PATH] [-o table|json] frontends
//       every frontend: address:port/proto (or *node*:port/proto for a
//       NodePort), name, id, listener slot, packets/bytes/SYNs summed over CPUs
//   xgressctl [--pin-root PATH] [-o table|json] stats
//       the global counters (what XDP and sk_lookup saw), then the frontends
#include <cstdio>
#include <algorithm>
#include <string>
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
                           "\"bytes\":{},\"syns\":{}}}",
                           i ? "," : "", json_string(r.frontend), json_string(r.name), r.id, r.listener_slot,
                           r.totals.packets, r.totals.bytes, r.totals.syns);
    }
    return out + "]";
}

void print_frontends_table(const std::vector<FrontendRow>& rows) {
    std::size_t fw = 8, nw = 4;
    for (const auto& r : rows) {
        fw = std::max(fw, r.frontend.size());
        nw = std::max(nw, r.name.size());
    }
    fmt::print("{:<{}}  {:<{}}  {:>5}  {:>4}  {:>12}  {:>14}  {:>10}\n", "FRONTEND", fw, "NAME", nw, "ID", "SLOT",
               "PACKETS", "BYTES", "SYNS");
    for (const auto& r : rows)
        fmt::print("{:<{}}  {:<{}}  {:>5}  {:>4}  {:>12}  {:>14}  {:>10}\n", r.frontend, fw, r.name, nw, r.id,
                   r.listener_slot, r.totals.packets, r.totals.bytes, r.totals.syns);
}

void print_global_table(const std::vector<GlobalRow>& rows) {
    fmt::print("{:<26}  {:>14}\n", "COUNTER", "VALUE");
    for (const auto& r : rows) fmt::print("{:<26}  {:>14}\n", r.counter, r.value);
}

std::string global_json(const std::vector<GlobalRow>& rows) {
    std::string out = "{";
    for (std::size_t i = 0; i < rows.size(); ++i)
        out += fmt::format("{}{}:{}", i ? "," : "", json_string(rows[i].counter), rows[i].value);
    return out + "}";
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
    app.require_subcommand(1);
    CLI11_PARSE(app, argc, argv);

    auto frontends = xgress::ctl::read_frontends(pin_root);
    if (!frontends) {
        fmt::print(stderr, "xgressctl: {}\n", frontends.error());
        return 1;
    }
    const bool json = output == "json";
    if (frontends_cmd->parsed()) {
        if (json) fmt::print("{}\n", frontends_json(*frontends));
        else print_frontends_table(*frontends);
        return 0;
    }
    if (stats_cmd->parsed()) {
        auto global = xgress::ctl::read_global_stats(pin_root);
        if (!global) {
            fmt::print(stderr, "xgressctl: {}\n", global.error());
            return 1;
        }
        if (json) {
            fmt::print("{{\"global\":{},\"frontends\":{}}}\n", global_json(*global), frontends_json(*frontends));
        } else {
            print_global_table(*global);
            fmt::print("\n");
            print_frontends_table(*frontends);
        }
    }
    return 0;
}

// Cost of an EndpointsPatch against a large snapshot (10,000 routes over
// 10,000 backends, 100,000 endpoints): the proxy's proportional path
// (RouteTable::with_endpoints + a worker's picker adopting the table) next
// to a full rebuild (RouteTable::build) and the codec's copying
// snapshot::apply_patch. Prints medians of repeated runs; asserts nothing.
//
// The swap part (the agent_scale_bench swap's shape) prints each step's
// median wall time and median CPU time of this thread: on a machine shared
// with other work the CPU time moves far less than the wall time.
//
//   proxy_patch_bench [--routes 10000] [--endpoints-per-backend 10] [--reps 21] [--swap-only] [--no-server]
//
// --no-server (implies --swap-only) times only decode and RouteTable::build,
// without starting a ProxyServer: its io_uring worker makes valgrind hang, so
// this is the mode to count instructions in:
//   valgrind --tool=callgrind proxy_patch_bench --no-server --reps 4
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <expected>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control/table_decoder.h"
#include "proxy_server.h"
#include "router/route_table.h"
#include "upstream/endpoint_picker.h"

using namespace xgress;
using clock_type = std::chrono::steady_clock;

namespace {

double thread_cpu_us() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Median wall time; `cpu` (optional) receives the median thread CPU time.
// `after` (optional) runs after each timed call, outside the timing: freeing
// what the call produced, which the proxy does after its ACK.
double median_us(int reps, const std::function<void()>& f, double* cpu = nullptr,
                 const std::function<void()>& after = {}) {
    std::vector<double> t, c;
    for (int i = 0; i < reps; ++i) {
        auto t0 = clock_type::now();
        const double c0 = thread_cpu_us();
        f();
        c.push_back(thread_cpu_us() - c0);
        t.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
        if (after) after();
    }
    std::sort(t.begin(), t.end());
    std::sort(c.begin(), c.end());
    if (cpu) *cpu = c[c.size() / 2];
    return t[t.size() / 2];
}

std::string ip(std::size_t i) {
    return "10." + std::to_string(i >> 16 & 255) + "." + std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t routes = 10000, per_backend = 10;
    int reps = 21;
    bool swap_only = false, no_server = false;
    // One pass: valued flags consume their value (reading them in pairs
    // from argv[1] misread every flag after a lone --swap-only).
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        if (!std::strcmp(argv[i], "--swap-only")) swap_only = true;
        else if (!std::strcmp(argv[i], "--no-server")) swap_only = no_server = true;
        else if (has_value && !std::strcmp(argv[i], "--routes")) routes = std::stoul(argv[++i]);
        else if (has_value && !std::strcmp(argv[i], "--endpoints-per-backend")) per_backend = std::stoul(argv[++i]);
        else if (has_value && !std::strcmp(argv[i], "--reps")) reps = std::stoi(argv[++i]);
    }
    auto server = no_server ? std::expected<std::unique_ptr<ProxyServer>, std::string>(nullptr)
                            : ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = ""});
    if (!server) {
        std::printf("proxy: %s\n", server.error().c_str());
        return 1;
    }

    // The agent_scale_bench swap's shape: 10,000 hosts with one Prefix "/"
    // route and one endpoint each, nothing hashed, every backend new (blue ->
    // green). Its proxy-side cost is decode + RouteTable::build +
    // ProxyServer::apply's own work (TLS state, keeping the applied
    // snapshot); workers then adopt the table.
    auto swap_snapshot = [&](const char* color, std::uint16_t port) {
        snapshot::Snapshot swap;
        for (std::size_t r = 0; r < routes; ++r) {
            const std::string backend = std::string(color) + "-" + std::to_string(r);
            swap.virtual_hosts.push_back({"h" + std::to_string(r) + ".example.com",
                                          {snapshot::Route{"/", snapshot::PathMatch::Prefix, backend}}, ""});
            swap.backends.push_back({backend, {snapshot::Endpoint{"127.0.0.1", port}}});
        }
        return swap;
    };
    {
        snapshot::Snapshot blue = swap_snapshot("blue", 8080), green = swap_snapshot("green", 8081);
        const std::string green_json = snapshot::encode(green);
        const int swap_reps = std::max(3, reps / 4);
        double encode_cpu = 0, decode_cpu = 0, build_cpu = 0, apply_cpu = 0, same_cpu = 0;
        // What each step produced is freed outside the timing (`after`): the
        // proxy keeps the decoded snapshot and the table, and frees the ones
        // they replace after its ACK.
        std::string encoded;
        std::optional<snapshot::Snapshot> decoded;
        std::shared_ptr<const router::RouteTable> built;
        const double encode = median_us(
            swap_reps, [&] { encoded = snapshot::encode(green); }, &encode_cpu, [&] { encoded = std::string(); });
        const double decode = median_us(
            swap_reps, [&] { decoded.emplace(*snapshot::decode(green_json)); }, &decode_cpu, [&] { decoded.reset(); });
        const double build = median_us(
            swap_reps, [&] { built = *router::RouteTable::build(green); }, &build_cpu, [&] { built.reset(); });
        // What the proxy does with a Snapshot frame now: decode straight into
        // the table (control/table_decoder.h), no snapshot::* objects.
        double fused_cpu = 0;
        const double fused = median_us(
            swap_reps, [&] { built = control::decode_table(green_json, nullptr)->table; }, &fused_cpu,
            [&] { built.reset(); });
        if (no_server) {
            std::printf("swap-shaped snapshot (%zu hosts x 1 route x 1 endpoint, %.1f MiB JSON), median of %d, wall us "
                        "(thread CPU us):\n"
                        "  encode                                    %8.0f (%8.0f)\n"
                        "  decode                                    %8.0f (%8.0f)\n"
                        "  RouteTable::build                         %8.0f (%8.0f)\n"
                        "  decode + build                            %8.0f (%8.0f)\n"
                        "  control::decode_table (straight to table) %8.0f (%8.0f)  ratio %.2fx (CPU)\n",
                        routes, green_json.size() / 1048576.0, swap_reps, encode, encode_cpu, decode, decode_cpu,
                        build, build_cpu, decode + build, decode_cpu + build_cpu, fused, fused_cpu,
                        (decode_cpu + build_cpu) / fused_cpu);
            return 0;
        }
        // Alternate blue and green so every apply replaces every backend; the
        // copies are made before timing (apply takes the snapshot over).
        std::uint64_t version = 100;
        std::vector<snapshot::Snapshot> queue;
        for (int i = 0; i < 2 * swap_reps; ++i) {
            queue.push_back(i < swap_reps ? (i % 2 ? blue : green) : ((swap_reps - 1) % 2 ? blue : green));
            queue.back().version = ++version;
        }
        std::size_t next = 0;
        // No control client ACKs here: release_retired() stands for the
        // post-ACK free, outside the timing.
        const auto release = [&] { (*server)->release_retired(); };
        const double apply = median_us(
            swap_reps, [&] { (void)(*server)->apply(std::move(queue[next++])); }, &apply_cpu, release);
        // The same routing again (a snapshot that changed nothing the table
        // holds, e.g. a certificate): every backend is shared with the serving table.
        const double same = median_us(
            swap_reps, [&] { (void)(*server)->apply(std::move(queue[next++])); }, &same_cpu, release);
        // The control client's path: the frame's JSON straight into the table, then installed.
        // Alternating from the colour the "same" runs left serving, so every backend is new.
        std::vector<std::string> frames;
        const bool blue_serving = (swap_reps - 1) % 2;
        for (int i = 0; i < swap_reps; ++i) {
            snapshot::Snapshot s = ((i % 2 == 0) != blue_serving) ? blue : green;
            s.version = ++version;
            frames.push_back(snapshot::encode(s));
        }
        std::size_t next_frame = 0;
        double json_cpu = 0;
        const double json_apply = median_us(
            swap_reps, [&] { (void)(*server)->apply_json(std::move(frames[next_frame++])); }, &json_cpu, release);
        std::printf("swap-shaped snapshot (%zu hosts x 1 route x 1 endpoint, %.1f MiB JSON), median of %d, wall us "
                    "(thread CPU us):\n"
                    "  encode                                    %8.0f (%8.0f)\n"
                    "  decode                                    %8.0f (%8.0f)\n"
                    "  RouteTable::build                         %8.0f (%8.0f)\n"
                    "  ProxyServer::apply, every backend new     %8.0f (%8.0f)  (build + TLS state + bookkeeping)\n"
                    "  decode + apply                            %8.0f (%8.0f)\n"
                    "  ProxyServer::apply, same backends again   %8.0f (%8.0f)\n"
                    "  control::decode_table (straight to table) %8.0f (%8.0f)\n"
                    "  ProxyServer::apply_json, every backend new %7.0f (%8.0f)  (the control client's path: decode_table + install)\n"
                    "  ratio (decode + apply) / apply_json       %8.2fx (%7.2fx)\n",
                    routes, green_json.size() / 1048576.0, swap_reps, encode, encode_cpu, decode, decode_cpu, build,
                    build_cpu, apply, apply_cpu, decode + apply, decode_cpu + apply_cpu, same, same_cpu, fused, fused_cpu,
                    json_apply, json_cpu, (decode + apply) / json_apply, (decode_cpu + apply_cpu) / json_cpu);
    }
    if (swap_only) {
        (*server)->stop();
        return 0;
    }

    snapshot::Snapshot s;
    s.version = 1;
    std::size_t ep = 0;
    for (std::size_t r = 0; r < routes; ++r) {
        snapshot::Backend b{"ns/svc-" + std::to_string(r) + ":80", {}};
        // Every tenth backend hashes (client_ip affinity): its Maglev table is rebuilt too.
        if (r % 10 == 0) b.affinity = snapshot::Affinity::ClientIp;
        for (std::size_t e = 0; e < per_backend; ++e) b.endpoints.push_back({ip(++ep), 8080});
        s.backends.push_back(std::move(b));
        snapshot::Route route;
        route.path = "/svc-" + std::to_string(r);
        route.backend = s.backends.back().name;
        s.virtual_hosts.push_back({"host-" + std::to_string(r % 1000) + ".example.com", {route}});
    }
    std::printf("snapshot: %zu routes, %zu backends, %zu endpoints\n", routes, s.backends.size(), ep);

    std::shared_ptr<const router::RouteTable> table;
    const double build = median_us(std::max(3, reps / 4), [&] { table = *router::RouteTable::build(s); });

    // One Service scaled: the patch names one backend (a plain one and a hashed one).
    auto patch_for = [&](std::size_t index, std::uint64_t base) {
        snapshot::Backend b = s.backends[index];
        b.endpoints.push_back({ip(++ep), 8080});
        return snapshot::EndpointsPatch{base, base + 1, {b}};
    };
    auto plain = patch_for(5, 1), hashed = patch_for(0, 1);
    const double with_plain = median_us(reps, [&] { (void)*table->with_endpoints(plain); });
    const double with_hashed = median_us(reps, [&] { (void)*table->with_endpoints(hashed); });

    upstream::EndpointPicker picker;
    picker.reset(*table, 0);
    auto patched = *table->with_endpoints(plain);
    const double picker_patch = median_us(reps, [&] {
        upstream::EndpointPicker p = picker;
        p.reset(*patched, 0, table.get());
    });
    const double picker_copy = median_us(reps, [&] { upstream::EndpointPicker p = picker; });
    const double picker_full = median_us(reps, [&] {
        upstream::EndpointPicker p;
        p.reset(*patched, 0);
    });
    const double codec_apply = median_us(reps, [&] { (void)*snapshot::apply_patch(s, plain); });

    // The whole proxy path (no workers' loop involved: they pick the table up
    // on their next completion batch): ProxyServer::apply_patch.
    (void)(*server)->apply(s);
    std::uint64_t version = 1;
    const double server_patch = median_us(reps, [&] {
        auto p = patch_for(5, version);
        (void)(*server)->apply_patch(p);
        ++version;
    });

    std::printf("RouteTable::build (full snapshot)          %10.0f us\n", build);
    std::printf("with_endpoints, 1 plain backend            %10.0f us\n", with_plain);
    std::printf("with_endpoints, 1 hashed backend (Maglev)  %10.0f us\n", with_hashed);
    std::printf("picker reset keeping unchanged backends    %10.0f us (of which copying the picker %0.0f us)\n",
                picker_patch, picker_copy);
    std::printf("picker full reset                          %10.0f us\n", picker_full);
    std::printf("ProxyServer::apply_patch (1 backend)       %10.0f us  (incl. building the patch)\n", server_patch);
    std::printf("snapshot::apply_patch (codec, copies all)  %10.0f us\n", codec_apply);
    std::printf("ratio build / with_endpoints(plain)        %10.0fx\n", build / with_plain);
    (*server)->stop();
    return 0;
}

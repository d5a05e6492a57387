// agent_scale_bench: how the agent's control plane scales, without a kernel.
//
// Generates a manifests directory with N Services (ClusterIP, one
// EndpointSlice of E endpoints each) and N/2 Ingresses of two host rules
// each (default: 10,000 Services, 100,000 endpoints, 5,000 Ingresses, 10,000
// rules), plus the publish Service and IngressClass, then measures:
//   - full sync: read + decode the directory, model, snapshot encode (what
//     the agent does at start before writing maps and pushing);
//   - peak RSS of this process and the growth per endpoint;
//   - one EndpointSlice change: (a) the reconcile pass alone (model + diff +
//     encode on the already-loaded objects), (b) the old main.cpp path on an
//     inotify event (re-read the whole directory, then reconcile), (c) what
//     main.cpp does now: re-read only the changed file (load_manifest_files),
//     then reconcile that partial load.
// Prints figures; asserts nothing.
//
//   agent_scale_bench [--services 10000] [--endpoints-per-service 10]
//                     [--changes 1000] [--full-reload-changes 20]
//                     [--incremental-changes 1000] [--keep DIR]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "k8s/manifests_source.h"
#include "reconcile/reconciler.h"

namespace {

using namespace xgress::agent;
using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point start) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

long rss_kib(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
    }
    return -1;
}

class CountingTarget : public reconcile::ApplyTarget {
public:
    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>&) override {
        ++applies;
        return {};
    }
    void publish(std::uint64_t, std::string payload) override { bytes = payload.size(); }
    int applies = 0;
    std::size_t bytes = 0;
};

std::string slice_yaml(int s, int endpoints, int generation) {
    std::string out = "kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: svc-" +
                      std::to_string(s) + "-abc, namespace: bench, labels: {kubernetes.io/service-name: svc-" +
                      std::to_string(s) + "}}\naddressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n";
    for (int e = 0; e < endpoints; ++e) {
        const int n = s * endpoints + e;
        const bool ready = !(generation & 1) || e != 0;  // a change flips endpoint 0
        out += "  - {addresses: [\"10." + std::to_string(n >> 16 & 255) + "." + std::to_string(n >> 8 & 255) + "." +
               std::to_string(n & 255) + "\"], conditions: {ready: " + (ready ? "true" : "false") +
               "}, nodeName: node-" + std::to_string(e % 50) + "}\n";
    }
    return out;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    const auto tmp = path.string() + ".tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, path);
}

void generate(const std::filesystem::path& dir, int services, int endpoints) {
    write_file(dir / "000-xgress.yaml", R"(kind: IngressClass
metadata: {name: xgress, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
)");
    for (int s = 0; s < services; ++s) {
        std::string text = "kind: Service\napiVersion: v1\nmetadata: {name: svc-" + std::to_string(s) +
                           ", namespace: bench}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n" +
                           slice_yaml(s, endpoints, 0);
        if (s % 2 == 0) {
            const std::string a = std::to_string(s), b = std::to_string(s + 1);
            text += "---\nkind: Ingress\napiVersion: networking.k8s.io/v1\nmetadata: {name: ing-" + a +
                    ", namespace: bench}\nspec:\n  rules:\n"
                    "    - host: h" + a + ".example.com\n      http: {paths: [{path: /, pathType: Prefix, backend: "
                    "{service: {name: svc-" + a + ", port: {number: 80}}}}]}\n"
                    "    - host: h" + b + ".example.com\n      http: {paths: [{path: /api, pathType: Prefix, backend: "
                    "{service: {name: svc-" + b + ", port: {name: http}}}}]}\n";
        }
        write_file(dir / ("svc-" + std::to_string(s) + ".yaml"), text);
    }
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
    int services = 10000, endpoints = 10, changes = 1000, full_reload_changes = 20, incremental_changes = 1000;
    std::string keep;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--services") services = std::atoi(argv[i + 1]);
        else if (flag == "--endpoints-per-service") endpoints = std::atoi(argv[i + 1]);
        else if (flag == "--changes") changes = std::atoi(argv[i + 1]);
        else if (flag == "--full-reload-changes") full_reload_changes = std::atoi(argv[i + 1]);
        else if (flag == "--incremental-changes") incremental_changes = std::atoi(argv[i + 1]);
        else if (flag == "--keep") keep = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    const auto dir = keep.empty() ? std::filesystem::temp_directory_path() / ("agent-scale-" + std::to_string(getpid()))
                                  : std::filesystem::path(keep);
    std::filesystem::create_directories(dir);
    const long rss_start = rss_kib("VmRSS:");
    auto t = clock_type::now();
    generate(dir, services, endpoints);
    std::printf("generated %d Services, %d endpoints, %d Ingresses (%d rules) in %s: %.0f ms\n", services,
                services * endpoints, (services + 1) / 2, services, dir.c_str(), ms_since(t));

    // Full sync.
    t = clock_type::now();
    auto loaded = k8s::load_manifests_directory(dir);
    const double load_ms = ms_since(t);
    if (!loaded || !loaded->errors.empty()) {
        std::fprintf(stderr, "load failed: %s\n", loaded ? loaded->errors.front().c_str() : loaded.error().c_str());
        return 1;
    }
    CountingTarget target;
    reconcile::Reconciler reconciler(model::Settings{}, target, 1);
    t = clock_type::now();
    auto first = reconciler.reconcile(*loaded);
    const double reconcile_ms = ms_since(t);
    std::printf("full sync: read+decode %.0f ms, model+diff+encode %.0f ms, total %.0f ms "
                "(%zu virtual hosts, %zu backends, snapshot %.1f MiB, %zu problems)\n",
                load_ms, reconcile_ms, load_ms + reconcile_ms, reconciler.state().snapshot.virtual_hosts.size(),
                reconciler.state().snapshot.backends.size(), target.bytes / 1048576.0, first.new_problems.size());
    *loaded = k8s::LoadedManifests{};  // the agent keeps only the cache
    const long rss_now = rss_kib("VmRSS:");
    std::printf("memory: peak RSS %.1f MiB, steady RSS %.1f MiB, %.0f bytes per endpoint (steady - start)\n",
                rss_kib("VmHWM:") / 1024.0, rss_now / 1024.0,
                (rss_now - rss_start) * 1024.0 / (static_cast<double>(services) * endpoints));

    // (a) One EndpointSlice change, reconcile pass only.
    auto base = k8s::load_manifests_directory(dir);
    std::vector<double> pass_ms;
    for (int c = 0; c < changes; ++c) {
        const int s = (c * 7919) % services;
        k8s::LoadedManifests changed = *base;  // not timed: stands for "the source delivered one object"
        for (std::size_t i = 0; i < changed.objects.size(); ++i) {
            auto* slice = std::get_if<k8s::EndpointSlice>(&changed.objects[i]);
            if (slice && slice->metadata.name == "svc-" + std::to_string(s) + "-abc") {
                slice->endpoints[0].ready = (c & 1) == 0 ? false : true;
            }
        }
        t = clock_type::now();
        auto pass = reconciler.reconcile(changed);
        pass_ms.push_back(ms_since(t));
        if (!pass.snapshot_published) std::fprintf(stderr, "change %d: no snapshot published\n", c);
    }
    std::printf("one EndpointSlice change, reconcile pass (model+diff+encode): p50 %.1f ms, p99 %.1f ms over %d changes\n",
                percentile(pass_ms, 0.5), percentile(pass_ms, 0.99), changes);

    // (b) What main.cpp does on an inotify event today: re-read the directory.
    std::vector<double> reload_ms;
    for (int c = 0; c < full_reload_changes; ++c) {
        const int s = (c * 7919) % services;
        write_file(dir / ("svc-" + std::to_string(s) + ".yaml"),
                   "kind: Service\napiVersion: v1\nmetadata: {name: svc-" + std::to_string(s) +
                       ", namespace: bench}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n" +
                       slice_yaml(s, endpoints, c + 1));
        t = clock_type::now();
        auto again = k8s::load_manifests_directory(dir);
        reconciler.reconcile(*again);
        reload_ms.push_back(ms_since(t));
    }
    std::printf("one EndpointSlice change, whole-directory reload + reconcile (main.cpp before): "
                "p50 %.0f ms, p99 %.0f ms over %d changes\n",
                percentile(reload_ms, 0.5), percentile(reload_ms, 0.99), full_reload_changes);
    // (c) What main.cpp does now: re-read only the file inotify named.
    std::vector<double> read_ms, total_ms;
    for (int c = 0; c < incremental_changes; ++c) {
        const int s = (c * 7919 + 13) % services;
        const std::string name = "svc-" + std::to_string(s) + ".yaml";
        write_file(dir / name, "kind: Service\napiVersion: v1\nmetadata: {name: svc-" + std::to_string(s) +
                                   ", namespace: bench}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n" +
                                   slice_yaml(s, endpoints, 1));  // endpoint 0 turns not-ready
        t = clock_type::now();
        auto partial = k8s::load_manifest_files(dir, {name});
        read_ms.push_back(ms_since(t));
        auto pass = reconciler.reconcile(partial);
        total_ms.push_back(ms_since(t));
        if (!pass.snapshot_published) std::fprintf(stderr, "incremental change %d: no snapshot published\n", c);
    }
    if (incremental_changes > 0) {
        std::printf("one EndpointSlice change, changed-file reload + reconcile (main.cpp now): p50 %.1f ms, p99 %.1f ms "
                    "(of which re-reading the file p50 %.2f ms, p99 %.2f ms) over %d changes\n",
                    percentile(total_ms, 0.5), percentile(total_ms, 0.99), percentile(read_ms, 0.5),
                    percentile(read_ms, 0.99), incremental_changes);
    }
    std::printf("peak RSS at end: %.1f MiB\n", rss_kib("VmHWM:") / 1024.0);
    if (keep.empty()) std::filesystem::remove_all(dir);
    return 0;
}

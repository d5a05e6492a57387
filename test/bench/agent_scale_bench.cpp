// agent_scale_bench: how the agent's control plane scales, without a kernel.
//
// Generates N Services (ClusterIP, one EndpointSlice of E endpoints each)
// and N/2 Ingresses of two host rules each (default: 10,000 Services,
// 100,000 endpoints, 5,000 Ingresses, 10,000 rules) plus the publish
// Service and IngressClass, as YAML (one file per Service, how the change
// loop edits them) and as JSON (one `kind: List` file per kind), and
// measures, with a real ControlServer on a unix socket and a fake proxy
// thread that decodes and applies every frame with the proxy's codec
// (snapshot::decode / decode_patch / apply_patch) and ACKs it:
//   - full sync per format: read + decode, model + encode, time until the
//     proxy ACKed (no BPF maps: the frontends are a few, not the cost);
//   - RSS growth per endpoint after the sync, and the peak;
//   - one EndpointSlice change (p50/p99 over --changes): the file re-read
//     (load_manifest_files), the reconcile pass (fast path: EndpointsPatch),
//     and the time until the proxy ACKed the new version. The debounce
//     window main.cpp waits first (--debounce-ms, default 20 ms) is NOT in
//     these figures: add it for "edit to datapath".
// Prints figures; asserts nothing.
//
//   agent_scale_bench [--services 10000] [--endpoints-per-service 10]
//                     [--changes 1000] [--format yaml|json|both] [--keep DIR]
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "k8s/manifests_source.h"
#include "push/control_server.h"
#include "push/frame.h"
#include "reconcile/reconciler.h"
#include "xgress/control.h"
#include "xgress/snapshot.h"

namespace {

using namespace xgress;
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

// ---- the fake proxy: decodes, applies, ACKs -------------------------------------------------

bool read_exact(int fd, void* data, std::size_t size) {
    auto* out = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::recv(fd, out, size, 0);
        if (n <= 0) return false;
        out += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

class FakeProxy {
public:
    explicit FakeProxy(const std::string& path) : thread_([this, path] { run(path); }) {}
    ~FakeProxy() {
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
    }
    std::atomic<std::uint64_t> patches{0}, snapshots{0}, nacks{0};
    std::atomic<double> last_decode_ms{0};

private:
    void run(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            std::perror("fake proxy: connect");
            return;
        }
        send_frame(control::MessageType::Hello, 0, R"({"pid": 1, "listeners": []})");
        snapshot::Snapshot serving;
        for (;;) {
            control::FrameHeader header{};
            if (!read_exact(fd_, &header, sizeof header)) return;
            std::string payload(header.length, '\0');
            if (!read_exact(fd_, payload.data(), payload.size())) return;
            const auto t = clock_type::now();
            std::string error;
            if (header.type == static_cast<std::uint16_t>(control::MessageType::Snapshot)) {
                auto decoded = snapshot::decode(payload);
                if (decoded) serving = std::move(*decoded), ++snapshots;
                else error = decoded.error();
            } else if (header.type == static_cast<std::uint16_t>(control::MessageType::EndpointsPatch)) {
                auto patch = snapshot::decode_patch(payload);
                if (!patch) {
                    error = patch.error();
                } else {
                    // The proxy swaps whole tables; this copies the snapshot
                    // like apply_patch must, so the figure includes that.
                    auto applied = snapshot::apply_patch(serving, *patch);
                    if (applied) serving = std::move(*applied), ++patches;
                    else error = applied.error();
                }
            }
            last_decode_ms = ms_since(t);
            if (error.empty()) {
                send_frame(control::MessageType::Ack, header.version, "");
            } else {
                ++nacks;
                std::fprintf(stderr, "fake proxy: NACK %llu: %s\n", static_cast<unsigned long long>(header.version),
                             error.c_str());
                send_frame(control::MessageType::Nack, header.version, error);
            }
        }
    }
    void send_frame(control::MessageType type, std::uint64_t version, const std::string& payload) {
        const std::string frame = push::encode_frame(type, version, payload);
        ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL);
    }
    int fd_ = -1;
    std::thread thread_;
};

struct NoSockmap : push::ListenerSink {
    std::expected<void, std::string> set_listener(std::uint32_t, int) override { return {}; }
};

// Forwards the reconciler's output to the control server, as main.cpp does.
class ServerTarget : public reconcile::ApplyTarget {
public:
    explicit ServerTarget(push::ControlServer& server) : server_(server) {}
    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>&) override {
        return {};
    }
    void publish(std::uint64_t version, std::string payload) override {
        bytes = payload.size();
        server_.publish(version, std::move(payload));
    }
    void publish_patch(std::uint64_t version, std::uint64_t base, std::string patch,
                       std::function<std::string()> full) override {
        patch_bytes = patch.size();
        server_.publish_patch(version, base, std::move(patch), std::move(full));
    }
    std::size_t bytes = 0, patch_bytes = 0;

private:
    push::ControlServer& server_;
};

// Waits until the fake proxy ACKed `version`; false after 60 s.
bool wait_for_ack(push::ControlServer& server, std::uint64_t version) {
    const auto deadline = clock_type::now() + std::chrono::seconds(60);
    while (server.last_acked_version() < version) {
        if (clock_type::now() > deadline) return false;
        server.poll_once(100);
    }
    return true;
}

// ---- manifests ------------------------------------------------------------------------------

std::string address_of(int n) {
    return "10." + std::to_string(n >> 16 & 255) + "." + std::to_string(n >> 8 & 255) + "." + std::to_string(n & 255);
}

std::string slice_yaml(int s, int endpoints, int generation) {
    std::string out = "kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: svc-" +
                      std::to_string(s) + "-abc, namespace: bench, labels: {kubernetes.io/service-name: svc-" +
                      std::to_string(s) + "}}\naddressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n";
    for (int e = 0; e < endpoints; ++e) {
        const bool ready = !(generation & 1) || e != 0;  // a change flips endpoint 0
        out += "  - {addresses: [\"" + address_of(s * endpoints + e) + "\"], conditions: {ready: " +
               (ready ? "true" : "false") + "}, nodeName: node-" + std::to_string(e % 50) + "}\n";
    }
    return out;
}

std::string service_file_yaml(int s, int endpoints, int generation) {
    std::string text = "kind: Service\napiVersion: v1\nmetadata: {name: svc-" + std::to_string(s) +
                       ", namespace: bench}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n" +
                       slice_yaml(s, endpoints, generation);
    if (s % 2 == 0) {
        const std::string a = std::to_string(s), b = std::to_string(s + 1);
        text += "---\nkind: Ingress\napiVersion: networking.k8s.io/v1\nmetadata: {name: ing-" + a +
                ", namespace: bench}\nspec:\n  rules:\n"
                "    - host: h" + a + ".example.com\n      http: {paths: [{path: /, pathType: Prefix, backend: "
                "{service: {name: svc-" + a + ", port: {number: 80}}}}]}\n"
                "    - host: h" + b + ".example.com\n      http: {paths: [{path: /api, pathType: Prefix, backend: "
                "{service: {name: svc-" + b + ", port: {name: http}}}}]}\n";
    }
    return text;
}

constexpr const char* kHeaderYaml = R"(kind: IngressClass
metadata: {name: xgress, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: xgress.io/ingress-controller}
---
kind: Service
metadata: {name: xgress, namespace: xgress-system}
spec: {type: NodePort, ports: [{name: http, port: 80, nodePort: 30080}]}
)";

void write_file(const std::filesystem::path& path, const std::string& text) {
    const auto tmp = path.string() + ".tmp";
    std::ofstream(tmp) << text;
    std::filesystem::rename(tmp, path);
}

void generate_yaml(const std::filesystem::path& dir, int services, int endpoints) {
    write_file(dir / "000-xgress.yaml", kHeaderYaml);
    for (int s = 0; s < services; ++s)
        write_file(dir / ("svc-" + std::to_string(s) + ".yaml"), service_file_yaml(s, endpoints, 0));
}

// The same objects as JSON, one `kind: List` per kind (what `kubectl get -o json` gives).
void generate_json(const std::filesystem::path& dir, int services, int endpoints) {
    write_file(dir / "000-xgress.json", R"({"kind": "List", "items": [
 {"kind": "IngressClass", "metadata": {"name": "xgress", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}},
  "spec": {"controller": "xgress.io/ingress-controller"}},
 {"kind": "Service", "metadata": {"name": "xgress", "namespace": "xgress-system"},
  "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}}]}
)");
    std::string svc = "{\"kind\": \"List\", \"apiVersion\": \"v1\", \"items\": [\n";
    std::string eps = svc, ing = svc;
    for (int s = 0; s < services; ++s) {
        const std::string n = std::to_string(s);
        svc += std::string(s ? ",\n" : "") + R"( {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc-)" + n +
               R"(", "namespace": "bench"}, "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})";
        eps += std::string(s ? ",\n" : "") + R"( {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "svc-)" +
               n + R"(-abc", "namespace": "bench", "labels": {"kubernetes.io/service-name": "svc-)" + n +
               R"("}}, "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}], "endpoints": [)";
        for (int e = 0; e < endpoints; ++e) {
            eps += std::string(e ? ", " : "") + R"({"addresses": [")" + address_of(s * endpoints + e) +
                   R"("], "conditions": {"ready": true}, "nodeName": "node-)" + std::to_string(e % 50) + "\"}";
        }
        eps += "]}";
        if (s % 2 == 0) {
            const std::string b = std::to_string(s + 1);
            ing += std::string(s ? ",\n" : "") + R"( {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "ing-)" +
                   n + R"(", "namespace": "bench"}, "spec": {"rules": [{"host": "h)" + n +
                   R"(.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "svc-)" +
                   n + R"(", "port": {"number": 80}}}}]}}, {"host": "h)" + b +
                   R"(.example.com", "http": {"paths": [{"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "svc-)" +
                   b + R"(", "port": {"name": "http"}}}}]}}]}})";
        }
    }
    write_file(dir / "services.json", svc + "\n]}\n");
    write_file(dir / "endpointslices.json", eps + "\n]}\n");
    write_file(dir / "ingresses.json", ing + "\n]}\n");
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

struct Sync {
    double load_ms = 0, reconcile_ms = 0, ack_ms = 0;
};

// Start to "the proxy serves it": read + decode, model + encode + send, ACK.
Sync full_sync(const std::filesystem::path& dir, reconcile::Reconciler& reconciler, push::ControlServer& server,
               const char* label, ServerTarget& target) {
    Sync sync;
    auto t = clock_type::now();
    auto loaded = k8s::load_manifests_directory(dir);
    sync.load_ms = ms_since(t);
    if (!loaded || !loaded->errors.empty()) {
        std::fprintf(stderr, "load failed: %s\n", loaded ? loaded->errors.front().c_str() : loaded.error().c_str());
        std::exit(1);
    }
    t = clock_type::now();
    auto pass = reconciler.reconcile(*loaded);
    sync.reconcile_ms = ms_since(t);
    t = clock_type::now();
    if (!wait_for_ack(server, pass.version)) std::fprintf(stderr, "%s: no ACK\n", label);
    sync.ack_ms = ms_since(t);
    std::printf("full sync (%s): read+decode %.0f ms, model+encode+send %.0f ms, until ACK %.0f ms, total %.0f ms "
                "(%zu objects, %zu virtual hosts, %zu backends, snapshot %.1f MiB, %zu problems)\n",
                label, sync.load_ms, sync.reconcile_ms, sync.ack_ms, sync.load_ms + sync.reconcile_ms + sync.ack_ms,
                loaded->objects.size(), reconciler.state().snapshot.virtual_hosts.size(),
                reconciler.state().snapshot.backends.size(), target.bytes / 1048576.0, pass.new_problems.size());
    return sync;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
    spdlog::set_level(spdlog::level::warn);
    int services = 10000, endpoints = 10, changes = 1000;
    std::string keep, format = "both";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--services") services = std::atoi(argv[i + 1]);
        else if (flag == "--endpoints-per-service") endpoints = std::atoi(argv[i + 1]);
        else if (flag == "--changes") changes = std::atoi(argv[i + 1]);
        else if (flag == "--format") format = argv[i + 1];
        else if (flag == "--keep") keep = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    const auto dir = keep.empty() ? std::filesystem::temp_directory_path() / ("agent-scale-" + std::to_string(getpid()))
                                  : std::filesystem::path(keep);
    const auto yaml_dir = dir / "yaml", json_dir = dir / "json";
    std::filesystem::create_directories(yaml_dir);
    std::filesystem::create_directories(json_dir);
    auto t = clock_type::now();
    generate_yaml(yaml_dir, services, endpoints);
    if (format != "yaml") generate_json(json_dir, services, endpoints);
    std::printf("generated %d Services, %d endpoints, %d Ingresses (%d rules) in %s: %.0f ms\n", services,
                services * endpoints, (services + 1) / 2, services, dir.c_str(), ms_since(t));

    NoSockmap sink;
    auto server = push::ControlServer::listen((dir / "control.sock").string(), sink);
    if (!server) {
        std::fprintf(stderr, "control server: %s\n", server.error().c_str());
        return 1;
    }
    FakeProxy proxy((dir / "control.sock").string());
    while ((*server)->proxy_count() == 0) (*server)->poll_once(100);
    ServerTarget target(**server);
    std::uint64_t next_version = 1;

    if (format == "json" || format == "both") {
        // Measured and thrown away: the change loop below edits the YAML files.
        reconcile::Reconciler reconciler(model::Settings{}, target, next_version);
        full_sync(json_dir, reconciler, **server, "JSON, one List per kind", target);
        next_version = reconciler.state().snapshot.version + 1;
    }
    malloc_trim(0);
    const long rss_start = rss_kib("VmRSS:");
    reconcile::Reconciler reconciler(model::Settings{}, target, next_version);
    full_sync(yaml_dir, reconciler, **server, "YAML, one file per Service", target);
    malloc_trim(0);
    const long rss_now = rss_kib("VmRSS:");
    std::printf("memory: peak RSS %.1f MiB, RSS after the YAML sync %.1f MiB, growth %.0f bytes per endpoint "
                "(cache + last-good per file + desired state + encoded snapshot; the decoded manifests freed)\n",
                rss_kib("VmHWM:") / 1024.0, rss_now / 1024.0,
                (rss_now - rss_start) * 1024.0 / (static_cast<double>(services) * endpoints));

    // One EndpointSlice change: rewrite one Service's file (not timed), then
    // what main.cpp does after the debounce: re-read the file, reconcile,
    // and (here) wait for the proxy's ACK.
    std::vector<double> read_ms, pass_ms, ack_ms, proxy_ms;
    int patches = 0;
    std::vector<int> generation(static_cast<std::size_t>(services), 0);  // each change flips endpoint 0's readiness
    for (int c = 0; c < changes; ++c) {
        const int s = (c * 7919 + 13) % services;
        const std::string name = "svc-" + std::to_string(s) + ".yaml";
        write_file(yaml_dir / name, service_file_yaml(s, endpoints, ++generation[static_cast<std::size_t>(s)]));
        t = clock_type::now();
        auto partial = k8s::load_manifest_files(yaml_dir, {name});
        read_ms.push_back(ms_since(t));
        auto pass = reconciler.reconcile(partial);
        pass_ms.push_back(ms_since(t));
        if (!pass.snapshot_published) {
            std::fprintf(stderr, "change %d: nothing published\n", c);
            continue;
        }
        patches += pass.patch;
        if (!wait_for_ack(**server, pass.version)) std::fprintf(stderr, "change %d: no ACK\n", c);
        ack_ms.push_back(ms_since(t));
        proxy_ms.push_back(proxy.last_decode_ms);
    }
    if (changes > 0 && !ack_ms.empty()) {
        std::printf("one EndpointSlice change (%d changes, %d as EndpointsPatch of %zu bytes; debounce window not "
                    "included):\n"
                    "  file re-read          p50 %.2f ms, p99 %.2f ms\n"
                    "  + reconcile pass      p50 %.2f ms, p99 %.2f ms\n"
                    "  + proxy ACK           p50 %.2f ms, p99 %.2f ms   (fake proxy decode+apply p50 %.2f ms, p99 %.2f ms)\n",
                    changes, patches, target.patch_bytes, percentile(read_ms, 0.5), percentile(read_ms, 0.99),
                    percentile(pass_ms, 0.5), percentile(pass_ms, 0.99), percentile(ack_ms, 0.5),
                    percentile(ack_ms, 0.99), percentile(proxy_ms, 0.5), percentile(proxy_ms, 0.99));
    }
    std::printf("proxy frames: %llu snapshots, %llu patches, %llu NACKs; peak RSS at end: %.1f MiB\n",
                static_cast<unsigned long long>(proxy.snapshots.load()),
                static_cast<unsigned long long>(proxy.patches.load()),
                static_cast<unsigned long long>(proxy.nacks.load()), rss_kib("VmHWM:") / 1024.0);
    server->reset();
    if (keep.empty()) std::filesystem::remove_all(dir);
    return 0;
}

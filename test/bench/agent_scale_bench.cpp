// agent_scale_bench: how the agent's control plane scales; without a kernel
// by default, with the real BPF datapath under --dataplane real (root).
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
// With --proxy-bin and --echo-bin (build/proxy/xgress-proxy,
// build/tools/echo/xgress-echo) it then starts the real proxy on a loopback
// port and an echo backend with two listeners ("blue", "green"), pushes a
// --rules-rule snapshot (every host routed to blue), and while a keep-alive
// request loop runs swaps the whole table for one routing every host to
// green: time until ACK, time until the loop first sees green, failed
// requests, and the proxy's RSS.
//
//   agent_scale_bench [--services 10000] [--endpoints-per-service 10]
//                     [--changes 1000] [--format yaml|json|both] [--keep DIR]
// (--format json: only the JSON sync and its memory; yaml: skip the JSON one)
//                     [--proxy-bin PATH --echo-bin PATH [--rules 10000]
//                      [--swap-only 1] [--swaps 3] [--proxy-log-level warn|info|debug]]
//                     [--local-every 10] [--dataplane fake|real]
// Every --local-every-th Service is a LoadBalancer with externalTrafficPolicy
// Local whose changes make its frontends go and come back (map writes); see
// is_local(). --dataplane real runs the agent's dataplane::Dataplane on real
// pinned maps, XDP and sk_lookup attached, in a namespace and bpffs the bench
// makes and removes (run_with_real_dataplane); the figures then include the
// map writes, printed apart (frontends, map write calls, their time).
// --swap-only 1 runs only the swap against the real proxy (seconds, not
// minutes); --proxy-log-level info/debug shows the proxy's own timings of the
// swap (transfer, decode, apply, worker adoption). --swaps N (default 3)
// swaps back and forth N times: the first swap is the worst case (the proxy
// has never freed a table, so all memory is fresh and page-faulted in), the
// later ones show a proxy that has swapped before. Each swap also prints the
// proxy's threads' CPU time, time spent runnable but waiting for a CPU, and
// minor page faults between the publish and the ACK (/proc schedstat).
#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "dataplane/dataplane.h"
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

// Runs in a child process (forked before the bench starts any thread), so
// the decoded snapshot it keeps is not counted in the agent's RSS; its own
// RSS is reported next to the agent's. Counters live in a shared mapping.
class FakeProxy {
public:
    struct Counters {
        std::atomic<std::uint64_t> patches{0}, snapshots{0}, nacks{0};
        std::atomic<double> last_decode_ms{0};
    };
    explicit FakeProxy(const std::string& path) {
        void* shared = ::mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        counters_ = new (shared) Counters;
        pid_ = ::fork();
        if (pid_ == 0) {
            run(path);
            std::_Exit(0);
        }
    }
    ~FakeProxy() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    Counters& counters() { return *counters_; }
    long rss_kib(const char* field) const;

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
                if (decoded) serving = std::move(*decoded), ++counters_->snapshots;
                else error = decoded.error();
            } else if (header.type == static_cast<std::uint16_t>(control::MessageType::EndpointsPatch)) {
                auto patch = snapshot::decode_patch(payload);
                if (!patch) {
                    error = patch.error();
                } else {
                    // In place, as the real proxy does (RouteTable::with_endpoints
                    // shares every untouched backend; proxy_patch_bench: ~0.2 ms
                    // on this scale), so the figure is the agent's and the channel's.
                    auto applied = snapshot::apply_patch_in_place(serving, *patch);
                    if (applied) ++counters_->patches;
                    else error = applied.error();
                }
            }
            counters_->last_decode_ms = ms_since(t);
            if (error.empty()) {
                send_frame(control::MessageType::Ack, header.version, "");
            } else {
                ++counters_->nacks;
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
    pid_t pid_ = -1;
    Counters* counters_ = nullptr;
};

struct NoSockmap : push::ListenerSink {
    std::expected<void, std::string> set_listener(std::uint32_t, int) override { return {}; }
};

// Forwards the reconciler's output to the control server, as main.cpp does,
// and the frontends to the real datapath when there is one (--dataplane
// real); without it the frontends are only counted.
class ServerTarget : public reconcile::ApplyTarget {
public:
    explicit ServerTarget(push::ControlServer& server) : server_(server) {}
    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& frontends) override {
        ++applies;
#ifdef XGRESS_BENCH_REAL_DATAPLANE
        if (datapath) {
            const auto t = clock_type::now();
            auto applied = datapath->apply_frontends(frontends);
            apply_ms = ms_since(t);
            last = datapath->last_apply_stats();
            if (!applied) return std::unexpected(applied.error().message);
            return {};
        }
#endif
        last = dataplane::ApplyStats{};
        last.frontends = frontends.size();
        apply_ms = 0;
        return {};
    }
#ifdef XGRESS_BENCH_REAL_DATAPLANE
    dataplane::Dataplane* datapath = nullptr;
#endif
    dataplane::ApplyStats last;  // of the latest apply_frontends
    double apply_ms = 0;         // its wall time, as the reconcile pass saw it
    int applies = 0;
    void publish(std::uint64_t version, std::string payload, std::function<std::string()> reencode) override {
        bytes = payload.size();
        server_.publish(version, std::move(payload), std::move(reencode));
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

// Slices as the EndpointSlice controller writes them, so the memory figure
// is honest: the controller's labels and trigger-time annotation, every
// condition, nodeName, zone and a targetRef to a Deployment-style Pod
// ("svc-7-5d8c7f9b6d-x2k4q") with its uid. The decoder drops what the model
// does not read; the bytes it keeps (pod names) are counted.
std::string pseudo_random(std::uint64_t seed, int length, const char* alphabet) {
    const std::size_t size = std::strlen(alphabet);
    std::string out;
    for (int i = 0; i < length; ++i) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        out += alphabet[(seed >> 33) % size];
    }
    return out;
}

std::string pod_name(int s, int e) {
    return "svc-" + std::to_string(s) + "-" + pseudo_random(static_cast<std::uint64_t>(s) * 7 + 1, 10, "bcdfghjklmnpqrstvwxz2456789") +
           "-" + pseudo_random(static_cast<std::uint64_t>(s) * 1000 + static_cast<std::uint64_t>(e) + 3, 5, "bcdfghjklmnpqrstvwxz2456789");
}

std::string pod_uid(int s, int e) {
    const std::string hex = pseudo_random(static_cast<std::uint64_t>(s) * 100003 + static_cast<std::uint64_t>(e), 32, "0123456789abcdef");
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" + hex.substr(20);
}

// Every `g_local_every`-th Service (s % g_local_every == g_local_every / 2;
// 0 = none) is a LoadBalancer with externalTrafficPolicy Local: a NodePort
// frontend and a VIP frontend that exist only while an endpoint on this node
// (kNodeName; endpoint 0 of each Service lives there) is ready. A change to
// such a Service takes that endpoint out of service (readiness probe failing:
// not ready, not serving) or back, so the change path deletes or writes BPF
// map entries. Every other change flips endpoint 0 to terminating and back
// (routing only: an EndpointsPatch, no map write).
int g_local_every = 10;
constexpr const char* kNodeName = "node-0";
constexpr int kLocalNodePortBase = 30100;  // 30080 is the publish Service's

bool is_local(int s) { return g_local_every > 0 && s % g_local_every == g_local_every / 2; }
int local_index(int s) { return s / g_local_every; }
std::string local_vip(int s) {
    const int k = local_index(s);
    return "100.64." + std::to_string(k >> 8 & 255) + "." + std::to_string(k & 255);
}

// Endpoint e of Service s; `terminating` makes it a Pod being shut down
// (not ready, still serving), `out` one whose readiness probe fails (not
// ready, not serving): what each change flips.
struct EndpointText {
    std::string address, pod, uid, node, zone;
    bool terminating = false;
    bool out = false;
};

EndpointText endpoint_text(int s, int e, int endpoints, bool flipped) {
    EndpointText t{address_of(s * endpoints + e), pod_name(s, e), pod_uid(s, e), "node-" + std::to_string(e % 50),
                   "zone-" + std::string(1, static_cast<char>('a' + e % 3)), false, false};
    (is_local(s) ? t.out : t.terminating) = flipped;
    return t;
}

const char* ready_text(const EndpointText& t) { return t.terminating || t.out ? "false" : "true"; }
const char* serving_text(const EndpointText& t) { return t.out ? "false" : "true"; }

// The Service's spec (and status) as `"key": value` members of a JSON
// object; the YAML file puts one per line (a JSON value is a YAML flow node).
std::vector<std::string> service_members(int s) {
    if (!is_local(s)) return {R"("spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]})"};
    return {R"("spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": )" +
                std::to_string(kLocalNodePortBase + local_index(s)) + "}]}",
            R"("status": {"loadBalancer": {"ingress": [{"ip": ")" + local_vip(s) + R"("}]}})"};
}

std::string service_body_json(int s) {
    std::string out;
    for (const auto& member : service_members(s)) out += (out.empty() ? "" : ", ") + member;
    return out;
}

std::string service_body_yaml(int s) {
    std::string out;
    for (const auto& member : service_members(s)) out += member + "\n";
    return out;
}

const char* kSliceAnnotation = "2026-11-22T08:00:00Z";

std::string slice_yaml(int s, int endpoints, int generation) {
    const std::string n = std::to_string(s);
    std::string out = "kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata:\n  name: svc-" + n +
                      "-abcde\n  generateName: svc-" + n + "-\n  namespace: bench\n"
                      "  labels: {endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io, "
                      "kubernetes.io/service-name: svc-" + n + "}\n"
                      "  annotations: {endpoints.kubernetes.io/last-change-trigger-time: \"" + kSliceAnnotation +
                      "\"}\naddressType: IPv4\nports: [{name: http, port: 8080, protocol: TCP}]\nendpoints:\n";
    for (int e = 0; e < endpoints; ++e) {
        const EndpointText t = endpoint_text(s, e, endpoints, (generation & 1) && e == 0);  // a change flips endpoint 0
        out += "  - {addresses: [\"" + t.address + "\"], conditions: {ready: " + ready_text(t) +
               ", serving: " + serving_text(t) + ", terminating: " + (t.terminating ? "true" : "false") + "}, nodeName: " + t.node +
               ", zone: " + t.zone + ", targetRef: {kind: Pod, name: " + t.pod + ", namespace: bench, uid: " + t.uid +
               "}}\n";
    }
    return out;
}

std::string endpoint_json(int s, int e, int endpoints) {
    const EndpointText t = endpoint_text(s, e, endpoints, false);
    return R"({"addresses": [")" + t.address +
           R"("], "conditions": {"ready": true, "serving": true, "terminating": false}, "nodeName": ")" + t.node +
           R"(", "zone": ")" + t.zone + R"(", "targetRef": {"kind": "Pod", "name": ")" + t.pod +
           R"(", "namespace": "bench", "uid": ")" + t.uid + "\"}}";
}

std::string service_file_yaml(int s, int endpoints, int generation) {
    std::string text = "kind: Service\napiVersion: v1\nmetadata: {name: svc-" + std::to_string(s) +
                       ", namespace: bench}\n" + service_body_yaml(s) + "---\n" +
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
               R"(", "namespace": "bench"}, )" + service_body_json(s) + "}";
        eps += std::string(s ? ",\n" : "") +
               R"( {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {"name": "svc-)" + n +
               R"(-abcde", "generateName": "svc-)" + n + R"(-", "namespace": "bench", "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io", "kubernetes.io/service-name": "svc-)" +
               n + R"("}, "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": ")" + kSliceAnnotation +
               R"("}}, "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}], "endpoints": [)";
        for (int e = 0; e < endpoints; ++e) eps += std::string(e ? ", " : "") + endpoint_json(s, e, endpoints);
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

// Approximate heap bytes of the big structures, to say what dominates the
// RSS figure (std::string heap only when longer than the small-string buffer;
// malloc's per-block overhead counted as 16 bytes).
std::size_t heap_of(const std::string& s) { return s.size() > 15 ? s.capacity() + 1 + 16 : 0; }
template <class T>
std::size_t vector_block(const std::vector<T>& v) { return v.capacity() ? v.capacity() * sizeof(T) + 16 : 0; }

std::size_t bytes_of(const k8s::EndpointSlice& slice) {
    std::size_t total = sizeof(k8s::Object) + 16 + vector_block(slice.endpoints) + vector_block(slice.ports);
    for (const auto& e : slice.endpoints) {
        total += std::max<std::size_t>(32, (e.heap_bytes() + 8 + 15) & ~std::size_t{15});  // the packed block
    }
    for (const auto& [k, v] : slice.metadata.labels) total += 64 + 16 + heap_of(k) + heap_of(v);  // map node
    return total;
}

std::size_t bytes_of(const snapshot::Snapshot& s) {
    std::size_t total = vector_block(s.backends) + vector_block(s.virtual_hosts);
    for (const auto& b : s.backends) {
        total += heap_of(b.name) + vector_block(b.endpoints);
        for (const auto& e : b.endpoints) total += heap_of(e.address);
    }
    for (const auto& vh : s.virtual_hosts) {
        total += heap_of(vh.host) + vector_block(vh.routes);
        for (const auto& r : vh.routes) total += heap_of(r.path) + heap_of(r.backend);
    }
    return total;
}

// ---- the 10,000-rule swap against the real proxy ----------------------------------------------

pid_t spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    return pid;
}

void stop(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

long child_rss_kib(pid_t pid, const char* field) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
    }
    return -1;
}

long FakeProxy::rss_kib(const char* field) const { return child_rss_kib(pid_, field); }

snapshot::Snapshot routing_table(int rules, const char* color, std::uint16_t port) {
    snapshot::Snapshot s;
    for (int i = 0; i < rules; ++i) {
        const std::string backend = std::string(color) + "-" + std::to_string(i);
        s.virtual_hosts.push_back(snapshot::VirtualHost{"h" + std::to_string(i) + ".example.com",
                                                        {snapshot::Route{"/", snapshot::PathMatch::Prefix, backend}},
                                                        ""});
        s.backends.push_back(snapshot::Backend{backend, {snapshot::Endpoint{"127.0.0.1", port}}});
    }
    std::sort(s.backends.begin(), s.backends.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return s;
}

int connect_tcp(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

// One keep-alive GET; returns the status (0 = transport failure) and the body.
int http_get(int& fd, std::uint16_t port, const std::string& host, std::string& body) {
    if (fd < 0) fd = connect_tcp(port);
    if (fd < 0) return 0;
    const std::string request = "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        ::close(fd);
        fd = -1;
        return 0;
    }
    std::string data;
    char buffer[4096];
    std::size_t head_end = std::string::npos, length = 0;
    while (true) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            ::close(fd);
            fd = -1;
            return 0;
        }
        data.append(buffer, static_cast<std::size_t>(n));
        if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
            const auto cl = data.find("Content-Length: ");
            length = cl == std::string::npos || cl > head_end ? 0 : std::strtoul(data.c_str() + cl + 16, nullptr, 10);
        }
        if (head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
    }
    body = data.substr(head_end + 4, length);
    if (data.find("Connection: close") < head_end) {
        ::close(fd);
        fd = -1;
    }
    return data.size() > 12 ? std::atoi(data.c_str() + 9) : 0;
}

// CPU accounting of every thread of a process, for where a swap's wall time
// goes: on a CPU (run), runnable but waiting for one (wait: the other
// processes and helpers on these 2 CPUs), and page faults (first touch of
// fresh memory; expensive in this VM). From /proc/PID/task/*/schedstat and stat.
struct ThreadTimes {
    long tid = 0;
    double run_ms = 0, wait_ms = 0;
    long minflt = 0;
};

std::vector<ThreadTimes> thread_times(pid_t pid) {
    std::vector<ThreadTimes> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        ThreadTimes t;
        t.tid = std::atol(entry.path().filename().c_str());
        std::ifstream sched(entry.path() / "schedstat");
        unsigned long long run = 0, wait = 0;
        sched >> run >> wait;
        t.run_ms = run / 1e6;
        t.wait_ms = wait / 1e6;
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        // Fields after the ")" of comm: state ppid pgrp session tty tpgid flags minflt ...
        const auto close = text.rfind(')');
        if (close != std::string::npos) {
            std::istringstream rest(text.substr(close + 2));
            std::string field;
            for (int i = 0; i < 7 && rest >> field; ++i) {
            }
            rest >> t.minflt;
        }
        out.push_back(t);
    }
    return out;
}

// Prints, per thread that ran, the run / runqueue-wait / fault deltas.
void print_thread_deltas(const char* what, const std::vector<ThreadTimes>& before, const std::vector<ThreadTimes>& after) {
    std::printf("  %s: proxy threads (run ms / waiting for a CPU ms / minor faults):", what);
    for (const auto& a : after) {
        ThreadTimes b;
        for (const auto& x : before)
            if (x.tid == a.tid) b = x;
        const double run = a.run_ms - b.run_ms;
        if (run < 0.5) continue;
        std::printf(" [tid %ld: %.1f / %.1f / %ld]", a.tid, run, a.wait_ms - b.wait_ms, a.minflt - b.minflt);
    }
    std::printf("\n");
}

void swap_bench(const std::filesystem::path& dir, const std::string& proxy_bin, const std::string& echo_bin,
                int rules, int swaps, const std::string& proxy_log_level) {
    const std::uint16_t base = static_cast<std::uint16_t>(20000 + getpid() % 20000);
    const std::uint16_t blue = base, green = base + 1, listen = base + 2;
    const pid_t echo = spawn({echo_bin, "--pod", "bench", "--namespace", "bench", "--listen",
                              "127.0.0.1:" + std::to_string(blue) + "=blue", "--listen",
                              "127.0.0.1:" + std::to_string(green) + "=green"});
    NoSockmap sink;
    auto server = push::ControlServer::listen((dir / "swap.sock").string(), sink);
    if (!server || echo <= 0) {
        std::fprintf(stderr, "swap: cannot start the echo backend or the control socket\n");
        stop(echo);
        return;
    }
    const pid_t proxy = spawn({proxy_bin, "--listen", "127.0.0.1:" + std::to_string(listen), "--admin", "",
                               "--workers", "1", "--control-socket", (dir / "swap.sock").string(), "--log-level",
                               proxy_log_level});
    const auto deadline = clock_type::now() + std::chrono::seconds(10);
    while ((*server)->proxy_count() == 0 && clock_type::now() < deadline) (*server)->poll_once(50);
    if ((*server)->proxy_count() == 0) {
        std::fprintf(stderr, "swap: the proxy did not connect\n");
        stop(proxy);
        stop(echo);
        return;
    }
    const long rss_before = child_rss_kib(proxy, "VmRSS:");
    snapshot::Snapshot a = routing_table(rules, "blue", blue);
    a.version = 1;
    auto threads_before = thread_times(proxy);
    auto t = clock_type::now();
    (*server)->publish(1, snapshot::encode(a));
    wait_for_ack(**server, 1);
    const double first_ms = ms_since(t);
    print_thread_deltas("first snapshot", threads_before, thread_times(proxy));
    std::printf("proxy: %d-rule snapshot (%.1f MiB) encoded, sent and ACKed in %.0f ms; proxy RSS %.1f MiB "
                "(%.1f MiB before the snapshot), peak %.1f MiB\n",
                rules, snapshot::encode(a).size() / 1048576.0, first_ms, child_rss_kib(proxy, "VmRSS:") / 1024.0,
                rss_before / 1024.0, child_rss_kib(proxy, "VmHWM:") / 1024.0);

    std::atomic<bool> running{true};
    std::atomic<long> requests{0}, failures{0};
    // The colour the current swap routes to ("green", "blue"), and when the
    // loop first got a response from it: "took effect" is the first response
    // from the new table, timed from the moment encoding began.
    std::atomic<const char*> want{nullptr};
    std::atomic<std::int64_t> seen_ns{0};
    std::thread loop([&] {
        int fd = -1;
        std::string body;
        for (int i = 0; running; ++i) {
            const int status = http_get(fd, listen, "h" + std::to_string((i * 7) % rules) + ".example.com", body);
            ++requests;
            const char* colour = want.load();
            if (status != 200) ++failures;
            else if (colour && seen_ns == 0 && body.find(colour) != std::string::npos)
                seen_ns = clock_type::now().time_since_epoch().count();
        }
        if (fd >= 0) ::close(fd);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Swap 1 replaces the first table while it is still the only one the
    // proxy ever built (all its memory is fresh); later swaps show a proxy
    // that has swapped before (memory of retired tables to reuse).
    for (int k = 1; k <= swaps; ++k) {
        const long before_swap = requests, failed_before = failures;
        const bool to_green = k % 2 == 1;
        snapshot::Snapshot b = routing_table(rules, to_green ? "green" : "blue", to_green ? green : blue);
        const std::uint64_t version = static_cast<std::uint64_t>(k) + 1;
        b.version = version;
        seen_ns = 0;
        want = to_green ? "green" : "blue";
        threads_before = thread_times(proxy);
        t = clock_type::now();
        std::string encoded = snapshot::encode(b);
        const double encode_ms = ms_since(t);
        (*server)->publish(version, std::move(encoded));
        wait_for_ack(**server, version);
        const double ack_ms = ms_since(t);
        const auto threads_at_ack = thread_times(proxy);
        const auto swap_start = t;
        while (seen_ns == 0 && ms_since(t) < 5000) (*server)->poll_once(5);
        const double effect_ms =
            seen_ns ? std::chrono::duration<double, std::milli>(
                          clock_type::time_point(clock_type::duration(seen_ns.load())) - swap_start)
                          .count()
                    : -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::printf("proxy: %d-rule swap %d/%d under a request loop: encoded+sent+ACKed in %.0f ms (encode %.0f ms), "
                    "first response from the new table %.0f ms after publish; %ld requests from the publish to 300 ms "
                    "after the new table answered, %ld failed; proxy peak RSS %.1f MiB\n",
                    rules, k, swaps, ack_ms, encode_ms, effect_ms, requests.load() - before_swap,
                    failures.load() - failed_before, child_rss_kib(proxy, "VmHWM:") / 1024.0);
        print_thread_deltas("publish to ACK", threads_before, threads_at_ack);
    }
    running = false;
    loop.join();
    std::printf("proxy: %ld requests during the swaps, %ld failed\n", requests.load(), failures.load());
    server->reset();
    stop(proxy);
    stop(echo);
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

struct Sync {
    double load_ms = 0, reconcile_ms = 0, ack_ms = 0;
};

bool has_datapath(const ServerTarget& target) {
#ifdef XGRESS_BENCH_REAL_DATAPLANE
    return target.datapath != nullptr;
#else
    (void)target;
    return false;
#endif
}

// The latest apply_frontends as the datapath measured it (inside the reconcile pass).
void print_datapath(const ServerTarget& target, const char* indent) {
    const dataplane::ApplyStats& a = target.last;
    if (!has_datapath(target)) {
        std::printf("%sfrontends: %zu (fake dataplane: no BPF map written; --dataplane real writes them)\n", indent,
                    a.frontends);
        return;
    }
    std::printf("%sfrontends: %zu (%zu planned: %s; %zu written, %zu deleted; source ranges %zu added, %zu deleted); "
                "map writes: %zu calls, %zu entries, %.1f ms; read-back %.1f ms (%zu lookups); VIP local "
                "routes %.1f ms; apply_frontends %.1f ms of the pass (CPU %.1f ms)\n",
                indent, a.frontends, a.planned, a.incremental ? "changed keys" : "all", a.written, a.deleted,
                a.ranges_added, a.ranges_deleted, a.map_write_calls, a.map_write_elements, a.write_ms,
                a.read_ms, a.map_read_calls, a.routes_ms, target.apply_ms, a.cpu_ms);
}

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
    // XGRESS_BENCH_STAGES=1: RSS and heap in use after each stage (each
    // after a malloc_trim, which the agent does not do between them), to
    // tell held memory from allocator slack per stage. Untimed figures only.
    const bool stages = std::getenv("XGRESS_BENCH_STAGES") != nullptr;
    auto stage = [&](const char* name) {
        if (!stages) return;
        malloc_trim(0);
        std::printf("  stage %-28s RSS %.1f MiB, heap in use %.1f MiB\n", name, rss_kib("VmRSS:") / 1024.0,
                    static_cast<double>(mallinfo2().uordblks) / 1048576.0);
        static int n = 0;
        if (const char* path = std::getenv("XGRESS_BENCH_MALLOC_INFO")) {  // malloc_info XML: free chunks by size
            if (FILE* f = std::fopen((std::string(path) + "." + std::to_string(++n)).c_str(), "w")) {
                malloc_info(0, f);
                std::fclose(f);
            }
        }
    };
    stage("after the load:");
    t = clock_type::now();
    auto pass = reconciler.reconcile(*loaded);
    sync.reconcile_ms = ms_since(t);
    stage("after the reconcile pass:");
    t = clock_type::now();
    if (!wait_for_ack(server, pass.version)) std::fprintf(stderr, "%s: no ACK\n", label);
    sync.ack_ms = ms_since(t);
    std::printf("full sync (%s): read+decode %.0f ms, model+encode+send %.0f ms, until ACK %.0f ms, total %.0f ms "
                "(%zu objects, %zu virtual hosts, %zu backends, snapshot %.1f MiB, %zu problems)\n",
                label, sync.load_ms, sync.reconcile_ms, sync.ack_ms, sync.load_ms + sync.reconcile_ms + sync.ack_ms,
                loaded->objects.size(), reconciler.state().snapshot.virtual_hosts.size(),
                reconciler.state().snapshot.backends.size(), target.bytes / 1048576.0, pass.new_problems.size());
    print_datapath(target, "  ");
    if (stages) *loaded = k8s::LoadedManifests{};  // otherwise freed on return, as before
    stage("after the load is freed:");
    return sync;
}


struct Config {
    int services = 10000, endpoints = 10, changes = 1000, rules = 10000;
    std::string keep, format = "both", proxy_bin, echo_bin, proxy_log_level = "warn", dataplane = "fake";
    bool swap_only = false;
    int swaps = 3;
};

// ---- --dataplane real: a private node namespace, bpffs and the real Dataplane --------------

// Everything the bench makes for the real datapath, all named after its pid
// so runs never collide: namespace xgh-agent-<pid> with a veth pair (xga0
// carries the node address, XDP attaches there; its peer xga1 only keeps the
// link up), and a bpffs at /run/xgh-agent-<pid>/bpffs for the pins (the
// host's /sys/fs/bpf is not touched). The parent process makes it, runs the
// bench in a child process inside the namespace, and removes it all when the
// child ends however it ends (signals are forwarded to the child).
struct NodeNamespace {
    std::string name, state_dir, bpffs, pin_root;
    std::string interface = "xga0", peer = "xga1", address = "198.18.0.1";
};

int run_command(const std::vector<std::string>& args) {
    const pid_t pid = spawn(args);
    if (pid <= 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void remove_node_namespace(const NodeNamespace& ns) {
    run_command({"/usr/bin/env", "ip", "netns", "del", ns.name});  // XDP, sk_lookup, routes go with it
    if (::umount2(ns.bpffs.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        std::fprintf(stderr, "umount %s: %s\n", ns.bpffs.c_str(), std::strerror(errno));  // the pins go with it
    std::error_code ec;
    std::filesystem::remove(ns.bpffs, ec);
    std::filesystem::remove(ns.state_dir, ec);
}

bool make_node_namespace(NodeNamespace& ns) {
    const std::string pid = std::to_string(getpid());
    ns.name = "xgh-agent-" + pid;
    ns.state_dir = "/run/xgh-agent-" + pid;
    ns.bpffs = ns.state_dir + "/bpffs";
    ns.pin_root = ns.bpffs + "/xgress";
    std::error_code ec;
    std::filesystem::create_directories(ns.bpffs, ec);
    if (ec || ::mount("bpf", ns.bpffs.c_str(), "bpf", 0, "mode=0700") != 0) {
        std::fprintf(stderr, "mount bpffs at %s: %s\n", ns.bpffs.c_str(), ec ? ec.message().c_str() : std::strerror(errno));
        return false;
    }
    const std::vector<std::vector<std::string>> steps = {
        {"ip", "netns", "add", ns.name},
        {"ip", "-n", ns.name, "link", "set", "lo", "up"},
        {"ip", "-n", ns.name, "link", "add", ns.interface, "type", "veth", "peer", "name", ns.peer},
        {"ip", "-n", ns.name, "addr", "add", ns.address + "/24", "dev", ns.interface},
        {"ip", "-n", ns.name, "link", "set", ns.interface, "up"},
        {"ip", "-n", ns.name, "link", "set", ns.peer, "up"},
    };
    for (auto step : steps) {
        step.insert(step.begin(), "/usr/bin/env");
        if (run_command(step) != 0) {
            std::string text;
            for (std::size_t i = 1; i < step.size(); ++i) text += " " + step[i];
            std::fprintf(stderr, "failed:%s\n", text.c_str());
            return false;
        }
    }
    return true;
}

volatile sig_atomic_t g_child = 0;
void forward_signal(int signal) {
    if (g_child > 0) ::kill(-g_child, signal);
}

int bench(const Config& config, const NodeNamespace* node);

// The parent: makes the namespace, runs the bench in a child inside it, cleans up.
int run_with_real_dataplane(const Config& config) {
    if (geteuid() != 0) {
        std::fprintf(stderr, "--dataplane real needs root (network namespace, bpffs, BPF programs)\n");
        return 2;
    }
    NodeNamespace ns;
    struct sigaction action {};
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
    int rc = 1;
    if (make_node_namespace(ns)) {
        std::fflush(stdout);
        const pid_t child = ::fork();
        if (child == 0) {
            ::setpgid(0, 0);  // its own group: the parent can end every process the bench started
            for (int signal : {SIGINT, SIGTERM, SIGHUP}) ::signal(signal, SIG_DFL);
            const int fd = ::open(("/run/netns/" + ns.name).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
                std::perror("enter the node namespace");
                std::_Exit(1);
            }
            ::close(fd);
            ::setenv("LIBXDP_BPFFS", ns.bpffs.c_str(), 1);
            const int code = bench(config, &ns);
            std::fflush(stdout);
            std::fflush(stderr);
            std::_Exit(code);
        }
        if (child > 0) {
            ::setpgid(child, child);
            g_child = child;
            int status = 0;
            while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
            }
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            ::kill(-child, SIGKILL);  // whatever the bench started and left (proxy, echo, fake proxy)
            g_child = 0;
            std::error_code ec;  // the child's manifests, when it did not get to remove them
            if (config.keep.empty())
                std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                                ("agent-scale-" + std::to_string(child)),
                                            ec);
        }
    }
    remove_node_namespace(ns);
    std::printf("removed namespace %s and the bpffs at %s\n", ns.name.c_str(), ns.bpffs.c_str());
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
    spdlog::set_level(spdlog::level::warn);
    Config c;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--services") c.services = std::atoi(argv[i + 1]);
        else if (flag == "--endpoints-per-service") c.endpoints = std::atoi(argv[i + 1]);
        else if (flag == "--changes") c.changes = std::atoi(argv[i + 1]);
        else if (flag == "--format") c.format = argv[i + 1];
        else if (flag == "--keep") c.keep = argv[i + 1];
        else if (flag == "--proxy-bin") c.proxy_bin = argv[i + 1];
        else if (flag == "--echo-bin") c.echo_bin = argv[i + 1];
        else if (flag == "--rules") c.rules = std::atoi(argv[i + 1]);
        else if (flag == "--proxy-log-level") c.proxy_log_level = argv[i + 1];
        else if (flag == "--swap-only") c.swap_only = std::string(argv[i + 1]) != "0";
        else if (flag == "--swaps") c.swaps = std::max(1, std::atoi(argv[i + 1]));
        else if (flag == "--dataplane") c.dataplane = argv[i + 1];
        else if (flag == "--local-every") g_local_every = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    if (g_local_every > 0 && c.services / g_local_every > 32767 - kLocalNodePortBase) {
        std::fprintf(stderr, "--local-every %d: more Local Services than NodePorts\n", g_local_every);
        return 2;
    }
    if (c.dataplane == "real") return run_with_real_dataplane(c);
    if (c.dataplane != "fake") {
        std::fprintf(stderr, "--dataplane must be fake or real\n");
        return 2;
    }
    return bench(c, nullptr);
}

namespace {

int bench(const Config& config, const NodeNamespace* node) {
    const int services = config.services, endpoints = config.endpoints, changes = config.changes, rules = config.rules;
    const std::string &keep = config.keep, &format = config.format, &proxy_bin = config.proxy_bin,
                      &echo_bin = config.echo_bin, &proxy_log_level = config.proxy_log_level;
    const bool swap_only = config.swap_only;
    const auto dir = keep.empty() ? std::filesystem::temp_directory_path() / ("agent-scale-" + std::to_string(getpid()))
                                  : std::filesystem::path(keep);
    if (swap_only) {
        if (proxy_bin.empty() || echo_bin.empty()) {
            std::fprintf(stderr, "--swap-only 1 needs --proxy-bin and --echo-bin\n");
            return 2;
        }
        std::filesystem::create_directories(dir);
        swap_bench(dir, proxy_bin, echo_bin, rules, config.swaps, proxy_log_level);
        if (keep.empty()) std::filesystem::remove_all(dir);
        return 0;
    }
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
    model::Settings settings;
    settings.node_name = kNodeName;  // externalTrafficPolicy Local: endpoint 0 of each Service is here
#ifdef XGRESS_BENCH_REAL_DATAPLANE
    std::optional<dataplane::Dataplane> datapath;
    if (node) {
        dataplane::Options options;
        options.pin_root = node->pin_root;
        options.interfaces = {node->interface};
        t = clock_type::now();
        auto opened = dataplane::Dataplane::open(options);
        if (!opened) {
            std::fprintf(stderr, "dataplane: %s\n", opened.error().message.c_str());
            return 1;
        }
        datapath.emplace(std::move(*opened));
        dataplane::IpAddress address;
        inet_pton(AF_INET, node->address.c_str(), address.bytes.data());
        if (auto set = datapath->set_node_addresses({address}); !set) {
            std::fprintf(stderr, "dataplane: %s\n", set.error().message.c_str());
            return 1;
        }
        std::printf("real dataplane in namespace %s: XDP on %s (%s), sk_lookup attached, pins under %s; open + node "
                    "address %.0f ms (not in the sync figures: the agent does it once at start)\n",
                    node->name.c_str(), node->interface.c_str(), node->address.c_str(), node->pin_root.c_str(),
                    ms_since(t));
        target.datapath = &*datapath;
    }
#else
    if (node) {
        std::fprintf(stderr, "--dataplane real: built without agent/dataplane\n");
        return 2;
    }
#endif
    // Each full sync starts from empty maps, as a first start does (untimed).
    auto clear_datapath = [&] {
#ifdef XGRESS_BENCH_REAL_DATAPLANE
        if (datapath)
            if (auto cleared = datapath->apply_frontends({}); !cleared)
                std::fprintf(stderr, "dataplane: clear: %s\n", cleared.error().message.c_str());
#endif
    };

    if (format == "json" || format == "both") {
        // Measured and thrown away: the change loop below edits the YAML files.
        malloc_trim(0);
        const long rss_before = rss_kib("VmRSS:");
        const std::size_t heap_before = mallinfo2().uordblks;
        clear_datapath();
        reconcile::Reconciler reconciler(settings, target, next_version);
        full_sync(json_dir, reconciler, **server, "JSON, one List per kind", target);
        // As for YAML below: the encoded copy goes once the proxy ACKed it.
        for (int i = 0; i < 20 && (*server)->retained_payload_bytes() != 0; ++i) (*server)->poll_once(10);
        malloc_trim(0);  // what xgress-agent (main.cpp) does after its first sync
        const double n = static_cast<double>(services) * endpoints;
        std::printf("memory after the JSON sync (agent process only): RSS growth %.0f bytes per endpoint, heap in "
                    "use %.0f\n",
                    (rss_kib("VmRSS:") - rss_before) * 1024.0 / n,
                    (static_cast<double>(mallinfo2().uordblks) - static_cast<double>(heap_before)) / n);
        next_version = reconciler.state().snapshot.version + 1;
        if (format == "json") {  // JSON only: no YAML sync, no change loop (the loop edits YAML files)
            server->reset();
            if (keep.empty()) std::filesystem::remove_all(dir);
            return 0;
        }
    }
    malloc_trim(0);
    const long rss_start = rss_kib("VmRSS:");
    const std::size_t heap_start = mallinfo2().uordblks;
    clear_datapath();
    reconcile::Reconciler reconciler(settings, target, next_version);
    full_sync(yaml_dir, reconciler, **server, "YAML, one file per Service", target);
    malloc_trim(0);  // what xgress-agent (main.cpp) does after its first sync
    const long rss_now = rss_kib("VmRSS:");
    const std::size_t heap_now = mallinfo2().uordblks;
    // The agent alone: the fake proxy runs in its own process (reported below).
    for (int i = 0; i < 20 && (*server)->retained_payload_bytes() != 0; ++i) (*server)->poll_once(10);
    std::printf("memory (agent process only): peak RSS %.1f MiB, RSS after the YAML sync %.1f MiB, growth %.0f "
                "bytes per endpoint (cache + last-good per file + desired state; the decoded manifests freed; "
                "encoded snapshot still held: %zu bytes)\n",
                rss_kib("VmHWM:") / 1024.0, rss_now / 1024.0,
                (rss_now - rss_start) * 1024.0 / (static_cast<double>(services) * endpoints),
                (*server)->retained_payload_bytes());
    std::printf("  heap in use (mallinfo2) grew %.0f bytes per endpoint; the rest of the RSS growth is allocator "
                "slack (free blocks between live ones)\n",
                (static_cast<double>(heap_now) - static_cast<double>(heap_start)) / (static_cast<double>(services) * endpoints));
    std::printf("memory (fake proxy process, not the agent): RSS %.1f MiB, peak %.1f MiB\n",
                proxy.rss_kib("VmRSS:") / 1024.0, proxy.rss_kib("VmHWM:") / 1024.0);
    {
        const double n = static_cast<double>(services) * endpoints;
        std::size_t slices = 0;
        for (const k8s::EndpointSlice* slice : reconciler.objects().list<k8s::EndpointSlice>()) slices += bytes_of(*slice);
        std::printf("  of which (approximate, per endpoint): EndpointSlice objects in the cache %.0f B; desired "
                    "snapshot %.0f B; encoded snapshot %.0f B when sent, %.0f B kept after every proxy ACKed; "
                    "the rest: Services, Ingresses, maps, allocator slack\n",
                    slices / n, bytes_of(reconciler.state().snapshot) / n, target.bytes / n,
                    (*server)->retained_payload_bytes() / n);
    }

    {
        // Where the per-file bookkeeping goes: the same files loaded again
        // (objects held by `loaded`), then the heap a bare cache and a
        // LastGoodObjects add on top; their difference is the per-file part.
        const double n = static_cast<double>(services) * endpoints;
        malloc_trim(0);
        const double before_state = static_cast<double>(mallinfo2().uordblks);
        double state_bytes = 0;
        {
            const model::DesiredState copy = reconciler.state();  // a copy's heap: about what the reconciler keeps
            state_bytes = static_cast<double>(mallinfo2().uordblks) - before_state;
        }
        malloc_trim(0);
        const double before_load = static_cast<double>(mallinfo2().uordblks);
        auto loaded = k8s::load_manifests_directory(yaml_dir);
        malloc_trim(0);
        const double base = static_cast<double>(mallinfo2().uordblks);
        double cache_bytes = 0, last_good_bytes = 0;
        {
            std::vector<std::string> messages;
            const k8s::ObjectCache cache = k8s::build_cache(*loaded, messages);
            cache_bytes = static_cast<double>(mallinfo2().uordblks) - base;
        }
        {
            std::vector<std::string> messages;
            k8s::LastGoodObjects last_good;
            last_good.update(*loaded, messages);
            last_good.forget_last_update();
            last_good_bytes = static_cast<double>(mallinfo2().uordblks) - base;
        }
        const double files = static_cast<double>(loaded->files.size());
        std::printf("  heap per endpoint (mallinfo2 deltas, the YAML files loaded again): desired state (a copy) %.0f B; "
                    "decoded objects of every kind + the load's lists %.0f B; object cache index %.0f B; "
                    "LastGoodObjects (cache + per-file bookkeeping) %.0f B, i.e. %.0f B per file over %.0f files\n",
                    state_bytes / n, (base - before_load) / n, cache_bytes / n, last_good_bytes / n,
                    (last_good_bytes - cache_bytes) / files, files);
    }

    {
        // What a change pays when it needs the whole model (any change to
        // something other than EndpointSlices; Local frontend toggles no
        // longer do): the model over every object, then a whole snapshot.
        auto t0 = clock_type::now();
        const model::DesiredState whole = model::compute_desired_state(reconciler.objects(), settings);
        const double model_ms = ms_since(t0);
        t0 = clock_type::now();
        const std::size_t encoded = snapshot::encode(whole.snapshot).size();
        std::printf("whole-model pass, the parts (once, after the sync): compute_desired_state %.0f ms, snapshot "
                    "encode %.0f ms (%.1f MiB)\n",
                    model_ms, ms_since(t0), encoded / 1048576.0);
    }

    // One EndpointSlice change: rewrite one Service's file (not timed), then
    // what main.cpp does after the debounce: re-read the file, reconcile,
    // and (here) wait for the proxy's ACK.
    std::vector<double> read_ms, pass_ms, ack_ms, proxy_ms;
    // Changes whose pass wrote the datapath (a Local frontend appeared or went)
    // and the others (routing only), apart: their costs differ by orders.
    std::vector<double> map_pass_ms, map_ack_ms, map_apply_ms, map_apply_cpu_ms, map_write_ms, map_calls, other_ack_ms;
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
        proxy_ms.push_back(proxy.counters().last_decode_ms);
        if (pass.frontends_applied) {
            map_pass_ms.push_back(pass_ms.back());
            map_ack_ms.push_back(ack_ms.back());
            map_apply_ms.push_back(target.apply_ms);
            map_apply_cpu_ms.push_back(target.last.cpu_ms);
            map_write_ms.push_back(target.last.write_ms);
            map_calls.push_back(static_cast<double>(target.last.map_write_calls));
        } else {
            other_ack_ms.push_back(ack_ms.back());
        }
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
        if (!other_ack_ms.empty())
            std::printf("  routing-only changes (%zu; no map write): until ACK p50 %.2f ms, p99 %.2f ms\n",
                        other_ack_ms.size(), percentile(other_ack_ms, 0.5), percentile(other_ack_ms, 0.99));
        if (!map_ack_ms.empty())
            std::printf("  Local frontend toggles (%zu; %s): reconcile pass p50 %.2f ms, p99 %.2f ms; of which "
                        "apply_frontends p50 %.2f ms, p99 %.2f ms (CPU p50 %.2f ms, p99 %.2f ms), map writes p50 "
                        "%.3f ms, p99 %.3f ms (%.0f-%.0f calls); until ACK p50 %.2f ms, p99 %.2f ms\n",
                        map_ack_ms.size(), has_datapath(target) ? "BPF maps written" : "fake dataplane",
                        percentile(map_pass_ms, 0.5), percentile(map_pass_ms, 0.99), percentile(map_apply_ms, 0.5),
                        percentile(map_apply_ms, 0.99), percentile(map_apply_cpu_ms, 0.5),
                        percentile(map_apply_cpu_ms, 0.99), percentile(map_write_ms, 0.5), percentile(map_write_ms, 0.99),
                        percentile(map_calls, 0.0), percentile(map_calls, 1.0), percentile(map_ack_ms, 0.5),
                        percentile(map_ack_ms, 0.99));
        if (has_datapath(target)) print_datapath(target, "  last toggle: ");
    }
    std::printf("proxy frames: %llu snapshots, %llu patches, %llu NACKs; peak RSS at end: %.1f MiB\n",
                static_cast<unsigned long long>(proxy.counters().snapshots.load()),
                static_cast<unsigned long long>(proxy.counters().patches.load()),
                static_cast<unsigned long long>(proxy.counters().nacks.load()), rss_kib("VmHWM:") / 1024.0);
    server->reset();
    if (!proxy_bin.empty() && !echo_bin.empty()) swap_bench(dir, proxy_bin, echo_bin, rules, config.swaps, proxy_log_level);
    if (keep.empty()) std::filesystem::remove_all(dir);
    return 0;
}

}  // namespace

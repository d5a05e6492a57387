// xgress-agent: reads Kubernetes objects (a manifests directory for now),
// computes this node's desired state, programs the BPF datapath and serves
// the routing snapshot to xgress-proxy over the control socket.
//
//   xgress-agent --manifests DIR [--pin-root PATH] [--control-socket PATH]
//                [--publish-service NS/NAME] [--interfaces IF,IF] [--log-level info]
//                [--node-name NAME] [--debounce-ms 20] [--debounce-max-ms 200]
//   xgress-agent --cleanup [--pin-root PATH] [--interfaces IF,IF]
//   xgress-agent --manifests DIR --dump-endpoints
//
// SIGTERM/SIGINT end the agent cleanly; the datapath stays pinned and
// attached so traffic keeps flowing until the next agent takes over.
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "dataplane/dataplane.h"
#include "k8s/directory_watcher.h"
#include "k8s/manifests_source.h"
#include "model/desired_state.h"
#include "model/endpoint_dump.h"
#include "push/control_server.h"
#include "reconcile/reconciler.h"

namespace {

using namespace xgress::agent;

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: poll() must return so the loop sees g_stop
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}


// Reads the directory; errors in it are reported by the reconcile pass.
std::optional<k8s::LoadedManifests> load_manifests(const std::string& directory) {
    auto loaded = k8s::load_manifests_directory(directory);
    if (!loaded) {
        spdlog::error("{}; keeping the last good state", loaded.error());
        return std::nullopt;
    }
    for (const auto& line : loaded->skipped) spdlog::debug("manifests: {}", line);
    for (const auto& line : loaded->yaml_node_fallbacks) spdlog::info("manifests: {}", line);
    return std::move(*loaded);
}

// The datapath and the control channel, as the reconcile pass sees them.
// The datapath is opened on the first pass, once the class parameters'
// NodePort policy is known, and opened again (same pins, maps kept) when
// that policy changes: the policy is part of the datapath's settings.
class NodeTarget : public reconcile::ApplyTarget {
public:
    explicit NodeTarget(dataplane::Options defaults) : defaults_(std::move(defaults)) {}
    void attach(push::ControlServer* server) { server_ = server; }
    dataplane::Dataplane* dataplane() { return dataplane_ ? &*dataplane_ : nullptr; }

    std::expected<void, std::string> apply_node_port_policy(const std::optional<model::NodePortPolicy>& policy) override {
        dataplane::Options options = defaults_;
        if (policy) {  // a class parameter overrides --node-port-range / --unallocated-node-ports
            options.node_port_min = policy->min;
            options.node_port_max = policy->max;
            options.drop_unallocated_node_ports = policy->drop_unallocated;
        }
        if (dataplane_ && options.node_port_min == current_.node_port_min &&
            options.node_port_max == current_.node_port_max &&
            options.drop_unallocated_node_ports == current_.drop_unallocated_node_ports)
            return {};
        auto opened = dataplane::Dataplane::open(options);
        if (!opened) return std::unexpected(opened.error().message);
        spdlog::info("dataplane: NodePort range {}-{} from {}", options.node_port_min, options.node_port_max,
                     policy ? "the IngressClass parameters" : "the command line");
        dataplane_.emplace(std::move(*opened));
        current_ = options;
        return {};
    }
    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& frontends) override {
        if (!dataplane_) return std::unexpected(std::string("datapath not open"));
        if (auto applied = dataplane_->apply_frontends(frontends); !applied) return std::unexpected(applied.error().message);
        spdlog::info("dataplane: {} frontends applied", frontends.size());
        return {};
    }
    void publish(std::uint64_t version, std::string payload, std::function<std::string()> reencode) override {
        pending_version_ = version;
        pending_payload_ = std::move(payload);
        pending_reencode_ = std::move(reencode);
        if (server_) flush();
    }
    void publish_patch(std::uint64_t version, std::uint64_t base_version, std::string patch_payload,
                       std::function<std::string()> full_payload) override {
        if (!server_ || !pending_payload_.empty()) {  // no channel yet: only whole snapshots wait
            publish(version, full_payload(), full_payload);
            return;
        }
        server_->publish_patch(version, base_version, std::move(patch_payload), std::move(full_payload));
        spdlog::info("control: published endpoints patch version {} (base {})", version, base_version);
    }
    void flush() {
        if (pending_payload_.empty()) return;
        server_->publish(pending_version_, std::move(pending_payload_), std::move(pending_reencode_));
        pending_payload_.clear();
        pending_reencode_ = nullptr;
        spdlog::info("control: published snapshot version {}", pending_version_);
    }

private:
    dataplane::Options defaults_;
    dataplane::Options current_;
    std::optional<dataplane::Dataplane> dataplane_;
    push::ControlServer* server_ = nullptr;
    std::uint64_t pending_version_ = 0;
    std::string pending_payload_;
    std::function<std::string()> pending_reencode_;
};

// Proxy listening sockets go into the SOCKMAP of whichever datapath handle is current.
class DataplaneListenerSink : public push::ListenerSink {
public:
    explicit DataplaneListenerSink(NodeTarget& target) : target_(target) {}
    std::expected<void, std::string> set_listener(std::uint32_t slot, int socket_fd) override {
        dataplane::Dataplane* dataplane = target_.dataplane();
        if (!dataplane) return std::unexpected(std::string("datapath not open"));
        if (auto set = dataplane->set_listener(slot, socket_fd); !set) return std::unexpected(set.error().message);
        return {};
    }

private:
    NodeTarget& target_;
};

void log_pass(const reconcile::PassResult& pass, const model::DesiredState& state) {
    for (const auto& line : pass.new_problems) spdlog::warn("{}", line);
    spdlog::info("reconcile: {} frontends, {} virtual hosts, {} backends{}{}", state.frontends.size(),
                 state.snapshot.virtual_hosts.size(), state.snapshot.backends.size(),
                 pass.frontends_applied ? ", frontends written" : "",
                 pass.snapshot_published ? ", snapshot " + std::to_string(pass.version) : "");
}

// Node addresses change (DHCP, a new interface): re-read them now and then.
void refresh_node_addresses(dataplane::Dataplane& dataplane, std::vector<dataplane::IpAddress>& current) {
    auto addresses = dataplane::local_node_addresses();
    if (!addresses) {
        spdlog::warn("node addresses: {}", addresses.error().message);
        return;
    }
    if (*addresses == current) return;
    if (auto set = dataplane.set_node_addresses(*addresses); !set) {
        spdlog::error("dataplane: node addresses: {}", set.error().message);
        return;
    }
    spdlog::info("dataplane: {} node addresses", addresses->size());
    current = std::move(*addresses);
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) items.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return items;
}

// Versions start from the wall clock so a restarted agent still counts up
// from whatever the proxy last served.
std::uint64_t initial_version() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

struct Flags {
    std::string manifests;
    std::string pin_root = "/sys/fs/bpf/xgress";
    std::string control_socket = "/run/xgress/control.sock";
    std::string publish_service = "xgress-system/xgress";
    std::string interfaces;
    std::string log_level = "info";
    std::string node_name;        // externalTrafficPolicy: Local; default $NODE_NAME, then the host name
    int debounce_ms = 20;         // quiet time that ends a burst of manifest changes
    int debounce_max_ms = 200;    // ...but never wait longer than this
    std::string node_port_range = "30000-32767";  // IngressClass parameters override it
    std::string unallocated_node_ports = "drop";  // drop | pass; ditto
    bool cleanup = false;
    bool dump_endpoints = false;
};

std::string default_node_name() {
    if (const char* env = std::getenv("NODE_NAME"); env && *env) return env;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) return host;
    return {};
}

// "MIN-MAX" → the range; false when malformed or empty.
bool parse_port_range(const std::string& text, std::uint16_t& min, std::uint16_t& max) {
    unsigned a = 0, b = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%u-%u%c", &a, &b, &tail) != 2 || a == 0 || a > b || b > 65535) return false;
    min = static_cast<std::uint16_t>(a);
    max = static_cast<std::uint16_t>(b);
    return true;
}

// Re-reads what the watcher saw change: only those files, or everything
// after the kernel dropped events. nullopt: nothing to reconcile.
std::optional<k8s::LoadedManifests> load_changes(const std::string& directory, k8s::DirectoryWatcher::Changes changes) {
    if (changes.rescan) {
        spdlog::info("manifests: inotify queue overflowed; rescanning {}", directory);
        return load_manifests(directory);
    }
    k8s::LoadedManifests partial = k8s::load_manifest_files(directory, changes.names);
    if (partial.files.empty() && partial.removed.empty() && partial.files_with_errors.empty()) return std::nullopt;
    spdlog::debug("manifests: re-read {} files, {} removed", partial.files.size(), partial.removed.size());
    return partial;
}

int run(const Flags& flags) {
    dataplane::Options options;
    options.pin_root = flags.pin_root;
    options.interfaces = split_list(flags.interfaces);
    if (!parse_port_range(flags.node_port_range, options.node_port_min, options.node_port_max)) {
        spdlog::error("--node-port-range must be MIN-MAX with 1 <= MIN <= MAX <= 65535, got \"{}\"", flags.node_port_range);
        return 2;
    }
    options.drop_unallocated_node_ports = flags.unallocated_node_ports == "drop";

    if (flags.cleanup) {
        if (auto cleaned = dataplane::Dataplane::cleanup(options); !cleaned) {
            spdlog::error("cleanup: {}", cleaned.error().message);
            return 1;
        }
        spdlog::info("cleanup: removed xgress from {}", flags.pin_root);
        return 0;
    }

    model::Settings settings;
    const auto slash = flags.publish_service.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == flags.publish_service.size()) {
        spdlog::error("--publish-service must be NAMESPACE/NAME, got \"{}\"", flags.publish_service);
        return 2;
    }
    settings.publish_namespace = flags.publish_service.substr(0, slash);
    settings.publish_name = flags.publish_service.substr(slash + 1);
    settings.node_name = flags.node_name.empty() ? default_node_name() : flags.node_name;

    // Watch before the first read, so a change made while reading is not lost.
    std::optional<k8s::DirectoryWatcher> watcher;
    auto rewatch = [&] {
        auto watched = k8s::DirectoryWatcher::watch(flags.manifests);
        if (watched) watcher.emplace(std::move(*watched));
        else watcher.reset();
        return watched.has_value();
    };
    if (!flags.dump_endpoints && !rewatch()) spdlog::warn("manifests: not watching {} for changes yet", flags.manifests);

    auto loaded = load_manifests(flags.manifests);
    if (!loaded) return 1;
    if (flags.dump_endpoints) {
        std::vector<std::string> messages;
        for (const auto& line : loaded->errors) spdlog::error("manifests: {}", line);
        std::fputs(model::format_endpoint_dump(k8s::build_cache(*loaded, messages)).c_str(), stdout);
        return 0;
    }

    // The first pass opens the datapath (with the NodePort policy it finds).
    NodeTarget target(options);
    reconcile::Reconciler reconciler(settings, target, initial_version());
    log_pass(reconciler.reconcile(*loaded), reconciler.state());
    loaded.reset();  // the reconciler keeps what it needs
    // Decoding the first load (the whole cluster) freed far more than the
    // agent keeps; give the free pages back once, so RSS is what is held
    // (agent_scale_bench measures memory after the same call).
    malloc_trim(0);
    if (!target.dataplane()) {
        spdlog::error("dataplane: could not be opened");
        return 1;
    }
    std::vector<dataplane::IpAddress> node_addresses;
    refresh_node_addresses(*target.dataplane(), node_addresses);

    DataplaneListenerSink sink(target);
    auto server = push::ControlServer::listen(flags.control_socket, sink);
    if (!server) {
        spdlog::error("control: {}", server.error());
        return 1;
    }
    target.attach(server->get());
    target.flush();
    spdlog::info("control: listening on {}, node {}", flags.control_socket, settings.node_name);

    using clock = std::chrono::steady_clock;
    auto next_refresh = clock::now() + std::chrono::seconds(1);
    while (!g_stop) {
        const bool changed = (*server)->poll_once(1000, watcher ? watcher->fd() : -1);
        if (g_stop) break;
        if (clock::now() >= next_refresh) {
            refresh_node_addresses(*target.dataplane(), node_addresses);
            if (!watcher || watcher->directory_gone()) {
                // The directory was deleted or replaced: keep serving, watch it again once it is back.
                if (rewatch()) {
                    watcher->take_changes();  // the full read below covers them
                    spdlog::info("manifests: watching {} again", flags.manifests);
                    if (auto again = load_manifests(flags.manifests)) log_pass(reconciler.reconcile(*again), reconciler.state());
                }
            }
            next_refresh = clock::now() + std::chrono::seconds(1);
        }
        if (!changed) continue;
        const int waited = watcher->wait_until_quiet(flags.debounce_ms, flags.debounce_max_ms);
        if (watcher->directory_gone()) {
            spdlog::warn("manifests: {} was removed; serving the last good state", flags.manifests);
            watcher.reset();
            continue;
        }
        auto reloaded = load_changes(flags.manifests, watcher->take_changes());
        if (!reloaded) continue;  // nothing we read changed, or the directory is unreadable: keep serving
        const auto started = clock::now();
        const reconcile::PassResult pass = reconciler.reconcile(*reloaded);
        log_pass(pass, reconciler.state());
        spdlog::debug("reconcile: debounced {} ms, pass {} us", waited,
                      std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started).count());
    }
    spdlog::info("stopping; the datapath stays pinned under {}", flags.pin_root);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"xgress-agent: programs the node's XDP/sk_lookup datapath and feeds xgress-proxy"};
    Flags flags;
    auto* manifests = app.add_option("--manifests", flags.manifests, "Directory of Kubernetes manifests (YAML/JSON)")
                          ->check(CLI::ExistingDirectory);
    app.add_option("--pin-root", flags.pin_root, "bpffs directory for xgress pins")->capture_default_str();
    app.add_option("--control-socket", flags.control_socket, "Unix socket proxies connect to")->capture_default_str();
    app.add_option("--publish-service", flags.publish_service, "NAMESPACE/NAME of the Service whose ports are the frontends")
        ->capture_default_str();
    app.add_option("--interfaces", flags.interfaces, "Comma-separated XDP interfaces (default: all with an address)");
    app.add_option("--log-level", flags.log_level, "Log verbosity")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    app.add_option("--node-name", flags.node_name,
                   "This node's name, for externalTrafficPolicy: Local (default: $NODE_NAME, else the host name)");
    app.add_option("--debounce-ms", flags.debounce_ms, "Quiet time that ends a burst of manifest changes")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    app.add_option("--debounce-max-ms", flags.debounce_max_ms, "Longest a burst of changes may delay reconciling")
        ->check(CLI::Range(0, 60000))
        ->capture_default_str();
    app.add_option("--node-port-range", flags.node_port_range,
                   "Cluster NodePort range MIN-MAX (IngressClass parameters' nodePortRange overrides it)")
        ->capture_default_str();
    app.add_option("--unallocated-node-ports", flags.unallocated_node_ports,
                   "Traffic to an unallocated port in the NodePort range: drop or pass (class parameters override)")
        ->check(CLI::IsMember({"drop", "pass"}))
        ->capture_default_str();
    auto* cleanup = app.add_flag("--cleanup", flags.cleanup, "Detach and unpin everything, then exit");
    auto* dump = app.add_flag("--dump-endpoints", flags.dump_endpoints,
                              "Print address, namespace, pod, service, port per endpoint, then exit");
    cleanup->excludes(dump);
    dump->needs(manifests);
    CLI11_PARSE(app, argc, argv);
    if (!flags.cleanup && flags.manifests.empty()) {
        std::fprintf(stderr, "--manifests is required (unless --cleanup)\n");
        return 2;
    }

    // Logs go to stderr: stdout carries --dump-endpoints output for scripts.
    spdlog::set_default_logger(spdlog::stderr_color_mt("xgress-agent"));
    spdlog::set_level(spdlog::level::from_str(flags.log_level));
    install_signal_handlers();
    return run(flags);
}

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
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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

class DataplaneListenerSink : public push::ListenerSink {
public:
    explicit DataplaneListenerSink(dataplane::Dataplane& dataplane) : dataplane_(dataplane) {}
    std::expected<void, std::string> set_listener(std::uint32_t slot, int socket_fd) override {
        if (auto set = dataplane_.set_listener(slot, socket_fd); !set) return std::unexpected(set.error().message);
        return {};
    }

private:
    dataplane::Dataplane& dataplane_;
};

// Reads the directory; errors in it are reported by the reconcile pass.
std::optional<k8s::LoadedManifests> load_manifests(const std::string& directory) {
    auto loaded = k8s::load_manifests_directory(directory);
    if (!loaded) {
        spdlog::error("{}; keeping the last good state", loaded.error());
        return std::nullopt;
    }
    for (const auto& line : loaded->skipped) spdlog::debug("manifests: {}", line);
    return std::move(*loaded);
}

// The datapath and the control channel, as the reconcile pass sees them.
class NodeTarget : public reconcile::ApplyTarget {
public:
    NodeTarget(dataplane::Dataplane* dataplane) : dataplane_(dataplane) {}
    void attach(push::ControlServer* server) { server_ = server; }

    std::expected<void, std::string> apply_frontends(const std::vector<dataplane::FrontendSpec>& frontends) override {
        if (!dataplane_) return {};
        if (auto applied = dataplane_->apply_frontends(frontends); !applied) return std::unexpected(applied.error().message);
        spdlog::info("dataplane: {} frontends applied", frontends.size());
        return {};
    }
    void publish(std::uint64_t version, std::string payload) override {
        pending_version_ = version;
        pending_payload_ = std::move(payload);
        if (server_) flush();
    }
    void flush() {
        if (pending_payload_.empty()) return;
        server_->publish(pending_version_, std::move(pending_payload_));
        pending_payload_.clear();
        spdlog::info("control: published snapshot version {}", pending_version_);
    }

private:
    dataplane::Dataplane* dataplane_;
    push::ControlServer* server_ = nullptr;
    std::uint64_t pending_version_ = 0;
    std::string pending_payload_;
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
    bool cleanup = false;
    bool dump_endpoints = false;
};

std::string default_node_name() {
    if (const char* env = std::getenv("NODE_NAME"); env && *env) return env;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) return host;
    return {};
}

int run(const Flags& flags) {
    dataplane::Options options;
    options.pin_root = flags.pin_root;
    options.interfaces = split_list(flags.interfaces);

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

    auto loaded = load_manifests(flags.manifests);
    if (!loaded) return 1;
    if (flags.dump_endpoints) {
        std::vector<std::string> messages;
        for (const auto& line : loaded->errors) spdlog::error("manifests: {}", line);
        std::fputs(model::format_endpoint_dump(k8s::build_cache(*loaded, messages)).c_str(), stdout);
        return 0;
    }

    auto opened = dataplane::Dataplane::open(options);
    if (!opened) {
        spdlog::error("dataplane: {}", opened.error().message);
        return 1;
    }
    dataplane::Dataplane dataplane = std::move(*opened);
    std::vector<dataplane::IpAddress> node_addresses;
    refresh_node_addresses(dataplane, node_addresses);

    NodeTarget target(&dataplane);
    reconcile::Reconciler reconciler(settings, target, initial_version());
    log_pass(reconciler.reconcile(*loaded), reconciler.state());

    DataplaneListenerSink sink(dataplane);
    auto server = push::ControlServer::listen(flags.control_socket, sink);
    if (!server) {
        spdlog::error("control: {}", server.error());
        return 1;
    }
    target.attach(server->get());
    target.flush();
    spdlog::info("control: listening on {}, node {}", flags.control_socket, settings.node_name);

    std::optional<k8s::DirectoryWatcher> watcher;
    auto rewatch = [&] {
        auto watched = k8s::DirectoryWatcher::watch(flags.manifests);
        if (watched) watcher.emplace(std::move(*watched));
        else watcher.reset();
        return watched.has_value();
    };
    if (!rewatch()) spdlog::warn("manifests: not watching {} for changes yet", flags.manifests);

    using clock = std::chrono::steady_clock;
    auto next_refresh = clock::now() + std::chrono::seconds(1);
    while (!g_stop) {
        const bool changed = (*server)->poll_once(1000, watcher ? watcher->fd() : -1);
        if (g_stop) break;
        if (clock::now() >= next_refresh) {
            refresh_node_addresses(dataplane, node_addresses);
            if (!watcher || watcher->directory_gone()) {
                // The directory was deleted or replaced: keep serving, watch it again once it is back.
                if (rewatch()) {
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
        auto reloaded = load_manifests(flags.manifests);
        if (!reloaded) continue;  // keep serving the last good state
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

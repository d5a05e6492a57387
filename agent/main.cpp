// xgress-agent: reads Kubernetes objects (a manifests directory for now),
// computes this node's desired state, programs the BPF datapath and serves
// the routing snapshot to xgress-proxy over the control socket.
//
//   xgress-agent --manifests DIR [--pin-root PATH] [--control-socket PATH]
//                [--publish-service NS/NAME] [--interfaces IF,IF] [--log-level info]
//   xgress-agent --cleanup [--pin-root PATH] [--interfaces IF,IF]
//   xgress-agent --manifests DIR --dump-endpoints
//
// SIGTERM/SIGINT end the agent cleanly; the datapath stays pinned and
// attached so traffic keeps flowing until the next agent takes over.
#include <csignal>
#include <chrono>
#include <cstdio>
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
#include "xgress/snapshot.h"

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

// Loads the directory and logs everything worth knowing about it.
std::optional<k8s::ObjectCache> load_objects(const std::string& directory) {
    auto loaded = k8s::load_manifests_directory(directory);
    if (!loaded) {
        spdlog::error("{}", loaded.error());
        return std::nullopt;
    }
    for (const auto& line : loaded->skipped) spdlog::info("manifests: {}", line);
    for (const auto& line : loaded->errors) spdlog::error("manifests: {}", line);
    std::vector<std::string> messages;
    k8s::ObjectCache cache = k8s::build_cache(*loaded, messages);
    for (const auto& line : messages) spdlog::warn("manifests: {}", line);
    spdlog::info("manifests: {} objects from {} files in {} ({} errors)", cache.size(), loaded->files.size(),
                 directory, loaded->errors.size());
    return cache;
}

model::DesiredState compute(const k8s::ObjectCache& objects, const model::Settings& settings) {
    model::DesiredState state = model::compute_desired_state(objects, settings);
    for (const auto& line : state.problems) spdlog::warn("model: {}", line);
    spdlog::info("model: {} frontends, {} virtual hosts, {} backends", state.frontends.size(),
                 state.snapshot.virtual_hosts.size(), state.snapshot.backends.size());
    return state;
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
    bool cleanup = false;
    bool dump_endpoints = false;
};

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

    auto objects = load_objects(flags.manifests);
    if (!objects) return 1;
    if (flags.dump_endpoints) {
        std::fputs(model::format_endpoint_dump(*objects).c_str(), stdout);
        return 0;
    }
    model::DesiredState state = compute(*objects, settings);

    auto opened = dataplane::Dataplane::open(options);
    if (!opened) {
        spdlog::error("dataplane: {}", opened.error().message);
        return 1;
    }
    dataplane::Dataplane dataplane = std::move(*opened);
    auto addresses = dataplane::local_node_addresses();
    if (!addresses) {
        spdlog::error("node addresses: {}", addresses.error().message);
        return 1;
    }
    if (auto set = dataplane.set_node_addresses(*addresses); !set) {
        spdlog::error("dataplane: node addresses: {}", set.error().message);
        return 1;
    }
    if (auto applied = dataplane.apply_frontends(state.frontends); !applied) {
        spdlog::error("dataplane: frontends: {}", applied.error().message);
        return 1;
    }
    spdlog::info("dataplane: {} node addresses, {} frontends applied", addresses->size(), state.frontends.size());

    DataplaneListenerSink sink(dataplane);
    auto server = push::ControlServer::listen(flags.control_socket, sink);
    if (!server) {
        spdlog::error("control: {}", server.error());
        return 1;
    }
    std::uint64_t version = initial_version();
    state.snapshot.version = version;
    (*server)->publish(version, xgress::snapshot::encode(state.snapshot));
    spdlog::info("control: listening on {}, snapshot version {}", flags.control_socket, version);

    auto watcher = k8s::DirectoryWatcher::watch(flags.manifests);
    if (!watcher) spdlog::warn("manifests: not watching for changes: {}", watcher.error());
    const int watch_fd = watcher ? watcher->fd() : -1;

    while (!g_stop) {
        if (!(*server)->poll_once(1000, watch_fd) || g_stop) continue;
        watcher->wait_until_quiet(100);
        spdlog::info("manifests: change detected, reloading");
        auto reloaded = load_objects(flags.manifests);
        if (!reloaded) continue;  // keep serving the last good state
        model::DesiredState next = compute(*reloaded, settings);
        if (next.frontends != state.frontends) {
            if (auto applied = dataplane.apply_frontends(next.frontends); !applied) {
                spdlog::error("dataplane: frontends: {}; keeping the previous set", applied.error().message);
                next.frontends = state.frontends;
            }
        }
        next.snapshot.version = state.snapshot.version;
        if (next.snapshot != state.snapshot) {
            next.snapshot.version = ++version;
            (*server)->publish(version, xgress::snapshot::encode(next.snapshot));
            spdlog::info("control: published snapshot version {}", version);
        }
        state = std::move(next);
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

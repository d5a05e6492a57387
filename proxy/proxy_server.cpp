#include "proxy_server.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "io/listener.h"
#include "router/route_table.h"

namespace xgress {

std::expected<std::unique_ptr<ProxyServer>, std::string> ProxyServer::start(const ProxyOptions& options) {
    auto address = io::parse_address(options.listen);
    if (!address) return std::unexpected("--listen: " + address.error());
    std::unique_ptr<ProxyServer> server(new ProxyServer());
    server->listen_ = options.listen;
    const unsigned workers = options.workers == 0 ? 1 : options.workers;
    for (unsigned i = 0; i < workers; ++i) {
        auto fd = io::open_listener(*address);
        if (!fd) return std::unexpected(fd.error());
        server->listeners_.push_back(*fd);
        if (i == 0) {
            // With port 0 the first bind picks the port; the rest of the group joins it.
            server->port_ = io::bound_port(*fd);
            if (address->addr.ss_family == AF_INET)
                reinterpret_cast<sockaddr_in*>(&address->addr)->sin_port = htons(static_cast<std::uint16_t>(server->port_));
            else
                reinterpret_cast<sockaddr_in6*>(&address->addr)->sin6_port = htons(static_cast<std::uint16_t>(server->port_));
        }
    }
    for (unsigned i = 0; i < workers; ++i) {
        server->workers_.push_back(std::make_unique<io::Worker>(i, server->listeners_[i], options.worker));
        server->workers_.back()->start();
    }
    server->worker_count_ = workers;
    if (!options.admin.empty()) {
        ProxyServer* self = server.get();
        admin::AdminSource source{
            .metrics =
                [self] {
                    admin::MetricsInput in{self->stats(), self->applied_version(), self->worker_count_, {}};
                    for (const auto& w : self->workers_) w->add_backend_metrics(in.backends);
                    return in;
                },
            .ready = [self] { return self->ready(); },
            .config = [self] { return self->applied(); }};
        auto a = admin::AdminServer::start(options.admin, std::move(source));
        if (!a) return std::unexpected(a.error());
        server->admin_ = std::move(*a);
    }
    return server;
}

ProxyServer::~ProxyServer() { stop(); }

std::expected<void, std::string> ProxyServer::apply(const snapshot::Snapshot& snap) {
    auto table = router::RouteTable::build(snap);
    if (!table) return std::unexpected(table.error());
    for (auto& w : workers_) w->snapshot_slot().publish(*table);
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < snap.backends.size(); ++i) index.emplace(snap.backends[i].name, i);
    std::lock_guard lock(applied_mutex_);
    table_ = std::move(*table);
    applied_version_ = snap.version;
    applied_ = snap;
    applied_backend_index_ = std::move(index);
    ready_ = true;
    return {};
}

std::expected<void, std::string> ProxyServer::apply_patch(const snapshot::EndpointsPatch& patch) {
    std::shared_ptr<const router::RouteTable> current;
    {
        std::lock_guard lock(applied_mutex_);
        current = table_;
    }
    if (!current) return std::unexpected("no snapshot to patch yet");
    auto table = current->with_endpoints(patch);
    if (!table) return std::unexpected(table.error());
    for (auto& w : workers_) w->snapshot_slot().publish(*table);
    std::lock_guard lock(applied_mutex_);
    table_ = std::move(*table);
    applied_version_ = patch.version;
    applied_.version = patch.version;
    for (const auto& b : patch.backends) applied_.backends[applied_backend_index_.at(b.name)] = b;
    return {};
}

bool ProxyServer::drain(std::uint32_t timeout_ms) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
    for (auto& w : workers_) w->begin_drain();
    auto all = [&](auto pred) {
        for (auto& w : workers_)
            if (!pred(*w)) return false;
        return true;
    };
    while (!all([](const io::Worker& w) { return !w.accepting(); }) && clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // No accept is armed any more: closing the listeners makes the kernel
    // refuse (not queue) new connections.
    for (int fd : listeners_) close(fd);
    listeners_.clear();
    bool drained = false;
    while (!(drained = stats().active_connections == 0) && clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop();
    return drained;
}

bool ProxyServer::ready() const {
    std::lock_guard lock(applied_mutex_);
    return ready_;
}

std::uint64_t ProxyServer::applied_version() const {
    std::lock_guard lock(applied_mutex_);
    return applied_version_;
}

std::pair<std::uint64_t, std::string> ProxyServer::applied() const {
    std::lock_guard lock(applied_mutex_);
    if (!ready_) return {0, ""};
    return {applied_version_, snapshot::encode(applied_)};
}

io::StatsTotals ProxyServer::stats() const {
    io::StatsTotals t;
    for (const auto& w : workers_) t.add(w->stats());
    return t;
}

void ProxyServer::stop() {
    admin_.reset();  // its callbacks read the workers
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->wait();
    workers_.clear();
    for (int fd : listeners_) close(fd);
    listeners_.clear();
}

}  // namespace xgress

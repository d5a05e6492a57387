#include "proxy_server.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <thread>

#include <spdlog/spdlog.h>

#include "control/table_decoder.h"
#include "io/listener.h"
#include "router/route_table.h"

namespace xgress {

namespace {

// One SO_REUSEPORT listener per worker on `text`; returns the bound port.
std::expected<int, std::string> open_group(const std::string& text, const char* flag, unsigned workers,
                                           std::vector<int>& fds) {
    auto address = io::parse_address(text);
    if (!address) return std::unexpected(std::string(flag) + ": " + address.error());
    int port = 0;
    for (unsigned i = 0; i < workers; ++i) {
        auto fd = io::open_listener(*address);
        if (!fd) return std::unexpected(fd.error());
        fds.push_back(*fd);
        if (i == 0) {
            // With port 0 the first bind picks the port; the rest of the group joins it.
            port = io::bound_port(*fd);
            if (address->addr.ss_family == AF_INET)
                reinterpret_cast<sockaddr_in*>(&address->addr)->sin_port = htons(static_cast<std::uint16_t>(port));
            else
                reinterpret_cast<sockaddr_in6*>(&address->addr)->sin6_port = htons(static_cast<std::uint16_t>(port));
        }
    }
    return port;
}

}  // namespace

std::expected<std::unique_ptr<ProxyServer>, std::string> ProxyServer::start(const ProxyOptions& options) {
    std::unique_ptr<ProxyServer> server(new ProxyServer());
    server->listen_ = options.listen;
    const unsigned workers = options.workers == 0 ? 1 : options.workers;
    auto port = open_group(options.listen, "--listen", workers, server->listeners_);
    if (!port) return std::unexpected(port.error());
    server->port_ = *port;
    if (!options.listen_tls.empty()) {
        auto tls_port = open_group(options.listen_tls, "--listen-tls", workers, server->tls_listeners_);
        if (!tls_port) return std::unexpected(tls_port.error());
        server->tls_port_ = *tls_port;
    }

    if (options.ktls != "auto" && options.ktls != "on" && options.ktls != "off")
        return std::unexpected("--ktls: must be on, off or auto, got \"" + options.ktls + "\"");
    if (options.ktls != "off") {
        server->ktls_probe_ = tls::probe_ktls();
        if (options.ktls == "on" && !server->ktls_probe_.available)
            return std::unexpected("--ktls on: " + server->ktls_probe_.detail);
        // The record offload itself is not implemented yet (this kernel has no
        // tls ULP to test it on), so kTLS stays off even when the probe passes.
        spdlog::info("kTLS: {}; TLS records are encrypted in user space", server->ktls_probe_.detail);
    }
    // TLS state before the workers start: --listen-tls works before any
    // snapshot, with the self-signed default certificate.
    server->tls_builder_ = std::make_unique<tls::TlsStateBuilder>(std::make_shared<tls::TicketKeyRing>());
    auto initial_tls = server->tls_builder_->build(snapshot::Snapshot{}, std::time(nullptr));
    if (!initial_tls) return std::unexpected(initial_tls.error());

    if (!options.access_log.empty()) {
        auto log = log::AccessLog::open(options.access_log, workers);
        if (!log) return std::unexpected(log.error());
        server->access_log_ = std::move(*log);
    }
    for (unsigned i = 0; i < workers; ++i) {
        server->workers_.push_back(std::make_unique<io::Worker>(i, server->listeners_[i], options.worker));
        if (server->access_log_) server->workers_.back()->set_access_log(&server->access_log_->buffer(i));
        if (!server->tls_listeners_.empty()) server->workers_.back()->set_tls_listener(server->tls_listeners_[i]);
        server->workers_.back()->tls_slot().publish(*initial_tls);
        server->workers_.back()->start();
    }
    server->worker_count_ = workers;
    if (!options.admin.empty()) {
        ProxyServer* self = server.get();
        admin::AdminSource source{
            .metrics =
                [self] {
                    admin::MetricsInput in{self->stats(), self->applied_version(), self->worker_count_, {}};
                    for (const auto& w : self->workers_) {
                        w->add_backend_metrics(in.backends);
                        w->add_route_metrics(in.routes);
                    }
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

std::shared_ptr<const router::RouteTable> ProxyServer::retire_for_build() {
    // What the last apply replaced: every worker has long moved on from it.
    release_retired();  // a previous one not yet freed (no control client: --snapshot-file)
    // Freed now, before the build, so the build reuses its memory: with the
    // allocator keeping freed memory (main.cpp), a 10,000-rule swap then
    // page-faults in nothing, where touching ~16 MiB of fresh pages cost more
    // CPU than decoding and building together (each fault ~2-4 us on these
    // VMs), while freeing it costs a few ms. A table some worker still holds
    // (it has not adopted the serving one yet: never seen, but possible) is
    // only moved aside and freed after the ACK (release_retired), so that
    // the last reference is not dropped on a worker between two requests.
    retired_snapshot_ = snapshot::Snapshot{};
    if (retired_table_.use_count() == 1) retired_table_.reset();
    released_table_ = std::move(retired_table_);
    std::lock_guard lock(applied_mutex_);
    return table_;
}

std::expected<void, std::string> ProxyServer::apply(snapshot::Snapshot&& snap, std::string&& json) {
    using clock = std::chrono::steady_clock;
    const auto ms = [](clock::time_point from, clock::time_point to) {
        return std::chrono::duration<double, std::milli>(to - from).count();
    };
    const auto t0 = clock::now();
    std::shared_ptr<const router::RouteTable> current = retire_for_build();
    const auto t1 = clock::now();
    auto table = router::RouteTable::build(snap, current.get());
    if (!table) return std::unexpected(table.error());
    spdlog::debug("apply version {}: retire {:.1f} ms, route table {:.1f} ms", snap.version, ms(t0, t1),
                  ms(t1, clock::now()));
    return install(std::move(*table), std::move(snap), std::move(json));
}

std::expected<void, std::string> ProxyServer::apply_json(std::string&& json,
                                                         std::chrono::steady_clock::time_point* decoded_at) {
    std::shared_ptr<const router::RouteTable> current = retire_for_build();
    auto decoded = control::decode_table(json, current.get());
    if (decoded_at) *decoded_at = std::chrono::steady_clock::now();
    if (!decoded) return std::unexpected(decoded.error());
    current.reset();
    return install(std::move(decoded->table), std::move(decoded->rest), std::move(json));
}

std::expected<void, std::string> ProxyServer::install(std::shared_ptr<const router::RouteTable> table,
                                                      snapshot::Snapshot&& snap, std::string&& json) {
    auto tls_state = build_tls_state(snap);
    if (!tls_state) return std::unexpected(tls_state.error());
    // TLS first: a connection routed by the new table to an https frontend
    // finds the new certificates.
    for (auto& w : workers_) w->tls_slot().publish(*tls_state);
    for (auto& w : workers_) w->snapshot_slot().publish(table);
    std::lock_guard lock(applied_mutex_);
    retired_table_ = std::move(table_);
    table_ = std::move(table);
    applied_version_ = snap.version;
    retired_snapshot_ = std::move(applied_);
    patched_.clear();
    if (json.empty()) {
        applied_json_.clear();
        applied_ = std::move(snap);
    } else {
        applied_json_ = std::move(json);
        applied_ = snapshot::Snapshot{};
        released_snapshot_ = std::move(snap);
    }
    ready_ = true;
    return {};
}

void ProxyServer::release_retired() {
    released_table_.reset();
    released_snapshot_ = snapshot::Snapshot{};
}

std::expected<std::shared_ptr<const tls::TlsState>, std::string> ProxyServer::build_tls_state(
    const snapshot::Snapshot& snap) {
    auto state = tls_builder_->build(snap, std::time(nullptr));
    if (!state) return state;
    for (const std::string& problem : (*state)->problems) spdlog::warn("snapshot {}: {}", snap.version, problem);
    std::lock_guard lock(applied_mutex_);
    tls_problems_ = (*state)->problems.size();
    return state;
}

void ProxyServer::rotate_ticket_keys() {
    std::lock_guard lock(applied_mutex_);  // apply() builds with the same ring
    tls_builder_->tickets().rotate();
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
    if (applied_json_.empty()) {
        applied_.version = patch.version;
        for (const auto& b : patch.backends) applied_.backends[table_->find_backend(b.name)] = b;
    } else {
        for (const auto& b : patch.backends) patched_.insert_or_assign(table_->find_backend(b.name), b);
    }
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
    for (int fd : tls_listeners_) close(fd);
    tls_listeners_.clear();
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
    std::string json;
    std::unordered_map<std::uint32_t, snapshot::Backend> patched;
    std::uint64_t version = 0;
    {
        std::lock_guard lock(applied_mutex_);
        if (!ready_) return {0, ""};
        if (applied_json_.empty()) return {applied_version_, snapshot::encode(applied_)};
        // Copied out, decoded without the lock (apply() must not wait for /config).
        json = applied_json_;
        patched = patched_;
        version = applied_version_;
    }
    // It decoded when it was applied, so it decodes now.
    auto snap = snapshot::decode(json);
    if (!snap) return {version, ""};
    snap->version = version;
    for (auto& [index, backend] : patched)
        if (index < snap->backends.size()) snap->backends[index] = std::move(backend);
    return {version, snapshot::encode(*snap)};
}

io::StatsTotals ProxyServer::stats() const {
    io::StatsTotals t;
    for (const auto& w : workers_) t.add(w->stats());
    std::lock_guard lock(applied_mutex_);
    t.tls_certificate_problems = tls_problems_;
    t.ktls_enabled = ktls_enabled_;
    t.access_log_lines = access_log_lines();
    t.access_log_dropped = access_log_dropped();
    return t;
}

void ProxyServer::stop() {
    admin_.reset();  // its callbacks read the workers
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->wait();
    workers_.clear();
    for (int fd : listeners_) close(fd);
    listeners_.clear();
    for (int fd : tls_listeners_) close(fd);
    tls_listeners_.clear();
}

}  // namespace xgress

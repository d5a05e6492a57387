// The admin listener: a separate thread (not a worker, no io_uring) that
// answers operators and probes, one short connection at a time:
//   GET /healthz  200 "ok" while the process serves
//   GET /readyz   200 once a routing snapshot is applied, else 503
//   GET /metrics  Prometheus text (metrics_text.h)
//   GET /config   {"version":N,"snapshot":<snapshot.h JSON or null>}
// It reads the proxy through AdminSource callbacks, so it knows nothing of
// ProxyServer and the data path never waits for it.
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <thread>

#include "admin/metrics_text.h"

namespace xgress::admin {

struct AdminSource {
    std::function<MetricsInput()> metrics;
    std::function<bool()> ready;  // a routing snapshot has been applied
    // Applied snapshot version and its JSON (empty: none applied yet).
    std::function<std::pair<std::uint64_t, std::string>()> config;
};

class AdminServer {
public:
    // Binds `address` ("127.0.0.1:10254"; port 0 picks one) and starts the thread.
    static std::expected<std::unique_ptr<AdminServer>, std::string> start(const std::string& address,
                                                                          AdminSource source);
    ~AdminServer();
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;

    int port() const { return port_; }

private:
    AdminServer() = default;
    void run();
    void serve(int fd);
    std::string answer(std::string_view method, std::string_view path);

    AdminSource source_;
    int listen_fd_ = -1;
    int stop_fd_ = -1;  // eventfd: wakes poll() for shutdown
    int port_ = 0;
    std::thread thread_;
};

}  // namespace xgress::admin

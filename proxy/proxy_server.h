// The assembled proxy: one listener and one worker per thread, plus the way to
// install a routing snapshot into all of them. main.cpp wraps it with flags,
// signals and the control client; the end-to-end tests run it in-process.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "io/worker.h"
#include "xgress/snapshot.h"

namespace xgress {

struct ProxyOptions {
    std::string listen = "127.0.0.1:10080";  // port 0 picks a free port (tests)
    unsigned workers = 1;
    io::WorkerOptions worker;
};

class ProxyServer {
public:
    static std::expected<std::unique_ptr<ProxyServer>, std::string> start(const ProxyOptions& options);
    ~ProxyServer();

    // Builds the routing table once and hands it to every worker.
    std::expected<void, std::string> apply(const snapshot::Snapshot& snap);

    void stop();
    // Sums every worker's counters (relaxed reads; a scrape, not a barrier).
    io::StatsTotals stats() const;
    int port() const { return port_; }
    // The socket announced to the agent (any member of the SO_REUSEPORT group will do).
    int announced_listener() const { return listeners_.front(); }
    const std::string& listen_address() const { return listen_; }

private:
    ProxyServer() = default;
    std::string listen_;
    int port_ = 0;
    std::vector<int> listeners_;
    std::vector<std::unique_ptr<io::Worker>> workers_;
};

}  // namespace xgress

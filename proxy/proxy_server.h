// The assembled proxy: one listener and one worker per thread, plus the way to
// install a routing snapshot into all of them. main.cpp wraps it with flags,
// signals and the control client; the end-to-end tests run it in-process.
#pragma once

#include <chrono>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/admin_server.h"
#include "io/worker.h"
#include "log/access_log.h"
#include "tls/ktls_probe.h"
#include "tls/tls_state.h"
#include "xgress/snapshot.h"

namespace xgress {

struct ProxyOptions {
    std::string listen = "127.0.0.1:10080";  // port 0 picks a free port (tests)
    unsigned workers = 1;
    io::WorkerOptions worker;
    // Admin listener (admin/admin_server.h) address; "" = none. The binary's
    // flag defaults to 127.0.0.1:10254; in-process users opt in.
    std::string admin;
    // A listener whose every connection is TLS (ADDR:PORT, "" = none). The
    // agent-steered case needs none: HTTPS frontends share the HTTP listener
    // and are told apart by the dialled address.
    std::string listen_tls;
    // Kernel TLS after the handshake: "auto" (use when the kernel can), "on"
    // (refuse to start without it), "off".
    std::string ktls = "auto";
    // Access log file (log/access_log.h), "" = off.
    std::string access_log;
};

class ProxyServer {
public:
    static std::expected<std::unique_ptr<ProxyServer>, std::string> start(const ProxyOptions& options);
    ~ProxyServer();

    // Builds the routing table and the TLS state once and hands them to every
    // worker. Certificate problems do not fail it (tls/tls_state.h): they are
    // logged naming the certificate and counted.
    // Unchanged backends are shared with the serving table (RouteTable::build
    // with `previous`). The table and snapshot it replaces are freed at the
    // start of the next apply, on this (control) thread, so that build reuses
    // their memory (a worker dropping the last reference would free 10,000
    // routes between two requests); a table a worker still holds then is
    // freed by release_retired() after that apply's ACK instead.
    // `json`: the document `snap` was decoded from (the control frame's
    // payload). Given, it is what the proxy keeps for /config, and the decoded
    // snapshot is freed after the ACK (release_retired), so the next decode
    // reuses its memory (fewer page faults per swap, ~5 MiB less RSS at
    // 10,000 rules); without it (--snapshot-file, tests) `snap` is kept.
    std::expected<void, std::string> apply(snapshot::Snapshot&& snap, std::string&& json = {});
    std::expected<void, std::string> apply(const snapshot::Snapshot& snap) { return apply(snapshot::Snapshot(snap)); }
    // A Snapshot frame's payload, decoded straight into the route table
    // (control/table_decoder.h: no snapshot::* objects per rule), then
    // installed as apply() does, keeping `json` for /config. Errors are
    // decode()'s and build()'s. `decoded_at` (optional) receives the time
    // decoding and building ended, for the control log.
    std::expected<void, std::string> apply_json(std::string&& json,
                                                std::chrono::steady_clock::time_point* decoded_at = nullptr);
    // Applies an EndpointsPatch to the serving snapshot: only the patched
    // backends are rebuilt (RouteTable::with_endpoints); routes are shared.
    // Errors (version mismatch, unknown backend) leave everything as it was.
    std::expected<void, std::string> apply_patch(const snapshot::EndpointsPatch& patch);
    // Frees what the last apply took out of service (called by the control
    // client after it sent the ACK, so the freeing is not part of a swap's
    // time). Control thread only, like apply().
    void release_retired();

    // Graceful shutdown: workers stop accepting and close idle keep-alive
    // connections, the listeners close, in-flight requests finish (responses
    // say Connection: close); returns when no client connection is left or
    // after `timeout_ms`, having stopped the workers. True: drained fully.
    bool drain(std::uint32_t timeout_ms);

    // A new session-ticket key for new tickets; older ones still decrypt.
    void rotate_ticket_keys();
    int tls_port() const { return tls_port_; }
    const tls::KtlsProbe& ktls_probe() const { return ktls_probe_; }

    void stop();
    // Sums every worker's counters (relaxed reads; a scrape, not a barrier).
    io::StatsTotals stats() const;
    // Access log lines written / dropped because the writer fell behind (0 when off).
    std::uint64_t access_log_lines() const { return access_log_ ? access_log_->lines() : 0; }
    std::uint64_t access_log_dropped() const { return access_log_ ? access_log_->dropped() : 0; }
    int port() const { return port_; }
    // The socket announced to the agent (any member of the SO_REUSEPORT group will do).
    int announced_listener() const { return listeners_.front(); }
    const std::string& listen_address() const { return listen_; }
    // The admin listener's port, 0 when there is none.
    int admin_port() const { return admin_ ? admin_->port() : 0; }
    bool ready() const;
    std::uint64_t applied_version() const;
    // Version and JSON (snapshot codec) of the applied snapshot; "" before one.
    std::pair<std::uint64_t, std::string> applied() const;

private:
    ProxyServer() = default;
    std::expected<std::shared_ptr<const tls::TlsState>, std::string> build_tls_state(const snapshot::Snapshot& snap);
    // Frees what the last apply replaced; returns the serving table.
    std::shared_ptr<const router::RouteTable> retire_for_build();
    // The second half of apply(): TLS state, hand-off to the workers, bookkeeping.
    std::expected<void, std::string> install(std::shared_ptr<const router::RouteTable> table, snapshot::Snapshot&& snap,
                                             std::string&& json);
    std::string listen_;
    int port_ = 0;
    std::vector<int> listeners_;
    std::vector<int> tls_listeners_;
    int tls_port_ = 0;
    std::unique_ptr<tls::TlsStateBuilder> tls_builder_;  // control thread (apply) only
    std::uint64_t tls_problems_ = 0;                     // under applied_mutex_
    tls::KtlsProbe ktls_probe_;
    bool ktls_enabled_ = false;
    std::unique_ptr<log::AccessLog> access_log_;  // declared before workers_: outlives them
    std::vector<std::unique_ptr<io::Worker>> workers_;
    mutable std::mutex applied_mutex_;  // admin thread vs. apply(); never taken by workers
    std::uint64_t applied_version_ = 0;
    // The applied snapshot, for /config (encoded on demand: a patch must not
    // cost a full encode): its JSON plus the backends patched since (by
    // backend index, the latest patch's), or, when it came without JSON,
    // applied_ itself, patched in place.
    std::string applied_json_;
    std::unordered_map<std::uint32_t, snapshot::Backend> patched_;
    snapshot::Snapshot applied_;
    std::shared_ptr<const router::RouteTable> table_;  // the table the workers were last given
    // Its backend indices are applied_'s (both come from the same snapshot and
    // patches), so apply_patch finds a backend with table_->find_backend.
    // Replaced at the last apply; freed at the start of the next one (see apply).
    std::shared_ptr<const router::RouteTable> retired_table_;
    snapshot::Snapshot retired_snapshot_;
    // A retired table a worker still held when the next apply began:
    // destroyed by release_retired() once the ACK is out, else at the start
    // of the apply after.
    std::shared_ptr<const router::RouteTable> released_table_;
    snapshot::Snapshot released_snapshot_;  // decoded snapshot kept as JSON: freed after the ACK
    bool ready_ = false;
    unsigned worker_count_ = 0;
    std::unique_ptr<admin::AdminServer> admin_;  // declared last: stopped first
};

}  // namespace xgress

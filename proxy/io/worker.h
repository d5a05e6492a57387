// One proxy worker: a thread with its own io_uring, its own SO_REUSEPORT
// listener, its own buffer ring, connection pools and upstream keep-alive
// pool. Workers share nothing on the request path; the only cross-thread
// touch points are the snapshot slot (new routing tables) and the stop flag.
#pragma once

#include <liburing.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "io/buffer_ring.h"
#include "io/connection.h"
#include "io/snapshot_slot.h"
#include "router/route_table.h"
#include "upstream/endpoint_picker.h"

namespace xgress::io {

struct WorkerOptions {
    unsigned ring_entries = 4096;
    unsigned buffer_count = 1024;        // power of two
    unsigned buffer_size = 16 * 1024;
    std::size_t high_water = 256 * 1024; // pause reading a peer when this much waits for the other side
    std::size_t max_idle_per_endpoint = 64;
};

class Worker {
public:
    Worker(unsigned index, int listen_fd, WorkerOptions options = {});
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker();

    // Starts the thread; the ring is created on it (single-issuer rings must be).
    void start();
    void stop();   // asks the loop to exit; join with wait()
    void wait();

    SnapshotSlot& snapshot_slot() { return slot_; }
    int listen_fd() const { return listen_fd_; }

private:
    enum class Op : std::uint8_t { Accept = 1, ClientRecv, ClientSend, UpRecv, UpSend, UpConnect, Wake, Ignore };

    void run();
    std::expected<void, std::string> setup();
    void loop();
    void handle(io_uring_cqe* cqe);
    io_uring_sqe* sqe();
    static std::uint64_t tag(void* p, Op op) { return reinterpret_cast<std::uint64_t>(p) | static_cast<std::uint64_t>(op); }

    // I/O plumbing (worker.cpp)
    void arm_accept();
    void arm_wake();
    void arm_recv(Stream& s, Op op);
    void cancel_recv(Stream& s, Op op);
    void flush(Stream& s, Op op);
    void on_accept(int res);
    void on_recv(Stream& s, bool client, io_uring_cqe* cqe);
    void on_send(Stream& s, bool client, int res);
    void on_connect(Upstream& u, int res);
    void update_client_recv(Session& s);
    void update_upstream_recv(Upstream& u);
    void close_stream(Stream& s);
    void maybe_release(Stream& s, bool client);
    void release_pending();

    // HTTP flow (http_flow.cpp)
    void drive_client(Session& s);
    void start_request(Session& s);
    void forward_request_body(Session& s);
    void drive_upstream(Upstream& u);
    void finish_response(Session& s, Upstream& u);
    void upstream_failed(Upstream& u, const char* why);
    void client_gone(Session& s);
    void respond_local(Session& s, int status, bool keep_alive);
    void after_client_send(Session& s);
    Upstream* acquire_upstream(const router::EndpointAddress& ep);
    void park_upstream(Upstream& u);
    void unpark_upstream(Upstream& u);
    void close_session(Session& s);

    Session* new_session();
    Upstream* new_upstream();

    unsigned index_;
    int listen_fd_;
    WorkerOptions options_;
    io_uring ring_{};
    bool ring_ready_ = false;
    BufferRing buffers_;
    int wake_fd_ = -1;
    std::uint64_t wake_value_ = 0;
    std::atomic<bool> stopping_{false};
    bool accept_armed_ = false;
    std::thread thread_;

    SnapshotSlot slot_;
    std::uint64_t slot_seen_ = 0;
    std::shared_ptr<const router::RouteTable> table_;
    upstream::EndpointPicker picker_;

    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::vector<Upstream*>, StringHash, std::equal_to<>> idle_;

    std::vector<std::unique_ptr<Session>> sessions_;    // owns every Session ever made
    std::vector<std::unique_ptr<Upstream>> upstreams_;  // owns every Upstream ever made
    std::vector<Session*> free_sessions_;
    std::vector<Upstream*> free_upstreams_;
    std::vector<std::pair<Stream*, bool>> to_release_;
    std::size_t live_sessions_ = 0;
};

}  // namespace xgress::io

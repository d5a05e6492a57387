// Per-connection state of a worker: the client side (Session) and the
// upstream side (Upstream). Objects are pooled by the worker and reused, and
// their strings keep their capacity, so a steady stream of keep-alive requests
// allocates nothing. Everything here belongs to exactly one worker thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "http/body_framer.h"
#include "http/request_parser.h"
#include "http/response_parser.h"

namespace xgress::io {

// One socket with its buffered input and double-buffered output: `sending` is
// in flight in the kernel and must not move, `out` collects what comes next.
struct Stream {
    int fd = -1;
    std::string in;
    std::string out;
    std::string sending;
    std::size_t sent = 0;
    int inflight = 0;            // io_uring operations not yet completed
    bool recv_armed = false;
    bool cancel_sent = false;
    bool send_inflight = false;
    bool eof = false;
    bool closing = false;
    bool release_queued = false;

    std::size_t pending_out() const { return out.size() + sending.size() - sent; }
    void reset_stream() {
        fd = -1;
        in.clear();
        out.clear();
        sending.clear();
        sent = 0;
        inflight = 0;
        recv_armed = cancel_sent = send_inflight = eof = closing = release_queued = false;
    }
};

struct Upstream;

struct Session : Stream {
    enum class State : std::uint8_t { ReadHead, RequestBody, AwaitResponse };
    State state = State::ReadHead;
    Upstream* up = nullptr;
    http::RequestParser parser;
    http::RequestHead req;
    http::BodyFramer body;
    bool keep_alive = true;
    bool close_after_send = false;
    bool response_started = false;  // bytes of a response already queued for the client
    char client_ip[48] = {};
};

struct Upstream : Stream {
    Session* session = nullptr;
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    std::string key;  // endpoint text, the idle-pool key
    bool connected = false;
    bool idle = false;
    bool head_done = false;
    bool request_is_head = false;
    http::ResponseParser parser;
    http::ResponseHead resp;
    http::BodyFramer body;
};

}  // namespace xgress::io

// Per-request state of the route policies (http_flow.cpp), kept apart from
// Session's I/O fields: the rewritten target, headers the proxy adds to the
// response (Set-Cookie), the request id, the dialled port, and the
// outstanding-request accounting of the endpoint picker. The strings keep
// their capacity across requests, so steady state allocates nothing.
#pragma once

#include <cstdint>
#include <string>

namespace xgress::io {

struct RequestExtras {
    std::string target;            // rewritten request target; "" = unchanged
    std::string response_headers;  // complete header lines added to the response head
    char request_id[32] = {};      // generated X-Request-ID (used when the client sent none)
    char port_text[6] = {};        // X-Forwarded-Port
    std::uint8_t port_len = 0;     // 0: not looked up yet on this connection

    std::uint64_t upstream_start_us = 0;  // request handed to an upstream (latency histogram)

    // Consistent hashing chose the endpoint: a retry walks on from `hash`.
    bool hashed = false;
    std::uint64_t hash = 0;

    // The endpoint counted as having this request in flight (picker begin/end).
    bool counted = false;
    std::uint32_t counted_backend = 0;
    std::uint32_t counted_endpoint = 0;
    std::uint64_t counted_token = 0;

    bool id_ready = false;  // request_id generated for the current request

    // Route metrics: the matched route index of the current request (UINT32_MAX:
    // none yet / no route) and the routing it indexes (a request in flight
    // across a snapshot swap is not counted by route).
    std::uint32_t route = UINT32_MAX;
    const void* route_routing = nullptr;

    // Cookie affinity: the endpoint id the client's cookie named (0: none or
    // not ours). A retry that lands elsewhere must set the cookie anew.
    std::uint64_t affinity_client_id = 0;

    // Access log (only with --access-log): the line begun when the request
    // was routed, finished when its response ends (Worker::log_end).
    std::string log_line;
    bool log_open = false;
    std::uint16_t log_status = 0;     // the upstream's status once its head was relayed
    std::uint64_t response_bytes = 0; // bytes of the current response queued for the client

    // A new client connection: nothing carries over.
    void reset_connection() {
        target.clear();
        response_headers.clear();
        port_len = 0;
        hashed = counted = false;
        route = UINT32_MAX;
        route_routing = nullptr;
        log_open = false;
    }
};

}  // namespace xgress::io

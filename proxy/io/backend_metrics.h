// Per-backend counters of one worker: responses by status class and the
// upstream latency histogram (request handed to the upstream → response
// head parsed), fixed buckets. Written by the worker only (relaxed load +
// store, no lock, no allocation: the block is sized when the worker adopts a
// routing table), read by the admin thread, which sums the workers by
// backend name (BackendTotals). A block lives as long as its table's backend
// list; a new one carries the counts over by name so counters stay monotonic.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/worker_stats.h"

namespace xgress::io {

// Upper bounds in microseconds (Prometheus `le` in seconds: 0.0005 … 10).
inline constexpr std::array<std::uint64_t, 14> kLatencyBucketsUs = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

struct BackendCounters {
    std::array<Counter, 5> responses;                        // 1xx … 5xx relayed from the upstream
    std::array<Counter, kLatencyBucketsUs.size() + 1> latency;  // last: +Inf (not cumulative here)
    Counter latency_sum_us;

    void observe(int status, std::uint64_t us) {
        if (status >= 100 && status < 600) responses[static_cast<std::size_t>(status / 100 - 1)].inc();
        std::size_t i = 0;
        while (i < kLatencyBucketsUs.size() && us > kLatencyBucketsUs[i]) ++i;
        latency[i].inc();
        latency_sum_us.inc(us);
    }
};

// Requests of one route by the status class of the response the client got
// (relayed or generated): xgress_proxy_route_requests_total{route,class}.
using RouteCounters = std::array<Counter, 5>;

struct BackendMetrics {
    // Owns the routes route_names and names point into (views, not copies:
    // adopting a 10,000-route table copied 10,000 names on the worker, issue 5). Only the
    // routes, shared by endpoint patches: holding the whole table would keep
    // patched-away backends alive until the next routing change.
    std::shared_ptr<const void> routing_owner;
    std::vector<std::string_view> names;            // by backend index of the table; text in routing_owner
    std::unique_ptr<BackendCounters[]> counters;    // names.size() entries
    const void* routing = nullptr;                  // the table's routes this block was made for
    // By route index of the table, plus one last entry for requests that
    // matched no route (or were rejected before routing): its name is "".
    // The label set is bounded by the snapshot's routes.
    std::vector<std::string_view> route_names;
    std::unique_ptr<RouteCounters[]> route_counters;  // route_names.size() entries
};

// A plain-value sum for one backend over the workers.
struct BackendTotals {
    std::array<std::uint64_t, 5> responses{};
    std::array<std::uint64_t, kLatencyBucketsUs.size() + 1> latency{};
    std::uint64_t latency_sum_us = 0;

    void add(const BackendCounters& c) {
        for (std::size_t i = 0; i < responses.size(); ++i) responses[i] += c.responses[i].get();
        for (std::size_t i = 0; i < latency.size(); ++i) latency[i] += c.latency[i].get();
        latency_sum_us += c.latency_sum_us.get();
    }
};

using BackendTotalsByName = std::map<std::string, BackendTotals>;
// Route name ("host path", "" = no route) → requests by status class 1xx … 5xx.
using RouteTotalsByName = std::map<std::string, std::array<std::uint64_t, 5>>;

}  // namespace xgress::io

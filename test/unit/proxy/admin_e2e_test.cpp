// The admin listener end to end: a proxy in-process with --admin on a free
// loopback port, real HTTP requests through it, then scrapes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "admin/metrics_text.h"
#include "proxy_server.h"
#include "loopback_http.h"
#include "xgress/snapshot.h"

using namespace xgress;
using namespace std::chrono_literals;

namespace {

using xgress::testing::connect_loopback;


// One request on a fresh connection, read until the server closes.
std::string roundtrip(int port, std::string_view request) {
    int fd = connect_loopback(port);
    if (fd < 0) return {};
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    close(fd);
    return out;
}

std::string get(int port, std::string_view path) {
    return roundtrip(port, "GET " + std::string(path) + " HTTP/1.1\r\nHost: admin\r\n\r\n");
}

int status(const std::string& resp) { return resp.size() > 12 ? std::stoi(resp.substr(9, 3)) : 0; }
std::string body(const std::string& resp) {
    auto p = resp.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : resp.substr(p + 4);
}

// The value of one sample line ("name{labels} value"), or -1.
long long metric(const std::string& text, const std::string& series) {
    std::size_t p = 0;
    while ((p = text.find(series + " ", p)) != std::string::npos) {
        if (p == 0 || text[p - 1] == '\n') return std::stoll(text.substr(p + series.size() + 1));
        p += series.size();
    }
    return -1;
}

}  // namespace

TEST(MetricsText, EveryFamilyHasHelpTypeAndSamples) {
    admin::MetricsInput in;
    in.totals.requests = 7;
    in.totals.generated[io::generated_index(404)] = 3;
    in.totals.generated[io::kGeneratedStatuses.size()] = 1;
    in.totals.active_connections = 2;
    in.snapshot_version = 9;
    in.workers = 2;
    in.totals.idle_upstreams = 4;
    in.totals.recv_enobufs = 11;
    in.totals.recv_held_cap_hits = 12;
    in.totals.recv_held_peak = 13;
    io::BackendCounters counters;
    counters.observe(200, 300);      // 0.3 ms
    counters.observe(503, 20000);    // 20 ms
    counters.observe(204, 20000000); // 20 s: +Inf
    in.backends["ns/svc:80"].add(counters);
    in.routes["a.test /api"] = {0, 6, 0, 1, 0};
    in.routes[""] = {0, 0, 0, 2, 0};
    in.routes["q\"uote /"] = {0, 1, 0, 0, 0};
    std::string text = admin::render_metrics(in);
    EXPECT_EQ(metric(text, "xgress_proxy_route_requests_total{route=\"a.test /api\",class=\"2xx\"}"), 6);
    EXPECT_EQ(metric(text, "xgress_proxy_route_requests_total{route=\"a.test /api\",class=\"4xx\"}"), 1);
    EXPECT_EQ(metric(text, "xgress_proxy_route_requests_total{route=\"a.test /api\",class=\"5xx\"}"), -1)
        << "zero classes are left out";
    EXPECT_EQ(metric(text, "xgress_proxy_route_requests_total{route=\"\",class=\"4xx\"}"), 2);
    EXPECT_EQ(metric(text, "xgress_proxy_route_requests_total{route=\"q\\\"uote /\",class=\"2xx\"}"), 1) << "escaped";
    EXPECT_EQ(metric(text, "xgress_proxy_idle_upstream_connections"), 4);
    EXPECT_EQ(metric(text, "xgress_proxy_recv_enobufs_total"), 11);
    EXPECT_EQ(metric(text, "xgress_proxy_recv_held_cap_hits_total"), 12);
    EXPECT_EQ(metric(text, "xgress_proxy_recv_buffers_held_peak"), 13);
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_responses_total{backend=\"ns/svc:80\",class=\"2xx\"}"), 2);
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_responses_total{backend=\"ns/svc:80\",class=\"5xx\"}"), 1);
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_latency_seconds_bucket{backend=\"ns/svc:80\",le=\"0.0005\"}"), 1);
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_latency_seconds_bucket{backend=\"ns/svc:80\",le=\"0.025\"}"), 2)
        << "buckets are cumulative";
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_latency_seconds_bucket{backend=\"ns/svc:80\",le=\"10\"}"), 2);
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_latency_seconds_bucket{backend=\"ns/svc:80\",le=\"+Inf\"}"), 3);
    EXPECT_EQ(metric(text, "xgress_proxy_upstream_latency_seconds_count{backend=\"ns/svc:80\"}"), 3);
    EXPECT_EQ(metric(text, "xgress_proxy_requests_total"), 7);
    EXPECT_EQ(metric(text, "xgress_proxy_generated_responses_total{status=\"404\"}"), 3);
    EXPECT_EQ(metric(text, "xgress_proxy_generated_responses_total{status=\"502\"}"), 0);
    EXPECT_EQ(metric(text, "xgress_proxy_generated_responses_total{status=\"other\"}"), 1);
    EXPECT_EQ(metric(text, "xgress_proxy_active_connections"), 2);
    EXPECT_EQ(metric(text, "xgress_proxy_snapshot_version"), 9);
    // Exposition format: each sample's family was declared with HELP and TYPE before it.
    // Label values may hold escaped quotes and backslashes.
    std::regex sample_re(R"(^(xgress_proxy_[a-z_]+)(\{[a-z]+="([^"\\]|\\.)*"(,[a-z]+="([^"\\]|\\.)*")*\})? [0-9.e+-]+$)");
    std::set<std::string> helped, typed;
    std::size_t start = 0, samples = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        ASSERT_NE(end, std::string::npos) << "text ends with a newline";
        std::string line = text.substr(start, end - start);
        start = end + 1;
        std::smatch m;
        if (line.starts_with("# HELP ")) {
            helped.insert(line.substr(7, line.find(' ', 7) - 7));
        } else if (line.starts_with("# TYPE ")) {
            std::string rest = line.substr(7);
            std::string name = rest.substr(0, rest.find(' '));
            std::string type = rest.substr(rest.find(' ') + 1);
            EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
            EXPECT_EQ(type == "counter", name.ends_with("_total")) << line;
            typed.insert(name);
        } else {
            ASSERT_TRUE(std::regex_match(line, m, sample_re)) << "bad sample line: " << line;
            std::string family = m[1];
            for (std::string_view suffix : {"_bucket", "_sum", "_count"})
                if (!typed.count(family) && family.ends_with(suffix)) family.resize(family.size() - suffix.size());
            EXPECT_TRUE(helped.count(family) && typed.count(family)) << line;
            ++samples;
        }
    }
    EXPECT_GE(samples, 16u);
}

namespace {

// A keep-alive backend answering "ok" to everything.
class OkBackend {
public:
    OkBackend() {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd_, 16);
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            for (;;) {
                int c = accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                conns_.emplace_back([c] {
                    std::string in;
                    char buf[4096];
                    ssize_t n;
                    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
                        in.append(buf, static_cast<std::size_t>(n));
                        std::size_t p;
                        while ((p = in.find("\r\n\r\n")) != std::string::npos) {
                            in.erase(0, p + 4);
                            send(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, MSG_NOSIGNAL);
                        }
                    }
                    close(c);
                });
            }
        });
    }
    ~OkBackend() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        for (auto& t : conns_) t.join();
    }
    int port() const { return port_; }

private:
    int fd_ = -1, port_ = 0;
    std::thread thread_;
    std::vector<std::thread> conns_;
};

}  // namespace

TEST(AdminE2E, ProbesMetricsAndConfig) {
    OkBackend backend;
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 2, .worker = {}, .admin = "127.0.0.1:0"});
    ASSERT_TRUE(server) << server.error();
    ProxyServer& proxy = **server;
    const int admin = proxy.admin_port();
    ASSERT_GT(admin, 0);

    EXPECT_EQ(status(get(admin, "/healthz")), 200);
    EXPECT_EQ(body(get(admin, "/healthz")), "ok\n");
    EXPECT_EQ(status(get(admin, "/readyz")), 503) << "no snapshot yet";
    EXPECT_EQ(body(get(admin, "/config")), "{\"version\":0,\"snapshot\":null}\n");
    EXPECT_EQ(status(get(admin, "/nope")), 404);
    EXPECT_EQ(status(roundtrip(admin, "POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")), 405);
    EXPECT_EQ(status(roundtrip(admin, "GET /metrics HTTP/1.1\r\n\r\n")), 400) << "the proxy's parser: Host is required";

    snapshot::Snapshot s;
    s.version = 42;
    s.backends = {{"ok", {{"127.0.0.1", static_cast<std::uint16_t>(backend.port())}}}};
    s.virtual_hosts = {{"ok.test", {{"/", snapshot::PathMatch::Prefix, "ok"}}}};
    ASSERT_TRUE(proxy.apply(s));
    EXPECT_EQ(status(get(admin, "/readyz")), 200);
    std::string config = body(get(admin, "/config"));
    EXPECT_TRUE(config.starts_with("{\"version\":42,\"snapshot\":{")) << config;
    auto decoded = snapshot::decode(config.substr(config.find("\"snapshot\":") + 11, config.size() - 13 - config.find("\"snapshot\":")));
    ASSERT_TRUE(decoded) << decoded.error() << "\n" << config;
    EXPECT_EQ(decoded->version, 42u);
    ASSERT_EQ(decoded->backends.size(), 1u);

    std::string before = body(get(admin, "/metrics"));
    EXPECT_EQ(metric(before, "xgress_proxy_snapshot_version"), 42);
    EXPECT_EQ(metric(before, "xgress_proxy_workers"), 2);
    const long long requests0 = metric(before, "xgress_proxy_requests_total");
    const long long n404_0 = metric(before, "xgress_proxy_generated_responses_total{status=\"404\"}");
    ASSERT_GE(requests0, 0);

    // 5 routed requests and 3 without a route, on one held-open connection.
    int fd = connect_loopback(proxy.port());
    ASSERT_GE(fd, 0);
    std::string reqs;
    for (int i = 0; i < 5; ++i) reqs += "GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n";
    for (int i = 0; i < 3; ++i) reqs += "GET / HTTP/1.1\r\nHost: none.test\r\n\r\n";
    send(fd, reqs.data(), reqs.size(), MSG_NOSIGNAL);
    std::string got;
    char buf[8192];
    auto count = [](const std::string& t, std::string_view what) {
        std::size_t n = 0, p = 0;
        while ((p = t.find(what, p)) != std::string::npos) ++n, p += what.size();
        return n;
    };
    while (count(got, "HTTP/1.1 ") < 8) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        ASSERT_GT(n, 0) << got;
        got.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(count(got, "HTTP/1.1 200"), 5u);
    EXPECT_EQ(count(got, "HTTP/1.1 404"), 3u);

    std::string after = body(get(admin, "/metrics"));
    EXPECT_EQ(metric(after, "xgress_proxy_requests_total"), requests0 + 8) << after;
    EXPECT_EQ(metric(after, "xgress_proxy_generated_responses_total{status=\"404\"}"), n404_0 + 3);
    EXPECT_EQ(metric(after, "xgress_proxy_active_connections"), 1) << "the held-open client connection";
    EXPECT_EQ(metric(after, "xgress_proxy_upstream_responses_total{backend=\"ok\",class=\"2xx\"}"), 5) << after;
    EXPECT_EQ(metric(after, "xgress_proxy_upstream_latency_seconds_count{backend=\"ok\"}"), 5);
    EXPECT_GE(metric(after, "xgress_proxy_idle_upstream_connections"), 1) << "the keep-alive upstream is pooled";
    // By route: the routed ones under the route's name, the 404s under "".
    EXPECT_EQ(metric(after, "xgress_proxy_route_requests_total{route=\"ok.test /\",class=\"2xx\"}"), 5) << after;
    EXPECT_EQ(metric(after, "xgress_proxy_route_requests_total{route=\"\",class=\"4xx\"}"), 3) << after;

    // A snapshot with other routes: the surviving route keeps its count (by
    // name), a new one starts at zero, a removed one drops out.
    s.version = 43;
    s.virtual_hosts = {{"ok.test", {{"/", snapshot::PathMatch::Prefix, "ok"}, {"/new", snapshot::PathMatch::Prefix, "ok"}}}};
    ASSERT_TRUE(proxy.apply(s));
    std::this_thread::sleep_for(100ms);  // apply() wakes the workers; they adopt the table at once
    reqs = "GET /new/x HTTP/1.1\r\nHost: ok.test\r\n\r\nGET /other HTTP/1.1\r\nHost: ok.test\r\n\r\n";
    got.clear();
    send(fd, reqs.data(), reqs.size(), MSG_NOSIGNAL);
    while (count(got, "HTTP/1.1 ") < 2) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        ASSERT_GT(n, 0) << got;
        got.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(count(got, "HTTP/1.1 200"), 2u) << got;
    std::string swapped = body(get(admin, "/metrics"));
    EXPECT_EQ(metric(swapped, "xgress_proxy_route_requests_total{route=\"ok.test /\",class=\"2xx\"}"), 6) << swapped;
    EXPECT_EQ(metric(swapped, "xgress_proxy_route_requests_total{route=\"ok.test /new\",class=\"2xx\"}"), 1) << swapped;
    EXPECT_EQ(metric(swapped, "xgress_proxy_route_requests_total{route=\"\",class=\"4xx\"}"), 3) << swapped;

    // Every counted route and backend at another index: counts follow the
    // names (the worker matches in place first, then looks the rest up).
    s.version = 44;
    s.backends = {{"another", {{"127.0.0.1", static_cast<std::uint16_t>(backend.port())}}},
                  {"ok", {{"127.0.0.1", static_cast<std::uint16_t>(backend.port())}}}};
    s.virtual_hosts = {{"a.test", {{"/", snapshot::PathMatch::Prefix, "another"}}},
                       {"ok.test", {{"/new", snapshot::PathMatch::Prefix, "ok"}, {"/", snapshot::PathMatch::Prefix, "ok"}}}};
    ASSERT_TRUE(proxy.apply(s));
    std::this_thread::sleep_for(100ms);
    reqs = "GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n";
    got.clear();
    send(fd, reqs.data(), reqs.size(), MSG_NOSIGNAL);
    while (count(got, "HTTP/1.1 ") < 1) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        ASSERT_GT(n, 0) << got;
        got.append(buf, static_cast<std::size_t>(n));
    }
    std::string moved = body(get(admin, "/metrics"));
    EXPECT_EQ(metric(moved, "xgress_proxy_route_requests_total{route=\"ok.test /\",class=\"2xx\"}"), 7) << moved;
    EXPECT_EQ(metric(moved, "xgress_proxy_route_requests_total{route=\"ok.test /new\",class=\"2xx\"}"), 1) << moved;
    EXPECT_EQ(metric(moved, "xgress_proxy_route_requests_total{route=\"\",class=\"4xx\"}"), 3) << moved;
    EXPECT_EQ(metric(moved, "xgress_proxy_upstream_responses_total{backend=\"ok\",class=\"2xx\"}"), 8) << moved;
    EXPECT_EQ(metric(moved, "xgress_proxy_upstream_latency_seconds_count{backend=\"ok\"}"), 8) << moved;
    close(fd);
    for (int i = 0; i < 100 && metric(body(get(admin, "/metrics")), "xgress_proxy_active_connections") != 0; ++i)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(metric(body(get(admin, "/metrics")), "xgress_proxy_active_connections"), 0);
}

TEST(AdminE2E, SecondProxyOnTheSameAdminPortFailsToStart) {
    auto first = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = "127.0.0.1:0"});
    ASSERT_TRUE(first) << first.error();
    const std::string taken = "127.0.0.1:" + std::to_string((*first)->admin_port());
    auto second = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = taken});
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().find("admin"), std::string::npos) << second.error();
}

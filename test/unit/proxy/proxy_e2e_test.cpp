// End to end on loopback: the proxy runs in-process on a free port and talks
// to small blocking HTTP backends started by the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy_server.h"
#include "loopback_http.h"

using namespace xgress;
using namespace std::chrono_literals;

namespace {

using xgress::testing::listen_loopback;
using xgress::testing::connect_loopback;
using xgress::testing::send_all;


std::string header_value(std::string_view head, std::string_view name) {
    std::string lower_head(head);
    for (char& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "\r\n" + std::string(name) + ":";
    std::size_t p = lower_head.find(key);
    if (p == std::string::npos) return {};
    p += key.size();
    while (p < head.size() && head[p] == ' ') ++p;
    return std::string(head.substr(p, head.find("\r\n", p) - p));
}

// Reads one HTTP message (head + body by Content-Length / chunked / close)
// from `fd`, keeping any extra bytes in `pending`.
struct Reader {
    int fd;
    std::string pending;
    bool fill() {
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        pending.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    // Returns {head, body}; head empty on EOF/timeout.
    std::pair<std::string, std::string> message(bool is_request = false) {
        std::size_t end;
        while ((end = pending.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return {};
        std::string head = pending.substr(0, end + 2);
        pending.erase(0, end + 4);
        std::string body;
        std::string cl = header_value(head, "content-length");
        if (!cl.empty()) {
            std::size_t n = std::stoul(cl);
            while (pending.size() < n)
                if (!fill()) return {};
            body = pending.substr(0, n);
            pending.erase(0, n);
        } else if (header_value(head, "transfer-encoding") == "chunked") {
            while ((end = pending.find("\r\n0\r\n\r\n")) == std::string::npos && !pending.starts_with("0\r\n\r\n"))
                if (!fill()) return {};
            std::size_t stop = pending.starts_with("0\r\n\r\n") ? 5 : end + 7;
            body = pending.substr(0, stop);
            pending.erase(0, stop);
        } else if (!is_request) {
            while (fill()) {}
            body = std::move(pending);
            pending.clear();
        }
        return {head, body};
    }
};

std::string big_body(std::size_t n) {
    std::string b(n, '\0');
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<char>('a' + (i * 7 + i / 251 + i / 65521) % 26);
    return b;
}

// A loopback HTTP/1.1 backend: answers "<name> <path> xff=<X-Forwarded-For> body=<bytes>".
// Path /chunked answers chunked; /close answers close-delimited and closes.
class Backend {
public:
    explicit Backend(std::string name) : name_(std::move(name)) {
        fd_ = listen_loopback(port_);
        thread_ = std::thread([this] { serve(); });
    }
    ~Backend() {
        stop_ = true;
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        for (auto& t : conns_) t.join();
    }
    int port() const { return port_; }
    int connections() const { return connections_.load(); }

private:
    void serve() {
        while (!stop_) {
            int c = accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            ++connections_;
            conns_.emplace_back([this, c] { handle(c); });
        }
    }
    void handle(int c) {
        xgress::testing::set_recv_timeout(c);
        Reader r{c, {}};
        bool drop_next = false;
        while (!stop_) {
            auto [head, body] = r.message(true);
            if (head.empty()) break;
            if (drop_next) break;  // a keep-alive connection the server closes just as a request arrives
            std::string path = head.substr(head.find(' ') + 1);
            path = path.substr(0, path.find(' '));
            if (path == "/once") drop_next = true;
            if (path == "/sleep") std::this_thread::sleep_for(1s);
            std::string text = name_ + " " + path + " xff=" + header_value(head, "x-forwarded-for") +
                               " host=" + header_value(head, "x-forwarded-host") + " body=" + std::to_string(body.size());
            if (path.starts_with("/big/")) {
                // A patterned body (no two nearby windows alike), sent in
                // uneven pieces so it arrives in several receives.
                int one = 1;  // the pieces must not wait for ACKs (Nagle + delayed ACK: 40 ms each)
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                const std::string body = big_body(std::stoul(path.substr(5)));
                const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
                send_all(c, head + body.substr(0, std::min<std::size_t>(body.size(), 1000)));
                for (std::size_t at = 1000; at < body.size(); at += 40000)
                    send_all(c, body.substr(at, 40000));
            } else if (path == "/chunked") {
                send_all(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            } else if (path == "/close") {
                send_all(c, "HTTP/1.1 200 OK\r\n\r\n" + text);
                break;
            } else if (path == "/garbage") {
                send_all(c, "NOT HTTP AT ALL\r\n\r\n");
                break;
            } else {
                send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text);
            }
        }
        close(c);
    }

    std::string name_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
    std::vector<std::thread> conns_;
};

class ProxyE2E : public ::testing::Test {
protected:
    void SetUp() override {
        a_ = std::make_unique<Backend>("A");
        b_ = std::make_unique<Backend>("B");
        int dead_fd = listen_loopback(dead_port_);
        close(dead_fd);  // nothing listens there any more: connect is refused
        auto server = ProxyServer::start(options());
        ASSERT_TRUE(server) << server.error();
        proxy_ = std::move(*server);
        ASSERT_TRUE(proxy_->apply(snapshot()));
    }

    virtual ProxyOptions options() { return ProxyOptions{.listen = "127.0.0.1:0", .workers = 2, .worker = {}, .admin = ""}; }

    virtual snapshot::Snapshot snapshot() {
        snapshot::Snapshot s;
        s.version = 1;
        s.backends = {{"a", {{"127.0.0.1", static_cast<std::uint16_t>(a_->port())}}},
                      {"b", {{"127.0.0.1", static_cast<std::uint16_t>(b_->port())}}},
                      {"empty", {}},
                      {"dead", {{"127.0.0.1", static_cast<std::uint16_t>(dead_port_)}}}};
        s.virtual_hosts = {{"a.test", {{"/", snapshot::PathMatch::Prefix, "a"}, {"/b", snapshot::PathMatch::Prefix, "b"}}},
                           {"empty.test", {{"/", snapshot::PathMatch::Prefix, "empty"}}},
                           {"dead.test", {{"/", snapshot::PathMatch::Prefix, "dead"}}}};
        return s;
    }

    std::pair<std::string, std::string> request(int fd, Reader& r, std::string_view host, std::string_view path) {
        send_all(fd, "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
        return r.message();
    }

    static int status(const std::string& head) { return head.size() > 12 ? std::stoi(head.substr(9, 3)) : 0; }

    std::unique_ptr<Backend> a_, b_;
    int dead_port_ = 0;
    std::unique_ptr<ProxyServer> proxy_;
};

}  // namespace

TEST_F(ProxyE2E, RoutesWithKeepAliveOnBothSides) {
    int fd = connect_loopback(proxy_->port());
    ASSERT_GE(fd, 0);
    Reader r{fd, {}};
    for (int i = 0; i < 20; ++i) {
        auto [head, body] = request(fd, r, "a.test", "/x");
        ASSERT_EQ(status(head), 200) << head;
        EXPECT_EQ(body, "A /x xff=127.0.0.1 host=a.test body=0");
        auto [head2, body2] = request(fd, r, "A.TEST:80", "/b/c");
        ASSERT_EQ(status(head2), 200);
        EXPECT_EQ(body2, "B /b/c xff=127.0.0.1 host=A.TEST:80 body=0");
    }
    close(fd);
    EXPECT_EQ(a_->connections(), 1) << "upstream keep-alive reuses one connection";
    EXPECT_EQ(b_->connections(), 1);
}

// Response bodies are relayed from the receive buffers without a copy when
// they can be (sendmsg of held buffers between copied bytes): the bytes
// must come out whole and in order, also behind a client that reads late
// (short sends) and with pipelined responses of every size mixed in.
TEST_F(ProxyE2E, LargeBodiesRelayedWholeAndInOrderToASlowClient) {
    // (No tiny SO_RCVBUF here: windows below one loopback MSS stall TCP
    // itself for hundreds of ms per response. 1.4 MB of responses behind a
    // 300 ms pause fill the socket buffers and the proxy's high-water mark.)
    int fd = connect_loopback(proxy_->port());
    ASSERT_GE(fd, 0);
    Reader r{fd, {}};
    const std::size_t sizes[] = {300000, 16384, 5, 70000, 2047, 2048, 1000000};
    std::string pipelined;
    for (std::size_t n : sizes) pipelined += "GET /big/" + std::to_string(n) + " HTTP/1.1\r\nHost: a.test\r\n\r\n";
    pipelined += "GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n";
    send_all(fd, pipelined);
    std::this_thread::sleep_for(300ms);  // the proxy's sends stall meanwhile
    for (std::size_t n : sizes) {
        auto [head, body] = r.message();
        ASSERT_EQ(status(head), 200) << n;
        ASSERT_EQ(body.size(), n);
        EXPECT_TRUE(body == big_body(n)) << "body of " << n << " bytes differs";
    }
    EXPECT_EQ(r.message().second, "A /x xff=127.0.0.1 host=a.test body=0");
    // And many in a row on one connection, read as fast as they come.
    for (int i = 0; i < 200; ++i) {
        auto [head, body] = request(fd, r, "a.test", "/big/16384");
        ASSERT_EQ(body.size(), 16384u);
        ASSERT_TRUE(body == big_body(16384)) << i;
    }
    close(fd);
}

TEST_F(ProxyE2E, NotFoundUnavailableBadGateway) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(status(request(fd, r, "nothing.test", "/").first), 404);
    EXPECT_EQ(status(request(fd, r, "empty.test", "/").first), 503);
    auto [head, body] = request(fd, r, "dead.test", "/");
    EXPECT_EQ(status(head), 502);
    EXPECT_EQ(header_value(head, "connection"), "close");
    close(fd);
    fd = connect_loopback(proxy_->port());
    Reader r2{fd, {}};
    EXPECT_EQ(status(request(fd, r2, "a.test", "/garbage").first), 502);
    close(fd);
}

TEST_F(ProxyE2E, PipelinedRequestsAnswerInOrder) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, "GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /b/2 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /3 HTTP/1.1\r\nHost: nope\r\n\r\n"
                 "GET /4 HTTP/1.1\r\nHost: a.test\r\n\r\n");
    EXPECT_EQ(r.message().second, "A /1 xff=127.0.0.1 host=a.test body=0");
    EXPECT_EQ(r.message().second, "B /b/2 xff=127.0.0.1 host=a.test body=0");
    EXPECT_EQ(status(r.message().first), 404);
    EXPECT_EQ(r.message().second, "A /4 xff=127.0.0.1 host=a.test body=0");
    close(fd);
}

TEST_F(ProxyE2E, RequestBodiesAndResponseFramings) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    std::string big(300000, 'x');
    send_all(fd, "POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big);
    EXPECT_EQ(r.message().second, "A /up xff=127.0.0.1 host=a.test body=300000");
    send_all(fd, "POST /ch HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(r.message().second, "A /ch xff=127.0.0.1 host=a.test body=13");  // chunked framing forwarded verbatim (13 bytes)
    auto [head, body] = request(fd, r, "a.test", "/chunked");
    EXPECT_EQ(body, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    auto [head2, body2] = request(fd, r, "a.test", "/close");
    EXPECT_EQ(status(head2), 200);
    EXPECT_EQ(header_value(head2, "connection"), "close");
    EXPECT_EQ(body2, "A /close xff=127.0.0.1 host=a.test body=0");
    close(fd);
}

TEST_F(ProxyE2E, MalformedRequestGets400AndClose) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto [head, body] = r.message();
    EXPECT_EQ(status(head), 400);
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0) << "connection closed after 400";
    close(fd);
}

TEST_F(ProxyE2E, Http10ClientGetsLengthDelimitedResponse) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, "GET /x HTTP/1.0\r\nHost: a.test\r\n\r\n");
    auto [head, body] = r.message();
    EXPECT_EQ(status(head), 200);
    EXPECT_EQ(body, "A /x xff=127.0.0.1 host=a.test body=0");
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0) << "HTTP/1.0 without keep-alive closes";
    close(fd);
}

TEST_F(ProxyE2E, SnapshotSwapChangesRouting) {
    auto s = snapshot();
    s.version = 2;
    s.virtual_hosts[0].routes = {{"/", snapshot::PathMatch::Prefix, "b"}};
    ASSERT_TRUE(proxy_->apply(s));
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(request(fd, r, "a.test", "/x").second, "B /x xff=127.0.0.1 host=a.test body=0");
    close(fd);
}

TEST_F(ProxyE2E, GeneratedResponsesAreCounted) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(status(request(fd, r, "nothing.test", "/").first), 404);
    EXPECT_EQ(status(request(fd, r, "empty.test", "/").first), 503);
    close(fd);
    fd = connect_loopback(proxy_->port());
    Reader r2{fd, {}};
    send_all(fd, "GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n");
    EXPECT_EQ(status(r2.message().first), 431);
    close(fd);
    fd = connect_loopback(proxy_->port());
    Reader r3{fd, {}};
    send_all(fd, "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    EXPECT_EQ(status(r3.message().first), 400);
    close(fd);
    io::StatsTotals t = proxy_->stats();
    EXPECT_EQ(t.generated_count(404), 1u);
    EXPECT_EQ(t.generated_count(503), 1u);
    EXPECT_EQ(t.generated_count(431), 1u);
    EXPECT_EQ(t.generated_count(400), 1u);
    EXPECT_EQ(t.generated_count(502), 0u);
    EXPECT_GE(t.requests, 2u);
}

namespace {

// Short timeouts, one worker (one pool, one picker: counts are exact) and a
// backend mixing a refusing endpoint with a live one.
class ProxyTimeouts : public ProxyE2E {
protected:
    void SetUp() override {
        // A listener whose accept queue is full: SYNs to it are dropped, so a
        // connect hangs until our connect timeout.
        hole_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(hole_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(hole_fd_, 0);
        socklen_t len = sizeof a;
        getsockname(hole_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        hole_port_ = ntohs(a.sin_port);
        for (int i = 0; i < 3; ++i) {
            int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
            fillers_.push_back(c);
        }
        std::this_thread::sleep_for(50ms);
        ProxyE2E::SetUp();
    }
    void TearDown() override {
        for (int c : fillers_) close(c);
        close(hole_fd_);
    }
    ProxyOptions options() override {
        ProxyOptions o{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = ""};
        o.worker.client_header_timeout_ms = 300;
        o.worker.client_body_timeout_ms = 300;
        o.worker.client_idle_timeout_ms = 300;
        o.worker.route_defaults.connect_timeout_ms = 200;
        o.worker.route_defaults.read_timeout_ms = 300;
        o.worker.route_defaults.max_body_bytes = 1000;
        o.worker.timer_tick_ms = 20;
        return o;
    }
    snapshot::Snapshot snapshot() override {
        snapshot::Snapshot s = ProxyE2E::snapshot();
        s.backends.push_back({"hole", {{"127.0.0.1", static_cast<std::uint16_t>(hole_port_)}}});
        s.backends.push_back({"mixed", {{"127.0.0.1", static_cast<std::uint16_t>(dead_port_)},
                                        {"127.0.0.1", static_cast<std::uint16_t>(a_->port())}}});
        s.virtual_hosts.push_back({"hole.test", {{"/", snapshot::PathMatch::Prefix, "hole"}}});
        s.virtual_hosts.push_back({"mixed.test", {{"/", snapshot::PathMatch::Prefix, "mixed"}}});
        return s;
    }
    static bool closed_by_peer(int fd) {
        char c;
        return recv(fd, &c, 1, 0) == 0;
    }

    int hole_fd_ = -1;
    int hole_port_ = 0;
    std::vector<int> fillers_;
};

}  // namespace

TEST_F(ProxyTimeouts, IncompleteHeadGets408AndClose) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, "GET / HTTP/1.1\r\nHost: a.test\r\n");
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(status(r.message().first), 408);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_TRUE(closed_by_peer(fd));
    close(fd);
    EXPECT_EQ(proxy_->stats().generated_count(408), 1u);
}

TEST_F(ProxyTimeouts, IdleKeepAliveConnectionIsClosedSilently) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(status(request(fd, r, "a.test", "/x").first), 200);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(fd)) << "no bytes, just the close";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    close(fd);
    EXPECT_EQ(proxy_->stats().generated_count(408), 0u);
}

TEST_F(ProxyTimeouts, StalledRequestBodyGets408) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, "POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 10\r\n\r\nabc");
    EXPECT_EQ(status(r.message().first), 408);
    close(fd);
}

TEST_F(ProxyTimeouts, SlowUpstreamGets504) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    auto [head, body] = request(fd, r, "a.test", "/sleep");
    EXPECT_EQ(status(head), 504);
    close(fd);
    EXPECT_EQ(proxy_->stats().generated_count(504), 1u);
    EXPECT_EQ(proxy_->stats().upstream_retries, 0u) << "a read timeout is not retried";
}

TEST_F(ProxyTimeouts, HangingConnectGets504) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(status(request(fd, r, "hole.test", "/").first), 504);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    close(fd);
    EXPECT_EQ(proxy_->stats().endpoint_ejections, 1u);
}

TEST_F(ProxyTimeouts, BodyOverLimitGets413) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, "POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\n\r\n");
    EXPECT_EQ(status(r.message().first), 413);
    close(fd);
    fd = connect_loopback(proxy_->port());
    Reader r2{fd, {}};
    send_all(fd, "POST /x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n" + std::string(2000, 'y') +
                     "\r\n0\r\n\r\n");
    EXPECT_EQ(status(r2.message().first), 413);
    close(fd);
    EXPECT_EQ(proxy_->stats().generated_count(413), 2u);
}

TEST_F(ProxyTimeouts, ServerClosedPooledConnectionIsRetried) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(request(fd, r, "a.test", "/once").second, "A /once xff=127.0.0.1 host=a.test body=0");
    // The pooled connection is dropped by the backend when this arrives.
    EXPECT_EQ(request(fd, r, "a.test", "/x").second, "A /x xff=127.0.0.1 host=a.test body=0");
    close(fd);
    EXPECT_EQ(proxy_->stats().upstream_retries, 1u);
    EXPECT_EQ(proxy_->stats().generated_count(502), 0u);
    EXPECT_EQ(a_->connections(), 2);
}

TEST_F(ProxyTimeouts, NonIdempotentRequestIsNotRetriedAfterSending) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(status(request(fd, r, "a.test", "/once").first), 200);
    send_all(fd, "POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\nhi");
    EXPECT_EQ(status(r.message().first), 502);
    close(fd);
    EXPECT_EQ(proxy_->stats().upstream_retries, 0u);
}

TEST_F(ProxyTimeouts, RefusingEndpointIsEjectedAndRequestsRetried) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    for (int i = 0; i < 10; ++i) {
        auto [head, body] = request(fd, r, "mixed.test", "/m");
        ASSERT_EQ(status(head), 200) << "request " << i;
        EXPECT_EQ(body, "A /m xff=127.0.0.1 host=mixed.test body=0");
    }
    close(fd);
    io::StatsTotals t = proxy_->stats();
    EXPECT_EQ(t.endpoint_ejections, 1u);
    EXPECT_EQ(t.upstream_retries, 1u) << "after the ejection the dead endpoint is skipped";
}

namespace {

// An endpoint that dies with a request in flight: it answers the first
// request of its first connection, then stops listening (new connects are
// refused) and drops that connection when the next request arrives on it.
class DyingEndpoint {
public:
    DyingEndpoint() {
        int port = 0;
        fd_ = listen_loopback(port);
        port_ = port;
        thread_ = std::thread([this] {
            int c = accept(fd_.load(), nullptr, nullptr);
            if (c < 0) return;
            Reader r{c, {}};
            auto [head, body] = r.message(true);
            const std::string text = "K";
            send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + text);
            close(fd_.exchange(-1));  // killed: connects are refused from now on
            r.message(true);  // the next request arrives ...
            close(c);         // ... and is never answered
        });
    }
    ~DyingEndpoint() {
        if (int fd = fd_.exchange(-1); fd >= 0) {
            shutdown(fd, SHUT_RDWR);  // never connected to: unblock accept()
            thread_.join();
            close(fd);
            return;
        }
        thread_.join();
    }
    int port() const { return port_; }

private:
    std::atomic<int> fd_{-1};
    int port_ = 0;
    std::thread thread_;
};

// Round robin over [K, A, K] with one worker makes the picks exact: the
// third request reuses K's pooled connection and breaks (K died), its retry
// picks K again (not ejected: only connect failures eject) and is refused.
class ProxyKilledEndpoint : public ProxyTimeouts {
protected:
    void SetUp() override {
        k_ = std::make_unique<DyingEndpoint>();
        ProxyTimeouts::SetUp();
    }
    ProxyOptions options() override {
        ProxyOptions o = ProxyTimeouts::options();
        o.worker.balance = upstream::Balance::RoundRobin;
        return o;
    }
    snapshot::Snapshot snapshot() override {
        snapshot::Snapshot s = ProxyTimeouts::snapshot();
        const auto k = static_cast<std::uint16_t>(k_->port());
        s.backends.push_back({"killed", {{"127.0.0.1", k}, {"127.0.0.1", static_cast<std::uint16_t>(a_->port())}, {"127.0.0.1", k}}});
        s.virtual_hosts.push_back({"killed.test", {{"/", snapshot::PathMatch::Prefix, "killed"}}});
        return s;
    }
    std::unique_ptr<DyingEndpoint> k_;
};

}  // namespace

TEST_F(ProxyKilledEndpoint, RefusedRetryOfABrokenRequestGetsASecondTry) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(request(fd, r, "killed.test", "/1").second, "K");
    EXPECT_EQ(request(fd, r, "killed.test", "/2").second, "A /2 xff=127.0.0.1 host=killed.test body=0");
    // K's pooled connection breaks (Io), the retry is refused by K, the
    // second retry reaches A: the client sees no error.
    auto [head, body] = request(fd, r, "killed.test", "/3");
    EXPECT_EQ(status(head), 200);
    EXPECT_EQ(body, "A /3 xff=127.0.0.1 host=killed.test body=0");
    close(fd);
    io::StatsTotals t = proxy_->stats();
    EXPECT_EQ(t.upstream_retries, 2u);
    EXPECT_EQ(t.endpoint_ejections, 1u);
    EXPECT_EQ(t.generated_count(502), 0u);
}

namespace {

// A raw TCP server for passthrough: reads until the client half-closes, then
// answers "got <n>: <first bytes>" and closes. Only a relay that passes the
// client's EOF on (shutdown SHUT_WR) lets it answer at all.
class HalfCloseEcho {
public:
    int port() const { return server_.port(); }

private:
    static void serve(int c) {
        std::string got;
        char buf[4096];
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<std::size_t>(n));
        send_all(c, "got " + std::to_string(got.size()) + ": " + got.substr(0, 16));
        close(c);
    }
    xgress::testing::LoopbackServer server_{serve};
};

}  // namespace

TEST_F(ProxyE2E, TcpFrontendRelaysBytesAndHonoursHalfClose) {
    HalfCloseEcho echo;
    auto s = snapshot();
    s.version = 5;
    s.backends.push_back({"tcp", {{"127.0.0.1", static_cast<std::uint16_t>(echo.port())}}});
    s.frontends = {{"", static_cast<std::uint16_t>(proxy_->port()), snapshot::FrontendProtocol::Tcp, "tcp"}};
    ASSERT_TRUE(proxy_->apply(s));
    std::this_thread::sleep_for(50ms);  // workers pick the table up on their next completion batch
    for (int round = 0; round < 3; ++round) {
        int fd = connect_loopback(proxy_->port());
        ASSERT_GE(fd, 0);
        std::string payload = "NOT HTTP \x01\x02 " + std::string(100000, 'z');
        send_all(fd, payload);
        shutdown(fd, SHUT_WR);
        std::string reply;
        char buf[4096];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<std::size_t>(n));
        EXPECT_EQ(n, 0) << "closed after the backend closed";
        EXPECT_EQ(reply, "got " + std::to_string(payload.size()) + ": " + payload.substr(0, 16));
        close(fd);
    }
}

TEST_F(ProxyE2E, ExactFrontendAddressBeatsAnyAddressAndHttpStillRoutes) {
    HalfCloseEcho echo;
    auto s = snapshot();
    s.version = 6;
    s.backends.push_back({"tcp", {{"127.0.0.1", static_cast<std::uint16_t>(echo.port())}}});
    const auto port = static_cast<std::uint16_t>(proxy_->port());
    s.frontends = {{"", port, snapshot::FrontendProtocol::Tcp, "tcp"},
                   {"127.0.0.1", port, snapshot::FrontendProtocol::Http, ""}};
    ASSERT_TRUE(proxy_->apply(s));
    std::this_thread::sleep_for(50ms);
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(request(fd, r, "a.test", "/x").second, "A /x xff=127.0.0.1 host=a.test body=0");
    close(fd);
}

TEST_F(ProxyE2E, TcpFrontendWithoutEndpointsClosesTheConnection) {
    auto s = snapshot();
    s.version = 7;
    s.frontends = {{"", static_cast<std::uint16_t>(proxy_->port()), snapshot::FrontendProtocol::Tcp, "empty"}};
    ASSERT_TRUE(proxy_->apply(s));
    std::this_thread::sleep_for(50ms);
    int fd = connect_loopback(proxy_->port());
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0);
    close(fd);
}

namespace {

// A WebSocket-like backend: a GET carrying "Upgrade: websocket" and
// "Connection: upgrade" gets a 101, a greeting, then every byte echoed until
// the client closes. A request without both headers gets 426; path /refuse
// gets a plain 200 even when it asks to upgrade (the request stays HTTP).
class UpgradeEcho {
public:
    UpgradeEcho() {
        fd_ = listen_loopback(port_);
        thread_ = std::thread([this] {
            for (;;) {
                int c = accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                conns_.emplace_back([this, c] { handle(c); });
            }
        });
    }
    ~UpgradeEcho() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        for (auto& t : conns_) t.join();
    }
    int port() const { return port_; }

private:
    void handle(int c) {
        xgress::testing::set_recv_timeout(c);
        Reader r{c, {}};
        for (;;) {
            auto [head, body] = r.message(true);
            if (head.empty()) break;
            const bool asks = header_value(head, "upgrade") == "websocket" && header_value(head, "connection") == "upgrade";
            if (head.starts_with("GET /refuse ")) {
                send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nrefused");
                continue;
            }
            if (!asks) {
                send_all(c, "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            send_all(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello");
            send_all(c, r.pending);  // bytes the client sent right behind its head
            char buf[16384];
            ssize_t n;
            while ((n = recv(c, buf, sizeof buf, 0)) > 0) send_all(c, std::string_view(buf, static_cast<std::size_t>(n)));
            break;
        }
        close(c);
    }

    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
    std::vector<std::thread> conns_;
};

constexpr std::string_view kUpgradeRequest =
    "GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

std::string read_exactly(Reader& r, std::size_t n) {
    while (r.pending.size() < n)
        if (!r.fill()) break;
    std::string out = r.pending.substr(0, n);
    r.pending.erase(0, out.size());
    return out;
}

snapshot::Snapshot with_ws(snapshot::Snapshot s, const UpgradeEcho& ws) {
    s.version += 10;
    s.backends.push_back({"ws", {{"127.0.0.1", static_cast<std::uint16_t>(ws.port())}}});
    s.virtual_hosts.push_back({"ws.test", {{"/", snapshot::PathMatch::Prefix, "ws"}}});
    return s;
}

}  // namespace

TEST_F(ProxyE2E, WebSocketUpgradeBecomesATunnel) {
    UpgradeEcho ws;
    ASSERT_TRUE(proxy_->apply(with_ws(snapshot(), ws)));
    std::this_thread::sleep_for(50ms);
    int fd = connect_loopback(proxy_->port());
    ASSERT_GE(fd, 0);
    Reader r{fd, {}};
    send_all(fd, std::string(kUpgradeRequest) + "early");  // a first frame right behind the head
    std::size_t end;
    while ((end = r.pending.find("\r\n\r\n")) == std::string::npos) ASSERT_TRUE(r.fill());
    std::string head = r.pending.substr(0, end + 2);
    r.pending.erase(0, end + 4);
    EXPECT_EQ(status(head), 101) << head;
    EXPECT_EQ(header_value(head, "upgrade"), "websocket");
    EXPECT_EQ(header_value(head, "connection"), "upgrade");
    EXPECT_EQ(read_exactly(r, 10), "helloearly");
    std::string big(300000, 'w');
    for (std::size_t i = 0; i < big.size(); i += 977) big[i] = static_cast<char>('a' + i % 26);
    std::thread writer([&] { send_all(fd, big); });
    EXPECT_EQ(read_exactly(r, big.size()), big) << "bytes echoed through the tunnel both ways";
    writer.join();
    shutdown(fd, SHUT_WR);  // the backend sees EOF, closes, and the proxy passes that on
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0);
    close(fd);
}

TEST_F(ProxyE2E, UpgradeRefusedByUpstreamStaysHttp) {
    UpgradeEcho ws;
    ASSERT_TRUE(proxy_->apply(with_ws(snapshot(), ws)));
    std::this_thread::sleep_for(50ms);
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    std::string req(kUpgradeRequest);
    req.replace(req.find("/chat"), 5, "/refuse");
    send_all(fd, req);
    auto [head, body] = r.message();
    EXPECT_EQ(status(head), 200) << head;
    EXPECT_EQ(body, "refused");
    // Still an HTTP connection: a plain request without Upgrade goes through as such.
    auto [head2, body2] = request(fd, r, "ws.test", "/plain");
    EXPECT_EQ(status(head2), 426) << "no Upgrade header is sent for a plain request";
    EXPECT_EQ(status(request(fd, r, "a.test", "/x").first), 200);
    close(fd);
}

TEST_F(ProxyE2E, UnsolicitedSwitchingProtocolsIs502) {
    // An upstream that answers 101 to a request that did not ask to upgrade.
    int port = 0;
    int lfd = listen_loopback(port);
    std::thread rogue([lfd] {
        int c = accept(lfd, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        recv(c, buf, sizeof buf, 0);
        send_all(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n");
        std::this_thread::sleep_for(200ms);
        close(c);
    });
    auto s = snapshot();
    s.version = 20;
    s.backends.push_back({"rogue", {{"127.0.0.1", static_cast<std::uint16_t>(port)}}});
    s.virtual_hosts.push_back({"rogue.test", {{"/", snapshot::PathMatch::Prefix, "rogue"}}});
    ASSERT_TRUE(proxy_->apply(s));
    std::this_thread::sleep_for(50ms);
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    EXPECT_EQ(status(request(fd, r, "rogue.test", "/").first), 502);
    close(fd);
    rogue.join();
    close(lfd);
}

namespace {

class ProxyTunnelTimeout : public ProxyE2E {
protected:
    ProxyOptions options() override {
        ProxyOptions o{.listen = "127.0.0.1:0", .workers = 1, .worker = {}, .admin = ""};
        o.worker.tunnel_idle_timeout_ms = 300;
        o.worker.timer_tick_ms = 20;
        return o;
    }
};

}  // namespace

TEST_F(ProxyTunnelTimeout, IdleTunnelIsClosedButBusyOneIsNot) {
    UpgradeEcho ws;
    ASSERT_TRUE(proxy_->apply(with_ws(snapshot(), ws)));
    std::this_thread::sleep_for(50ms);
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    send_all(fd, kUpgradeRequest);
    std::size_t end;
    while ((end = r.pending.find("\r\n\r\n")) == std::string::npos) ASSERT_TRUE(r.fill());
    EXPECT_EQ(status(r.pending), 101);
    r.pending.erase(0, end + 4);
    EXPECT_EQ(read_exactly(r, 5), "hello");
    for (int i = 0; i < 8; ++i) {  // 8 x 100 ms of traffic: longer than the timeout, never idle that long
        std::this_thread::sleep_for(100ms);
        send_all(fd, "x");
        ASSERT_EQ(read_exactly(r, 1), "x") << "round " << i;
    }
    auto t0 = std::chrono::steady_clock::now();
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0) << "closed after the idle timeout";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    close(fd);
}

namespace {

// Accepts every connection, reads the request and hangs up without an
// answer (a backend dying with requests queued on its listener looks so).
class HangUpEndpoint {
public:
    HangUpEndpoint() {
        fd_ = listen_loopback(port_);
        thread_ = std::thread([this] {
            for (;;) {
                int c = accept(fd_, nullptr, nullptr);
                if (c < 0) return;
                Reader r{c, {}};
                r.message(true);
                close(c);
            }
        });
    }
    ~HangUpEndpoint() {
        shutdown(fd_, SHUT_RDWR);
        thread_.join();
        close(fd_);
    }
    int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

// Round robin over [H1, H2, A], one worker: a GET breaks on H1, its retry
// breaks on H2, and (idempotent) it gets a second retry that avoids H2 and
// reaches A. In the lab this is an endpoint killed with connections still
// in its accept queue: the retry's connect succeeds, then is reset.
class ProxyTwoBrokenTries : public ProxyTimeouts {
protected:
    void SetUp() override {
        h1_ = std::make_unique<HangUpEndpoint>();
        h2_ = std::make_unique<HangUpEndpoint>();
        ProxyTimeouts::SetUp();
    }
    ProxyOptions options() override {
        ProxyOptions o = ProxyTimeouts::options();
        o.worker.balance = upstream::Balance::RoundRobin;
        return o;
    }
    snapshot::Snapshot snapshot() override {
        snapshot::Snapshot s = ProxyTimeouts::snapshot();
        s.backends.push_back({"hangup",
                              {{"127.0.0.1", static_cast<std::uint16_t>(h1_->port())},
                               {"127.0.0.1", static_cast<std::uint16_t>(h2_->port())},
                               {"127.0.0.1", static_cast<std::uint16_t>(a_->port())}}});
        s.virtual_hosts.push_back({"hangup.test", {{"/", snapshot::PathMatch::Prefix, "hangup"}}});
        return s;
    }
    std::unique_ptr<HangUpEndpoint> h1_, h2_;
};

}  // namespace

TEST_F(ProxyTwoBrokenTries, IdempotentRequestGetsASecondRetryElsewhere) {
    int fd = connect_loopback(proxy_->port());
    Reader r{fd, {}};
    auto [head, body] = request(fd, r, "hangup.test", "/g");
    EXPECT_EQ(status(head), 200) << head;
    EXPECT_EQ(body, "A /g xff=127.0.0.1 host=hangup.test body=0");
    close(fd);
    EXPECT_EQ(proxy_->stats().upstream_retries, 2u);
    EXPECT_EQ(proxy_->stats().generated_count(502), 0u);
}

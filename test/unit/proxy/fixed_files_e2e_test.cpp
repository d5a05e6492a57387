// Sockets in the ring's fixed-file table (--io-fixed-files, io/worker.h):
// each accepted or connected socket is registered at slot = fd and must be
// unregistered when the proxy lets it go, or the table keeps the socket alive
// after close(). The table's live entries are visible in the ring's
// /proc/self/fdinfo ("UserFiles:" and one "N: socket:[inode]" line each), so
// the test watches registration and release there, with the table on and off,
// through connection churn that reuses fd numbers on both sides.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "loopback_http.h"
#include "proxy_server.h"
#include "xgress/snapshot.h"

using namespace xgress;
using xgress::testing::Conn;
using xgress::testing::EchoBackend;
using xgress::testing::recv_head;
using xgress::testing::send_all;
using xgress::testing::set_recv_timeout;

namespace {

struct RingFiles {
    long slots = 0;   // UserFiles: the table's size, summed over rings
    int sockets = 0;  // registered sockets listed
};

// Sums every io_uring of this process. The kernel lists the table only when
// it gets the ring's lock at once (else it lists nothing), so callers that
// expect sockets retry (wait_sockets).
RingFiles ring_files() {
    RingFiles r;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(e.path(), ec).string() != "anon_inode:[io_uring]") continue;
        std::ifstream in("/proc/self/fdinfo/" + e.path().filename().string());
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with("UserFiles:")) r.slots += std::stol(line.substr(10));
            if (line.find(": socket:[") != std::string::npos) ++r.sockets;
        }
    }
    return r;
}

// Waits until the table holds `want` sockets; returns what it saw last.
int wait_sockets(int want) {
    int seen = -1;
    for (int i = 0; i < 200 && seen != want; ++i) {
        seen = ring_files().sockets;
        if (seen != want) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return seen;
}

// Answers one request per connection, then closes: every proxied request
// needs a new upstream connection (upstream fd churn).
class OneShotBackend {
public:
    std::uint16_t port() const { return server_.port(); }

private:
    static void serve(int c) {
        set_recv_timeout(c);
        std::string in;
        if (recv_head(c, in) != std::string::npos)
            send_all(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nshot");
        close(c);
    }
    xgress::testing::LoopbackServer server_{serve};
};

snapshot::Snapshot routes(std::uint16_t keep_port, std::uint16_t shot_port) {
    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"keep", {{"127.0.0.1", keep_port}}}, {"shot", {{"127.0.0.1", shot_port}}}};
    s.virtual_hosts = {{"keep.test", {{"/", snapshot::PathMatch::Prefix, "keep"}}},
                       {"shot.test", {{"/", snapshot::PathMatch::Prefix, "shot"}}}};
    return s;
}

class FixedFiles : public ::testing::TestWithParam<bool> {};

}  // namespace

TEST_P(FixedFiles, SocketsAreRegisteredWhileOpenAndReleasedAfter) {
    const bool fixed = GetParam();
    EchoBackend keep("keep");
    OneShotBackend shot;
    io::WorkerOptions w;
    w.fixed_files = fixed;
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 1, .worker = w, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    ProxyServer& proxy = **server;
    ASSERT_TRUE(proxy.apply(routes(keep.port(), shot.port())));

    const RingFiles idle = ring_files();
    if (fixed) EXPECT_GT(idle.slots, 0) << "no fixed-file table";
    else EXPECT_EQ(idle.slots, 0) << "a fixed-file table with --io-fixed-files false";
    EXPECT_EQ(idle.sockets, 0);

    {
        // A keep-alive client and its pooled upstream: two registered sockets.
        Conn c(proxy.port());
        ASSERT_EQ(c.get("keep.test", "/a").status, 200);
        ASSERT_EQ(c.get("keep.test", "/b").status, 200);
        EXPECT_EQ(wait_sockets(fixed ? 2 : 0), fixed ? 2 : 0);
    }
    // The client left: its socket leaves the table; the idle upstream stays.
    EXPECT_EQ(wait_sockets(fixed ? 1 : 0), fixed ? 1 : 0);

    // Churn: new client connections (closed by the proxy after
    // `Connection: close`) and a new upstream per request (the backend
    // closes), so fd numbers are reused on both sides, often within a batch.
    for (int i = 0; i < 100; ++i) {
        Conn c(proxy.port());
        const Conn::Message m = c.get("shot.test", "/s" + std::to_string(i), "Connection: close\r\n");
        ASSERT_EQ(m.status, 200) << i;
        ASSERT_EQ(m.body, "shot") << i;
        ASSERT_TRUE(c.closed_by_peer()) << i;
    }
    EXPECT_EQ(wait_sockets(fixed ? 1 : 0), fixed ? 1 : 0) << "sockets left registered after churn";

    // The pooled keep-alive upstream still works (its slot was not clobbered).
    Conn c(proxy.port());
    const Conn::Message m = c.get("keep.test", "/again");
    ASSERT_EQ(m.status, 200);
    EXPECT_EQ(xgress::testing::backend_of(m.body), "keep");
}

INSTANTIATE_TEST_SUITE_P(OnAndOff, FixedFiles, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Fixed" : "PlainFds"; });

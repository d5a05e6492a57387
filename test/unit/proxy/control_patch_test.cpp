// The proxy's control client against a fake agent on a unix socket: a full
// Snapshot, then EndpointsPatch frames — applied and ACKed with the new
// version, or NACKed with the reason (stale base version, unknown backend)
// while the last good table keeps serving.
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "control/control_client.h"
#include "control/frame_io.h"
#include "loopback_http.h"
#include "proxy_server.h"

using namespace xgress;
using namespace xgress::testing;

namespace {

struct FakeAgent {
    std::string path;
    int listen_fd = -1;
    int conn = -1;
    std::atomic<bool> stop{false};
    FakeAgent() {
        path = "/tmp/xgress-proxy-ctl-" + std::to_string(getpid()) + ".sock";
        unlink(path.c_str());
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        bind(listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(listen_fd, 1);
    }
    ~FakeAgent() {
        if (conn >= 0) close(conn);
        close(listen_fd);
        unlink(path.c_str());
    }
    control::Frame exchange(control::MessageType type, std::uint64_t version, const std::string& payload) {
        EXPECT_TRUE(control::write_frame(conn, type, version, payload));
        auto f = control::read_frame(conn, stop);
        EXPECT_TRUE(f) << f.error();
        return f ? *f : control::Frame{};
    }
};

}  // namespace

TEST(ControlPatch, PatchesAreAppliedAckedOrNackedWithTheReason) {
    EchoBackend a("A"), b("B");
    auto server = ProxyServer::start(ProxyOptions{.listen = "127.0.0.1:0", .workers = 2, .worker = {}, .admin = ""});
    ASSERT_TRUE(server) << server.error();
    auto& proxy = *server;
    FakeAgent agent;
    std::atomic<int> answered{0};  // after_answer runs once per Ack or Nack
    auto answers_reach = [&](int n) {
        for (int i = 0; i < 200 && answered.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return answered.load();
    };
    control::ControlClient client(
        agent.path, proxy->announced_listener(), proxy->listen_address(),
        [&](std::string&& json, std::chrono::steady_clock::time_point& decoded_at) {
            return proxy->apply_json(std::move(json), &decoded_at);
        },
        [&](const snapshot::EndpointsPatch& p) { return proxy->apply_patch(p); },
        [&] {
            proxy->release_retired();
            ++answered;
        });
    client.start();
    agent.conn = accept(agent.listen_fd, nullptr, nullptr);
    ASSERT_GE(agent.conn, 0);
    auto hello = control::read_frame(agent.conn, agent.stop);
    ASSERT_TRUE(hello) << hello.error();
    EXPECT_EQ(hello->type, control::MessageType::Hello);

    snapshot::Snapshot s;
    s.version = 1;
    s.backends = {{"svc", {{"127.0.0.1", a.port()}}}, {"other", {}}};
    s.default_backend = "svc";
    auto ack = agent.exchange(control::MessageType::Snapshot, 1, snapshot::encode(s));
    EXPECT_EQ(ack.type, control::MessageType::Ack);
    EXPECT_EQ(ack.version, 1u);
    EXPECT_EQ(answers_reach(1), 1);
    {
        Conn c(proxy->port());
        EXPECT_EQ(backend_of(c.get("x.test", "/").body), "A");
    }

    snapshot::EndpointsPatch patch{1, 2, {{"svc", {{"127.0.0.1", b.port()}}}}};
    ack = agent.exchange(control::MessageType::EndpointsPatch, 2, snapshot::encode_patch(patch));
    EXPECT_EQ(ack.type, control::MessageType::Ack);
    EXPECT_EQ(ack.version, 2u);
    {
        Conn c(proxy->port());
        EXPECT_EQ(backend_of(c.get("x.test", "/").body), "B") << "the patched endpoints serve";
    }
    EXPECT_EQ(proxy->applied_version(), 2u);
    auto config = snapshot::decode(proxy->applied().second);
    ASSERT_TRUE(config) << config.error();
    EXPECT_EQ(config->backends[0].endpoints[0].port, b.port()) << "/config shows the patched snapshot";

    snapshot::EndpointsPatch stale{1, 3, {{"svc", {{"127.0.0.1", a.port()}}}}};
    auto nack = agent.exchange(control::MessageType::EndpointsPatch, 3, snapshot::encode_patch(stale));
    EXPECT_EQ(nack.type, control::MessageType::Nack);
    EXPECT_EQ(nack.version, 3u);
    EXPECT_NE(nack.payload.find("base version 1"), std::string::npos) << nack.payload;

    snapshot::EndpointsPatch unknown{2, 3, {{"nope", {}}}};
    nack = agent.exchange(control::MessageType::EndpointsPatch, 3, snapshot::encode_patch(unknown));
    EXPECT_EQ(nack.type, control::MessageType::Nack);
    EXPECT_NE(nack.payload.find("\"nope\""), std::string::npos) << nack.payload;
    {
        Conn c(proxy->port());
        EXPECT_EQ(backend_of(c.get("x.test", "/").body), "B") << "rejected patches change nothing";
    }
    EXPECT_EQ(proxy->applied_version(), 2u);
    EXPECT_EQ(answers_reach(4), 4) << "two Acks and two Nacks";
    agent.stop = true;
    client.stop();
}

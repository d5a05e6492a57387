// The control server against a hand-rolled proxy client over a real unix
// socket, with a recording ListenerSink instead of the BPF SOCKMAP.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>

#include "push/control_server.h"
#include "push/frame.h"
#include "push/hello.h"

namespace xgress::agent::push {
namespace {

using control::FrameHeader;
using control::MessageType;

struct RecordingSink : ListenerSink {
    struct Call {
        std::uint32_t slot;
        ino_t inode;
    };
    std::vector<Call> calls;
    std::expected<void, std::string> set_listener(std::uint32_t slot, int fd) override {
        struct stat st {};
        if (::fstat(fd, &st) != 0) return std::unexpected(std::string("bad fd"));
        calls.push_back({slot, st.st_ino});
        return {};
    }
};

ino_t inode_of(int fd) {
    struct stat st {};
    ::fstat(fd, &st);
    return st.st_ino;
}

class ControlServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);
        std::string pattern = (std::filesystem::temp_directory_path() / "xgress-control-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
        path_ = (dir_ / "sub" / "control.sock").string();
        auto server = ControlServer::listen(path_, sink_);
        ASSERT_TRUE(server.has_value()) << server.error();
        server_ = std::move(*server);
    }
    void TearDown() override {
        server_.reset();
        std::filesystem::remove_all(dir_);
    }

    int connect_client() {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        timeval timeout{2, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        return fd;
    }

    static void send_frame(int fd, const std::string& frame, const std::vector<int>& fds = {}) {
        iovec iov{const_cast<char*>(frame.data()), frame.size()};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<std::size_t>(fds.size(), 1)));
        if (!fds.empty()) {
            message.msg_control = control.data();
            message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
            cmsghdr* header = CMSG_FIRSTHDR(&message);
            header->cmsg_level = SOL_SOCKET;
            header->cmsg_type = SCM_RIGHTS;
            header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
        }
        ASSERT_EQ(::sendmsg(fd, &message, 0), static_cast<ssize_t>(frame.size()));
    }

    // Reads one frame (blocking, 2 s timeout); nullopt when the peer closed.
    static std::optional<std::pair<FrameHeader, std::string>> read_frame(int fd) {
        FrameHeader header{};
        if (!read_exact(fd, &header, sizeof header)) return std::nullopt;
        std::string payload(header.length, '\0');
        if (!read_exact(fd, payload.data(), payload.size())) return std::nullopt;
        return std::pair{header, payload};
    }

    static bool read_exact(int fd, void* data, std::size_t size) {
        auto* out = static_cast<char*>(data);
        while (size > 0) {
            const ssize_t n = ::recv(fd, out, size, 0);
            if (n <= 0) return false;
            out += n;
            size -= static_cast<std::size_t>(n);
        }
        return true;
    }

    // True once the server has closed the connection (EOF), without blocking.
    static bool peer_closed(int fd) {
        char byte;
        return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
    }

    bool pump_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            server_->poll_once(20);
        }
        return true;
    }

    std::filesystem::path dir_;
    std::string path_;
    RecordingSink sink_;
    std::unique_ptr<ControlServer> server_;
};

const std::string kHello =
    R"({"pid": 4242, "listeners": [{"slot": 0, "kind": "http", "address": "127.0.0.1:10080"}]})";

TEST_F(ControlServerTest, SocketIsPrivate) {
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ControlServerTest, HelloHandsOverSocketThenSnapshotsAndAcks) {
    server_->publish(7, R"({"version": 7})");
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int client = connect_client();
    send_frame(client, encode_frame(MessageType::Hello, 0, kHello), {pipe_fds[0]});

    ASSERT_TRUE(pump_until([&] { return !sink_.calls.empty(); }));
    ASSERT_EQ(sink_.calls.size(), 1u);
    EXPECT_EQ(sink_.calls[0].slot, 0u);
    EXPECT_EQ(sink_.calls[0].inode, inode_of(pipe_fds[0]));  // the very socket we sent
    EXPECT_EQ(server_->proxy_count(), 1u);

    auto frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.magic, control::kFrameMagic);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::Snapshot));
    EXPECT_EQ(frame->first.version, 7u);
    EXPECT_EQ(frame->second, R"({"version": 7})");

    send_frame(client, encode_frame(MessageType::Ack, 7, ""));
    ASSERT_TRUE(pump_until([&] { return server_->last_acked_version() == 7; }));

    server_->publish(8, R"({"version": 8})");
    frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.version, 8u);

    // A Nack is logged, the connection stays, the acked version stays.
    send_frame(client, encode_frame(MessageType::Nack, 8, "virtual_hosts[0]: bad"));
    send_frame(client, encode_frame(MessageType::Ack, 7, ""));
    server_->poll_once(100);
    EXPECT_EQ(server_->proxy_count(), 1u);
    EXPECT_EQ(server_->last_acked_version(), 7u);

    ::close(client);
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 0; }));
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
}

TEST_F(ControlServerTest, NackedVersionIsOfferedAgainWithBackoff) {
    server_->publish(9, R"({"version": 9})");
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int client = connect_client();
    send_frame(client, encode_frame(MessageType::Hello, 0, kHello), {pipe_fds[0]});
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 1; }));
    auto frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.version, 9u);

    const auto nacked_at = std::chrono::steady_clock::now();
    send_frame(client, encode_frame(MessageType::Nack, 9, "out of memory"));
    ASSERT_TRUE(pump_until([&] { return server_->nack_count() == 1; }));
    // Nothing is resent before the first retry delay...
    pollfd p{client, POLLIN, 0};
    server_->poll_once(50);
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    // ...and the same version comes again after it.
    std::optional<std::pair<FrameHeader, std::string>> again;
    ASSERT_TRUE(pump_until([&] { return ::poll(&p, 1, 0) == 1; }));
    again = read_frame(client);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->first.version, 9u);
    EXPECT_GE(std::chrono::steady_clock::now() - nacked_at, ControlServer::kFirstRetry);

    // A newer publish supersedes the pending retry: no stale resend of 9.
    send_frame(client, encode_frame(MessageType::Nack, 9, "still bad"));
    ASSERT_TRUE(pump_until([&] { return server_->nack_count() == 2; }));
    server_->publish(10, R"({"version": 10})");
    frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.version, 10u);
    for (int i = 0; i < 15; ++i) server_->poll_once(50);  // past the 500 ms second delay
    EXPECT_EQ(::poll(&p, 1, 0), 0);

    ::close(client);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
}

TEST_F(ControlServerTest, BadMagicClosesConnectionAndPassedDescriptors) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int client = connect_client();
    std::string frame = encode_frame(MessageType::Hello, 0, kHello);
    frame[0] ^= 0x55;
    send_frame(client, frame, {pipe_fds[0]});
    ::close(pipe_fds[0]);  // now only the server holds the read end

    // The server closes its copy of the read end: writing then fails with EPIPE.
    EXPECT_TRUE(pump_until([&] { return ::write(pipe_fds[1], "x", 1) == -1 && errno == EPIPE; }));
    EXPECT_TRUE(pump_until([&] { return peer_closed(client); }));  // and the connection
    EXPECT_TRUE(sink_.calls.empty());
    ::close(pipe_fds[1]);
    ::close(client);
}

TEST_F(ControlServerTest, PatchGoesToProxiesAtItsBaseOthersGetTheWholeSnapshot) {
    server_->publish(10, "FULL10");
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int first = connect_client();
    send_frame(first, encode_frame(MessageType::Hello, 0, kHello), {pipe_fds[0]});
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 1; }));
    auto frame = read_frame(first);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.version, 10u);

    int encodes = 0;
    auto full = [&encodes](std::string text) {
        return [&encodes, text] {
            ++encodes;
            return text;
        };
    };
    // At the base: the patch, and the whole snapshot is not even encoded.
    server_->publish_patch(11, 10, "PATCH11", full("FULL11"));
    frame = read_frame(first);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::EndpointsPatch));
    EXPECT_EQ(frame->first.version, 11u);
    EXPECT_EQ(frame->second, "PATCH11");
    EXPECT_EQ(encodes, 0);
    EXPECT_EQ(server_->patches_sent(), 1u);

    // Refused: the whole snapshot of the same version follows at once.
    send_frame(first, encode_frame(MessageType::Nack, 11, "unknown backend"));
    ASSERT_TRUE(pump_until([&] { return server_->patch_nack_count() == 1; }));
    frame = read_frame(first);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::Snapshot));
    EXPECT_EQ(frame->first.version, 11u);
    EXPECT_EQ(frame->second, "FULL11");
    EXPECT_EQ(encodes, 1);
    send_frame(first, encode_frame(MessageType::Ack, 11, ""));
    ASSERT_TRUE(pump_until([&] { return server_->last_acked_version() == 11; }));
    // Every proxy ACKed it: the encoded copy is freed.
    EXPECT_EQ(server_->retained_payload_bytes(), 0u);

    // A proxy arriving now gets the whole snapshot, encoded again (once).
    int pipe2[2];
    ASSERT_EQ(::pipe(pipe2), 0);
    const int second = connect_client();
    send_frame(second, encode_frame(MessageType::Hello, 0, kHello), {pipe2[0]});
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 2; }));
    frame = read_frame(second);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::Snapshot));
    EXPECT_EQ(frame->second, "FULL11");
    EXPECT_EQ(encodes, 2);
    EXPECT_EQ(server_->retained_payload_bytes(), 6u);  // until that proxy ACKs

    // Both at 11: a patch on 11 goes to both; one on another base to neither.
    server_->publish_patch(12, 11, "PATCH12", full("FULL12"));
    for (int client : {first, second}) {
        frame = read_frame(client);
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::EndpointsPatch));
        EXPECT_EQ(frame->second, "PATCH12");
    }
    server_->publish_patch(14, 13, "PATCH14", full("FULL14"));
    for (int client : {first, second}) {
        frame = read_frame(client);
        ASSERT_TRUE(frame);
        EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::Snapshot));
        EXPECT_EQ(frame->first.version, 14u);
        EXPECT_EQ(frame->second, "FULL14");
    }
    EXPECT_EQ(encodes, 3);
    ::close(first);
    ::close(second);
    for (int fd : {pipe_fds[0], pipe_fds[1], pipe2[0], pipe2[1]}) ::close(fd);
}

// A whole snapshot published with a re-encoder is freed once every proxy
// ACKed it and re-made for a proxy that connects later; without one it is kept.
TEST_F(ControlServerTest, EncodedSnapshotIsFreedOnceEveryProxyAckedIt) {
    int encodes = 0;
    server_->publish(30, "FULL30-encoded", [&encodes] {
        ++encodes;
        return std::string("FULL30-encoded");
    });
    EXPECT_EQ(server_->retained_payload_bytes(), 14u);  // no proxy yet: kept
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int first = connect_client();
    send_frame(first, encode_frame(MessageType::Hello, 0, kHello), {pipe_fds[0]});
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 1; }));
    auto frame = read_frame(first);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->second, "FULL30-encoded");
    EXPECT_EQ(server_->retained_payload_bytes(), 14u);  // sent, not ACKed yet
    send_frame(first, encode_frame(MessageType::Ack, 30, ""));
    ASSERT_TRUE(pump_until([&] { return server_->last_acked_version() == 30; }));
    EXPECT_EQ(server_->retained_payload_bytes(), 0u);
    EXPECT_EQ(encodes, 0);

    int pipe2[2];
    ASSERT_EQ(::pipe(pipe2), 0);
    const int second = connect_client();
    send_frame(second, encode_frame(MessageType::Hello, 0, kHello), {pipe2[0]});
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 2; }));
    frame = read_frame(second);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.version, 30u);
    EXPECT_EQ(frame->second, "FULL30-encoded");
    EXPECT_EQ(encodes, 1);

    // Without a re-encoder the payload stays, ACKed or not.
    server_->publish(31, "FULL31-no-source");
    for (int client : {first, second}) {
        ASSERT_TRUE(read_frame(client));
        send_frame(client, encode_frame(MessageType::Ack, 31, ""));
    }
    ASSERT_TRUE(pump_until([&] { return server_->last_acked_version() == 31; }));
    for (int i = 0; i < 5; ++i) server_->poll_once(10);  // both ACKs handled
    EXPECT_EQ(server_->retained_payload_bytes(), 16u);
    ::close(first);
    ::close(second);
    for (int fd : {pipe_fds[0], pipe_fds[1], pipe2[0], pipe2[1]}) ::close(fd);
}

// A proxy that predates patches ignores the frame: after the answer timeout
// it gets the whole snapshot, and whole snapshots from then on.
TEST_F(ControlServerTest, UnansweredPatchFallsBackToWholeSnapshots) {
    server_->publish(20, "FULL20");
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const int client = connect_client();
    send_frame(client, encode_frame(MessageType::Hello, 0, kHello), {pipe_fds[0]});
    ASSERT_TRUE(pump_until([&] { return server_->proxy_count() == 1; }));
    ASSERT_TRUE(read_frame(client));
    send_frame(client, encode_frame(MessageType::Ack, 20, ""));
    ASSERT_TRUE(pump_until([&] { return server_->last_acked_version() == 20; }));

    const auto sent_at = std::chrono::steady_clock::now();
    server_->publish_patch(21, 20, "PATCH21", [] { return std::string("FULL21"); });
    auto frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::EndpointsPatch));
    // Ignored (no Ack, no Nack): the whole snapshot follows after the timeout.
    bool got = false;
    ASSERT_TRUE(pump_until([&] {
        char byte;
        got = ::recv(client, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
        return got;
    }));
    EXPECT_GE(std::chrono::steady_clock::now() - sent_at, ControlServer::kPatchAnswerTimeout);
    frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::Snapshot));
    EXPECT_EQ(frame->first.version, 21u);
    EXPECT_EQ(frame->second, "FULL21");
    send_frame(client, encode_frame(MessageType::Ack, 21, ""));
    ASSERT_TRUE(pump_until([&] { return server_->last_acked_version() == 21; }));

    // From now on this proxy gets whole snapshots straight away.
    server_->publish_patch(22, 21, "PATCH22", [] { return std::string("FULL22"); });
    frame = read_frame(client);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->first.type, static_cast<std::uint16_t>(MessageType::Snapshot));
    EXPECT_EQ(frame->second, "FULL22");
    ::close(client);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
}

TEST_F(ControlServerTest, HelloWithWrongNumberOfSocketsIsRejected) {
    server_->publish(1, "{}");
    const int client = connect_client();
    send_frame(client, encode_frame(MessageType::Hello, 0, kHello));  // no fd
    ASSERT_TRUE(pump_until([&] { return peer_closed(client); }));
    EXPECT_TRUE(sink_.calls.empty());
    EXPECT_EQ(server_->proxy_count(), 0u);
    ::close(client);
}

TEST_F(ControlServerTest, OversizedFrameIsRejected) {
    const int client = connect_client();
    FrameHeader header{control::kFrameMagic, static_cast<std::uint16_t>(MessageType::Nack), 0,
                       kMaxInboundPayload + 1, 0, 1};
    send_frame(client, std::string(reinterpret_cast<const char*>(&header), sizeof header));
    EXPECT_TRUE(pump_until([&] { return peer_closed(client); }));
    ::close(client);
}

TEST_F(ControlServerTest, SecondServerOnALiveSocketIsRefused) {
    RecordingSink other;
    auto second = ControlServer::listen(path_, other);
    ASSERT_FALSE(second.has_value());
    EXPECT_NE(second.error().find("another agent"), std::string::npos);
}

TEST(ControlServerPath, StaleSocketIsReplacedButOtherFilesAreNot) {
    std::string pattern = (std::filesystem::temp_directory_path() / "xgress-stale-XXXXXX").string();
    const std::filesystem::path dir = ::mkdtemp(pattern.data());
    const std::string path = (dir / "control.sock").string();
    RecordingSink sink;
    {
        // Leave a socket file behind with nobody listening on it.
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ::close(fd);
    }
    auto server = ControlServer::listen(path, sink);
    EXPECT_TRUE(server.has_value()) << server.error();
    server = std::unexpected(std::string("reset"));
    EXPECT_FALSE(std::filesystem::exists(path));  // removed on shutdown

    std::ofstream(dir / "plain.sock") << "data";
    auto refused = ControlServer::listen((dir / "plain.sock").string(), sink);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().find("not a socket"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(Hello, ParsesAndRejects) {
    auto hello = parse_hello(kHello);
    ASSERT_TRUE(hello.has_value()) << hello.error();
    EXPECT_EQ(hello->pid, 4242);
    ASSERT_EQ(hello->listeners.size(), 1u);
    EXPECT_EQ(hello->listeners[0].kind, "http");
    EXPECT_EQ(hello->listeners[0].address, "127.0.0.1:10080");
    EXPECT_FALSE(parse_hello("{").has_value());
    EXPECT_FALSE(parse_hello(R"({"pid": 1})").has_value());
    auto bad_slot = parse_hello(R"({"pid": 1, "listeners": [{"kind": "http"}]})");
    ASSERT_FALSE(bad_slot.has_value());
    EXPECT_NE(bad_slot.error().find("listeners[0].slot"), std::string::npos);
}

TEST(Frame, InboundValidation) {
    FrameHeader header{control::kFrameMagic, static_cast<std::uint16_t>(MessageType::Ack), 0, 0, 0, 3};
    EXPECT_TRUE(validate_inbound_header(header).has_value());
    header.type = static_cast<std::uint16_t>(MessageType::Snapshot);
    EXPECT_FALSE(validate_inbound_header(header).has_value());  // proxies do not send snapshots
    header.type = 99;
    EXPECT_FALSE(validate_inbound_header(header).has_value());
    header = {control::kFrameMagic, static_cast<std::uint16_t>(MessageType::Hello), 1, 0, 0, 0};
    EXPECT_FALSE(validate_inbound_header(header).has_value());  // reserved not zero
}

}  // namespace
}  // namespace xgress::agent::push

// The agent's end of the control channel (proxy/include/xgress/control.h).
//
// Listens on a unix stream socket (mode 0600), accepts proxies, takes the
// listening sockets each proxy hands over in its Hello (SCM_RIGHTS) and gives
// them to the ListenerSink (the SOCKMAP), then sends the current snapshot and
// every later one. Acks and Nacks are recorded and logged.
//
// Endpoint-only changes go out as EndpointsPatch frames to proxies that were
// last sent the patch's base version; every other proxy (new, behind, or one
// whose last frame it refused) gets the whole snapshot, which is encoded only
// when some proxy needs it. A refused patch is answered at once with the whole
// snapshot of the current version. A proxy that answers a patch neither way
// within kPatchAnswerTimeout (one that predates patches ignores the frame)
// gets the whole snapshot and no more patches until it ACKs one.
//
// Single-threaded and non-blocking: the caller drives it with poll_once().
// This is the control path; a slow or broken proxy only ever costs itself
// its connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "push/listener_sink.h"

namespace xgress::agent::push {

class ControlServer {
public:
    // Removes a stale socket file at `path` (refuses if another process still
    // listens there, or if the path is not a socket) and starts listening.
    static std::expected<std::unique_ptr<ControlServer>, std::string> listen(const std::string& path,
                                                                             ListenerSink& sink);
    ~ControlServer();  // closes every connection and removes the socket file
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Makes `payload` (snapshot JSON) the current snapshot and sends it to
    // every proxy that has said Hello; later proxies get it on Hello. With
    // `reencode` (produces `payload` again; called only while `version` is
    // current), the encoded copy is freed once every connected proxy ACKed
    // `version` and re-made only when a proxy needs it again.
    void publish(std::uint64_t version, std::string payload, std::function<std::string()> reencode = {});

    // Makes `version` current as `base_version` plus `patch_payload` (an
    // EndpointsPatch JSON). `full_payload` encodes the whole snapshot of
    // `version`; it is called at most once, and only while `version` is
    // current (when a proxy needs the whole snapshot), so it may refer to
    // the caller's live state.
    void publish_patch(std::uint64_t version, std::uint64_t base_version, std::string patch_payload,
                       std::function<std::string()> full_payload);

    // Waits up to `timeout_ms` for activity and handles it. Also watches
    // `extra_fd` (e.g. inotify) when >= 0 and returns true when it is readable.
    bool poll_once(int timeout_ms, int extra_fd = -1);

    std::uint64_t current_version() const { return version_; }
    std::uint64_t last_acked_version() const { return last_acked_; }
    std::size_t proxy_count() const;  // connections that completed a Hello
    std::uint64_t nack_count() const { return nack_count_; }
    std::uint64_t patches_sent() const { return patches_sent_; }
    std::uint64_t patch_nack_count() const { return patch_nack_count_; }
    // Bytes of encoded snapshot held for proxies that may still need it (0
    // once every proxy ACKed a version that can be re-encoded).
    std::size_t retained_payload_bytes() const { return payload_ready_ ? payload_.size() : 0; }

    // A Nacked version is offered again after kFirstRetry, doubling up to kMaxRetry.
    static constexpr std::chrono::milliseconds kFirstRetry{250};
    static constexpr std::chrono::milliseconds kMaxRetry{30'000};
    static constexpr std::chrono::milliseconds kPatchAnswerTimeout{250};

private:
    struct Connection;
    ControlServer(int listen_fd, std::string path, ListenerSink& sink);

    void accept_connections();
    bool read_from(Connection& connection);   // false: drop the connection
    bool handle_frames(Connection& connection);
    bool handle_hello(Connection& connection, std::string_view payload);
    bool flush(Connection& connection);
    void send_snapshot(Connection& connection);
    const std::string& full_payload();
    void flush_or_drop_all();
    void release_payload_if_all_acked();
    int retry_resends(int timeout_ms);  // re-offers due retries; returns the poll timeout to use

    int listen_fd_ = -1;
    std::string path_;
    ListenerSink& sink_;
    std::vector<std::unique_ptr<Connection>> connections_;
    std::uint64_t version_ = 0;
    std::string payload_;                          // valid when payload_ready_
    bool payload_ready_ = false;
    std::function<std::string()> payload_source_;  // encodes payload_ on demand (kept: may be needed again)
    bool have_snapshot_ = false;
    std::uint64_t patches_sent_ = 0;
    std::uint64_t patch_nack_count_ = 0;
    std::uint64_t last_acked_ = 0;
    std::uint64_t nack_count_ = 0;
};

}  // namespace xgress::agent::push

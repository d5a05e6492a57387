// The proxy's end of the control channel (control.h), on its own thread:
// connects to the agent's unix socket (retrying with backoff while the agent
// is not there), announces the HTTP listener with Hello + SCM_RIGHTS, then
// applies every Snapshot frame through `apply` and every EndpointsPatch frame
// through `apply_patch`, answering Ack (the version now serving) or Nack
// (the reason; on a patch the agent then sends a full snapshot). When
// the channel drops it reconnects; the last good snapshot keeps serving.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <functional>
#include <string>
#include <thread>

#include "xgress/control.h"
#include "xgress/snapshot.h"

namespace xgress::control {

class ControlClient {
public:
    // A Snapshot frame's JSON is handed over (moved) undecoded: the proxy
    // decodes it straight into its route table (control/table_decoder.h)
    // and keeps it for /config. `decoded_at` receives the time decoding (and
    // building) ended, for the log's split of the swap's time.
    using Apply = std::function<std::expected<void, std::string>(std::string&& json,
                                                                 std::chrono::steady_clock::time_point& decoded_at)>;
    using ApplyPatch = std::function<std::expected<void, std::string>(const snapshot::EndpointsPatch&)>;

    // Without `apply_patch`, EndpointsPatch frames are NACKed. `after_answer`
    // (optional) runs once the Ack/Nack is sent: deferred work (freeing the
    // replaced table) that must not delay the agent.
    ControlClient(std::string socket_path, int listener_fd, std::string listen_address, Apply apply,
                  ApplyPatch apply_patch = {}, std::function<void()> after_answer = {});
    ~ControlClient();

    void start();
    void stop();

private:
    void run();
    void session(int sock);
    // A Snapshot's payload is moved to `apply_` (the string is left empty).
    std::expected<void, std::string> handle(MessageType type, std::string& payload, std::uint64_t version);

    std::string path_;
    int listener_fd_;
    std::string listen_address_;
    Apply apply_;
    std::function<void()> after_answer_;
    ApplyPatch apply_patch_;
    std::atomic<bool> stop_{false};
    // Timestamps of the frame being handled (control thread only), for the log.
    std::chrono::steady_clock::time_point received_at_, decoded_at_;
    std::thread thread_;
};

}  // namespace xgress::control

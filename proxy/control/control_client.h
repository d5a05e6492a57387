// The proxy's end of the control channel (control.h), on its own thread:
// connects to the agent's unix socket (retrying with backoff while the agent
// is not there), announces the HTTP listener with Hello + SCM_RIGHTS, then
// applies every Snapshot frame through `apply` and answers Ack or Nack. When
// the channel drops it reconnects; the last good snapshot keeps serving.
#pragma once

#include <atomic>
#include <expected>
#include <functional>
#include <string>
#include <thread>

#include "xgress/snapshot.h"

namespace xgress::control {

class ControlClient {
public:
    using Apply = std::function<std::expected<void, std::string>(const snapshot::Snapshot&)>;

    ControlClient(std::string socket_path, int listener_fd, std::string listen_address, Apply apply);
    ~ControlClient();

    void start();
    void stop();

private:
    void run();
    void session(int sock);

    std::string path_;
    int listener_fd_;
    std::string listen_address_;
    Apply apply_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace xgress::control

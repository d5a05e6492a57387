// Reading and writing control.h frames on a blocking unix stream socket,
// including the SCM_RIGHTS file descriptors a Hello carries. Used only on the
// control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "xgress/control.h"

namespace xgress::control {

struct Frame {
    MessageType type{};
    std::uint64_t version = 0;
    std::string payload;
};

std::expected<void, std::string> write_frame(int sock, MessageType type, std::uint64_t version,
                                             std::string_view payload, const std::vector<int>& fds = {});

// Blocks until a whole frame arrived; gives up (error "stopped") once `stop`
// is set, checking it a few times a second. Received fds are closed: the
// proxy never expects any.
std::expected<Frame, std::string> read_frame(int sock, const std::atomic<bool>& stop);

}  // namespace xgress::control

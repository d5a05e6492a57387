// Reading and writing control.h frames on a blocking unix stream socket,
// including the SCM_RIGHTS file descriptors a Hello carries. Used only on the
// control thread.
#pragma once

#include <atomic>
#include <chrono>
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
// `header_at`, when given, is set to when the frame's header arrived (the
// payload's transfer time is then measurable by the caller).
std::expected<Frame, std::string> read_frame(int sock, const std::atomic<bool>& stop,
                                             std::chrono::steady_clock::time_point* header_at = nullptr);

}  // namespace xgress::control

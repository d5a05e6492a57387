// Frame helpers for the control channel (proxy/include/xgress/control.h):
// building frames to send and checking headers received.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "xgress/control.h"

namespace xgress::agent::push {

// Frames a proxy may send us are small (Hello, Ack, Nack); anything larger is
// a broken or hostile peer.
inline constexpr std::uint32_t kMaxInboundPayload = 1u << 20;

std::string encode_frame(control::MessageType type, std::uint64_t version, std::string_view payload);

// Checks magic, reserved fields, type (one a proxy sends) and length.
std::expected<void, std::string> validate_inbound_header(const control::FrameHeader& header);

}  // namespace xgress::agent::push

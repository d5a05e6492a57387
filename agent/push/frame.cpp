#include "push/frame.h"

#include <cstring>

namespace xgress::agent::push {

std::string encode_frame(control::MessageType type, std::uint64_t version, std::string_view payload) {
    control::FrameHeader header{};
    header.magic = control::kFrameMagic;
    header.type = static_cast<std::uint16_t>(type);
    header.length = static_cast<std::uint32_t>(payload.size());
    header.version = version;
    std::string frame(sizeof header + payload.size(), '\0');
    std::memcpy(frame.data(), &header, sizeof header);
    std::memcpy(frame.data() + sizeof header, payload.data(), payload.size());
    return frame;
}

std::expected<void, std::string> validate_inbound_header(const control::FrameHeader& header) {
    if (header.magic != control::kFrameMagic) return std::unexpected(std::string("bad frame magic"));
    if (header.reserved != 0 || header.reserved2 != 0) return std::unexpected(std::string("reserved fields not zero"));
    const auto type = static_cast<control::MessageType>(header.type);
    if (type != control::MessageType::Hello && type != control::MessageType::Ack &&
        type != control::MessageType::Nack) {
        return std::unexpected("unexpected message type " + std::to_string(header.type));
    }
    if (header.length > kMaxInboundPayload) {
        return std::unexpected("frame payload of " + std::to_string(header.length) + " bytes exceeds " +
                               std::to_string(kMaxInboundPayload));
    }
    if (type == control::MessageType::Ack && header.length != 0) {
        return std::unexpected(std::string("Ack with a payload"));
    }
    return {};
}

}  // namespace xgress::agent::push

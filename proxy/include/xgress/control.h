// The control channel between xgress-agent and xgress-proxy.
//
// The agent listens on a unix stream socket (default /run/xgress/control.sock);
// each proxy process connects to it (retrying with backoff until it can), so a
// new proxy can announce itself while an old one still drains.
//
// Every message is one frame: a FrameHeader followed by `length` payload bytes.
// Integers are in host byte order (both ends are on the same machine).
//
//   proxy -> agent  Hello     payload: JSON {"pid": 123, "listeners": [
//                             {"slot": 0, "kind": "http", "address": "127.0.0.1:10080"}]}
//                             ancillary data (SCM_RIGHTS): one listening socket per
//                             listener, in the same order. The agent puts each into the
//                             SOCKMAP at its slot, so sk_lookup steers connections to it.
//   agent -> proxy  Snapshot  version = snapshot version, payload = snapshot JSON (snapshot.h)
//   agent -> proxy  EndpointsPatch  version = new snapshot version, payload = patch JSON
//                             (snapshot.h EndpointsPatch): endpoints of existing backends
//                             only, relative to base_version; ACKed/NACKed like a Snapshot
//   proxy -> agent  Ack       version = snapshot version now serving, empty payload
//   proxy -> agent  Nack      version = rejected snapshot version, payload = reason (UTF-8)
//
// A proxy keeps serving its last acknowledged snapshot when the channel drops
// or a snapshot is rejected.
#pragma once

#include <cstdint>

namespace xgress::control {

inline constexpr std::uint32_t kFrameMagic = 0x31524758;  // "XGR1" little-endian
inline constexpr std::uint32_t kMaxPayload = 256u << 20;   // 256 MiB hard cap per frame
inline constexpr int kMaxFdsPerFrame = 64;

enum class MessageType : std::uint16_t {
    Hello = 1,
    Snapshot = 2,
    Ack = 3,
    Nack = 4,
    EndpointsPatch = 5,
};

struct FrameHeader {
    std::uint32_t magic;
    std::uint16_t type;      // MessageType
    std::uint16_t reserved;  // zero
    std::uint32_t length;    // payload bytes following the header
    std::uint32_t reserved2; // zero; keeps version 8-byte aligned
    std::uint64_t version;
};
static_assert(sizeof(FrameHeader) == 24);

// Listener slots are indices into the BPF SOCKMAP (bpf_abi.h XGRESS_MAX_LISTENERS).
inline constexpr std::uint32_t kHttpListenerSlot = 0;

}  // namespace xgress::control

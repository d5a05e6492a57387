// Where the control server puts the listening sockets proxies hand over.
// In xgress-agent this is the BPF SOCKMAP (Dataplane::set_listener); in tests
// a recorder. Keeping it an interface lets push/ be tested without BPF.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

namespace xgress::agent::push {

class ListenerSink {
public:
    virtual ~ListenerSink() = default;
    // `socket_fd` is borrowed: the caller closes it after the call returns
    // (a SOCKMAP keeps its own reference to the socket).
    virtual std::expected<void, std::string> set_listener(std::uint32_t slot, int socket_fd) = 0;
};

}  // namespace xgress::agent::push

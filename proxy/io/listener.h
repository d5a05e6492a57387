// Opens the proxy's listening sockets. Every worker gets its own socket in one
// SO_REUSEPORT group, so the kernel spreads connections across workers with
// no shared accept queue (and sk_lookup steering one member reaches them all).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <expected>
#include <string>
#include <string_view>

namespace xgress::io {

struct SocketAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
};

// Parses "1.2.3.4:80" or "[::1]:80".
std::expected<SocketAddress, std::string> parse_address(std::string_view text);

std::expected<int, std::string> open_listener(const SocketAddress& address, int backlog = 4096);

// The local port a socket is bound to (used when listening on port 0).
int bound_port(int fd);

}  // namespace xgress::io

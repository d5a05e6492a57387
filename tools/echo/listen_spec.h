// A listening endpoint of the echo backend, parsed from `ADDR:PORT=SERVICE`
// (IPv6 as `[ADDR]:PORT=SERVICE`). The service name is what the echo reports for
// requests arriving on that port, so a test can tell which Service was reached.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace xgress::echo {

struct ListenSpec {
    std::string address;  // as written, without brackets
    std::uint16_t port = 0;
    std::string service;
    sockaddr_storage sockaddr{};
    socklen_t sockaddr_len = 0;
};

std::expected<ListenSpec, std::string> parse_listen_spec(std::string_view text);

}  // namespace xgress::echo

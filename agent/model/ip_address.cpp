#include "model/ip_address.h"

#include <arpa/inet.h>

namespace xgress::agent::model {

std::optional<dataplane::IpAddress> parse_ip_address(const std::string& text) {
    dataplane::IpAddress address;
    if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) return address;
    address = {};
    address.v6 = true;
    if (inet_pton(AF_INET6, text.c_str(), address.bytes.data()) == 1) return address;
    return std::nullopt;
}

std::string format_ip_address(const dataplane::IpAddress& address) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof text);
    return text;
}

}  // namespace xgress::agent::model

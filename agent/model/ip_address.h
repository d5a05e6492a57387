// Text to dataplane::IpAddress (network byte order), for LoadBalancer
// ingress IPs and externalIPs.
#pragma once

#include <optional>
#include <string>

#include "dataplane/dataplane.h"

namespace xgress::agent::model {

std::optional<dataplane::IpAddress> parse_ip_address(const std::string& text);
std::string format_ip_address(const dataplane::IpAddress& address);

}  // namespace xgress::agent::model

// Frontend specs for the pure dataplane tests (frontend_plan_test,
// applied_frontends_test): a NodePort and an IPv4 VIP, with the fields
// those tests vary.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>

#include "dataplane.h"

namespace xgress::agent::dataplane {

inline FrontendSpec np(std::uint16_t port, std::uint32_t slot = 0, std::string name = "ns/svc:http") {
    FrontendSpec spec;
    spec.node_port = true;
    spec.port = port;
    spec.listener_slot = slot;
    spec.name = std::move(name);
    return spec;
}

inline FrontendSpec v4(const char* address, std::uint16_t port, std::uint32_t slot = 0) {
    FrontendSpec spec;
    inet_pton(AF_INET, address, spec.address.bytes.data());
    spec.port = port;
    spec.listener_slot = slot;
    spec.name = "ns/lb:http";
    return spec;
}

}  // namespace xgress::agent::dataplane

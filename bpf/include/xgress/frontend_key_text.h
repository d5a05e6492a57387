// The text form of a frontend key, the same everywhere a person reads one
// (agent logs and errors, xgressctl tables): "198.18.0.1:80/tcp",
// "[fd00::1]:443/tcp", or "*node*:30080/tcp" for a NodePort wildcard.
// Userspace C++ only; the BPF side never formats keys.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "xgress/bpf_abi.h"

namespace xgress {

inline std::string frontend_key_text(const xgress_frontend_key& key) {
    const char* proto = key.proto == IPPROTO_TCP ? "tcp" : key.proto == IPPROTO_UDP ? "udp" : "?";
    const std::string suffix = ":" + std::to_string(ntohs(key.port)) + "/" + proto;
    if (key.flags & XGRESS_FRONTEND_KEY_NODEPORT) return "*node*" + suffix;
    char text[INET6_ADDRSTRLEN] = {};
    if (key.flags & XGRESS_FRONTEND_KEY_IPV6) {
        inet_ntop(AF_INET6, key.addr, text, sizeof(text));
        return "[" + std::string(text) + "]" + suffix;
    }
    inet_ntop(AF_INET, key.addr, text, sizeof(text));
    return text + suffix;
}

}  // namespace xgress

// The Hello message a proxy sends when it connects (control.h): its pid and
// the listeners whose sockets ride along as SCM_RIGHTS, in the same order.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::agent::push {

struct HelloListener {
    std::uint32_t slot = 0;
    std::string kind;
    std::string address;
};

struct Hello {
    std::int64_t pid = 0;
    std::vector<HelloListener> listeners;
};

std::expected<Hello, std::string> parse_hello(std::string_view json);

}  // namespace xgress::agent::push

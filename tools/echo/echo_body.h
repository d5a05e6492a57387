// Renders the JSON document the echo answers with: who answered (pod, namespace,
// service, port) and what request it saw (method, path, host, proto, headers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "request_reader.h"

namespace xgress::echo {

struct Responder {
    std::string pod;
    std::string namespace_;
    std::string service;
    std::uint16_t port = 0;
};

// Appends `text` to `out` as a quoted JSON string. Bytes that are not valid UTF-8
// are written as \u00XX so the document always parses.
void append_json_string(std::string& out, std::string_view text);

std::string render_echo_body(const Responder& responder, const Request& request);

}  // namespace xgress::echo

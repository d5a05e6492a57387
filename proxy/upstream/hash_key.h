// Evaluates a route's hash_by template (router/key_template.h) against a
// request into a 64-bit hash, feeding each part to the hash instead of
// building the key string: no allocation per request. A variable that is
// absent from the request contributes nothing (nginx expands it to "").
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request_parser.h"
#include "router/key_template.h"

namespace xgress::upstream {

std::uint64_t hash_request_key(const router::KeyTemplate& key, const http::RequestHead& req,
                               std::string_view client_ip);

// Hash of one string (client address affinity, cookie values not issued by us).
std::uint64_t hash_text(std::string_view text);

}  // namespace xgress::upstream

// Read-only lookups into a parsed request head for the policy code: a header
// by name, a cookie from the Cookie header(s), a query argument. Views point
// into the request buffer; nothing allocates.
#pragma once

#include <string_view>

#include "http/request_parser.h"

namespace xgress::http {

// First header named `name` (case-insensitive); `found` tells an empty value from absence.
std::string_view header_value(const RequestHead& req, std::string_view name, bool* found = nullptr);

// Value of cookie `name` (case-sensitive, RFC 6265) in any Cookie header.
std::string_view cookie_value(const RequestHead& req, std::string_view name, bool* found = nullptr);

// Value of query argument `name` in `target` (undecoded, as nginx's $arg_NAME).
std::string_view query_arg(std::string_view target, std::string_view name, bool* found = nullptr);

// The query of `target` including its '?', or empty.
std::string_view query_of(std::string_view target);

}  // namespace xgress::http

// rewrite-target: the path sent upstream instead of the request's. Regex
// routes expand $0..$9 from the match's groups (a "$" not followed by a
// digit is literal); Exact routes send the target as is; Prefix routes have
// the matched prefix replaced ("/api" + "/": /api/x → /x, /api → /). The
// original query (with its '?') is appended either way; the result always
// starts with '/'. Pure; fuzzed (test/fuzz/rewrite_fuzzer.cpp).
#pragma once

#include <string>
#include <string_view>

#include "router/route_table.h"

namespace xgress::router {

void rewrite_path(std::string& out, const RouteTarget& route, std::string_view path, std::string_view query,
                  const Captures& caps);

}  // namespace xgress::router

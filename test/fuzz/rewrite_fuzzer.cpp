// Fuzzes what an Ingress author (or a compromised agent) controls in the
// route policies and what a client controls against them: regex patterns
// (PCRE2 compile + JIT + anchored caseless match), rewrite templates with
// $N groups, hash_by templates and CIDRs. Input: four lines — pattern,
// rewrite template, request path, query. Invariants: no crash or sanitizer
// report; a rewrite always starts with '/' and ends with the query.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "router/cidr.h"
#include "router/key_template.h"
#include "router/path_regex.h"
#include "router/rewrite.h"

using namespace xgress::router;

namespace {

std::string_view next_line(std::string_view& in) {
    std::size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
}

void check(const std::string& out, std::string_view query) {
    if (out.empty() || out.front() != '/' || !std::string_view(out).ends_with(query)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::string_view pattern = next_line(in), tmpl = next_line(in), path = next_line(in), query = next_line(in);
    static MatchScratch scratch;
    std::string out;

    if (auto re = PathRegex::compile(pattern)) {
        Captures caps;
        if (re->match(path, scratch, &caps)) {
            for (unsigned i = 0; i < caps.count; ++i) {
                std::string_view g = caps.group(path, i);
                if (!g.empty() && (g.data() < path.data() || g.data() + g.size() > path.data() + path.size())) std::abort();
            }
            RouteTarget t;
            t.regex = true;
            t.rewrite_target = std::string(tmpl);
            rewrite_path(out, t, path, query, caps);
            check(out, query);
        }
    }
    // Prefix and exact rewrites with the pattern as the rule's path.
    RouteTarget p;
    p.prefix = pattern;  // a view (the table's text arena holds it there)
    p.rewrite_target = std::string(tmpl);
    if (path.starts_with(p.prefix)) {
        rewrite_path(out, p, path, query, Captures{});
        check(out, query);
    }
    p.exact = true;
    rewrite_path(out, p, path, query, Captures{});
    check(out, query);

    (void)KeyTemplate::compile(tmpl);
    CidrSet cidrs;
    if (cidrs.add(pattern)) (void)cidrs.contains(path);
    return 0;
}

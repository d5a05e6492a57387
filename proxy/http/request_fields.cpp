#include "http/request_fields.h"

namespace xgress::http {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Finds `name` in a `sep`-separated list of name=value pairs.
std::string_view pair_value(std::string_view list, char sep, std::string_view name, bool& found) {
    while (!list.empty()) {
        std::size_t end = list.find(sep);
        std::string_view item = list.substr(0, end);
        list = end == std::string_view::npos ? std::string_view{} : list.substr(end + 1);
        if (sep == ';') item = trim(item);
        std::size_t eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        if (key == name) {
            found = true;
            return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        }
    }
    return {};
}

}  // namespace

std::string_view header_value(const RequestHead& req, std::string_view name, bool* found) {
    for (std::size_t i = 0; i < req.header_count; ++i) {
        if (iequals(req.headers[i].name, name)) {
            if (found) *found = true;
            return req.headers[i].value;
        }
    }
    if (found) *found = false;
    return {};
}

std::string_view cookie_value(const RequestHead& req, std::string_view name, bool* found) {
    bool f = false;
    for (std::size_t i = 0; i < req.header_count && !f; ++i) {
        if (!iequals(req.headers[i].name, "cookie")) continue;
        std::string_view v = pair_value(req.headers[i].value, ';', name, f);
        if (f) {
            if (found) *found = true;
            return v;
        }
    }
    if (found) *found = false;
    return {};
}

std::string_view query_of(std::string_view target) {
    std::size_t q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q);
}

std::string_view query_arg(std::string_view target, std::string_view name, bool* found) {
    std::string_view q = query_of(target);
    bool f = false;
    std::string_view v = q.empty() ? std::string_view{} : pair_value(q.substr(1), '&', name, f);
    if (found) *found = f;
    return v;
}

}  // namespace xgress::http

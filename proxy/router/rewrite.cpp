#include "router/rewrite.h"

namespace xgress::router {

void rewrite_path(std::string& out, const RouteTarget& route, std::string_view path, std::string_view query,
                  const Captures& caps) {
    out.clear();
    const std::string_view tmpl = route.rewrite_target;
    if (route.regex) {
        for (std::size_t i = 0; i < tmpl.size(); ++i) {
            if (tmpl[i] == '$' && i + 1 < tmpl.size() && tmpl[i + 1] >= '0' && tmpl[i + 1] <= '9') {
                out.append(caps.group(path, static_cast<unsigned>(tmpl[i + 1] - '0')));
                ++i;
            } else {
                out.push_back(tmpl[i]);
            }
        }
    } else if (route.exact) {
        out.append(tmpl);
    } else {
        std::string_view rest = route.prefix == "/" || route.prefix.size() > path.size()
                                    ? path
                                    : path.substr(route.prefix.size());
        out.append(tmpl);
        if (!out.empty() && out.back() == '/' && rest.starts_with('/')) rest.remove_prefix(1);
        out.append(rest);
    }
    if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
    out.append(query);
}

}  // namespace xgress::router

#include "tls/passthrough_hosts.h"

namespace xgress::tls {

void PassthroughHosts::add(std::string_view host, std::string_view backend) {
    if (host.starts_with("*.")) wildcard_.try_emplace(std::string(host.substr(1)), backend);
    else exact_.try_emplace(std::string(host), backend);
}

const std::string* PassthroughHosts::find(std::string_view server_name) const {
    if (server_name.empty() || server_name.size() > 253) return nullptr;
    char buf[256];
    std::size_t n = 0;
    for (char c : server_name) buf[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (n > 0 && buf[n - 1] == '.') --n;
    const std::string_view name(buf, n);
    if (auto it = exact_.find(name); it != exact_.end()) return &it->second;
    const std::size_t dot = name.find('.');
    if (dot == std::string_view::npos || dot == 0) return nullptr;
    if (auto it = wildcard_.find(name.substr(dot)); it != wildcard_.end()) return &it->second;
    return nullptr;
}

}  // namespace xgress::tls

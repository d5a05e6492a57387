#include "tls/certificate_store.h"

#include <algorithm>
#include <cctype>

namespace xgress::tls {

CertificateStore::CertificateStore(std::shared_ptr<const Certificate> fallback) : fallback_(std::move(fallback)) {}

void CertificateStore::add(std::shared_ptr<const Certificate> cert) {
    for (const std::string& name : cert->dns_names) {
        if (name.starts_with("*.")) {
            wildcard_.try_emplace(name.substr(1), cert.get());
        } else {
            exact_.try_emplace(name, cert.get());
        }
    }
    certificates_.push_back(std::move(cert));
}

const Certificate* CertificateStore::select(std::string_view server_name) const {
    if (server_name.empty() || server_name.size() > 253) return fallback_.get();
    char buf[253];
    std::ranges::transform(server_name, buf, [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view name(buf, server_name.size());
    if (name.back() == '.') name.remove_suffix(1);  // "example.com." is the same host

    if (auto it = exact_.find(name); it != exact_.end()) return it->second;
    // A wildcard covers exactly one label: strip the first one and look up the rest.
    if (auto dot = name.find('.'); dot != std::string_view::npos && dot > 0) {
        if (auto it = wildcard_.find(name.substr(dot)); it != wildcard_.end()) return it->second;
    }
    return fallback_.get();
}

}  // namespace xgress::tls

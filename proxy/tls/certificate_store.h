// Chooses the certificate for a handshake from the client's SNI name.
//
// Built once per snapshot from the loaded certificates, then read-only and
// shared by every worker. Lookup order: exact SAN name, then a wildcard SAN
// covering exactly one extra label ("*.example.com" matches "a.example.com",
// not "example.com" nor "a.b.example.com"), then the default certificate.
// When two certificates claim the same name, the one added first wins, so the
// caller decides precedence (the agent orders Secrets oldest Ingress first).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tls/certificate.h"

namespace xgress::tls {

class CertificateStore {
public:
    // `fallback` answers SNI misses and clients without SNI; must not be null.
    explicit CertificateStore(std::shared_ptr<const Certificate> fallback);

    void add(std::shared_ptr<const Certificate> cert);

    // Never null. `server_name` as sent by the client (any case, may be empty).
    const Certificate* select(std::string_view server_name) const;

    const Certificate& fallback() const { return *fallback_; }
    const std::vector<std::shared_ptr<const Certificate>>& certificates() const { return certificates_; }
    std::size_t size() const { return certificates_.size(); }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using NameIndex = std::unordered_map<std::string, const Certificate*, StringHash, std::equal_to<>>;

    std::shared_ptr<const Certificate> fallback_;
    std::vector<std::shared_ptr<const Certificate>> certificates_;
    NameIndex exact_;     // "shop.example.com"
    NameIndex wildcard_;  // ".example.com" for a "*.example.com" SAN
};

}  // namespace xgress::tls

// Hosts whose TLS connections are relayed undecrypted (ssl-passthrough): SNI
// name -> backend name, built per snapshot from VirtualHost::passthrough_backend.
// Same matching as certificates: exact name, then a "*." wildcard covering
// exactly one label; case-insensitive, a trailing dot ignored.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace xgress::tls {

class PassthroughHosts {
public:
    // `host` lower-case, "*.example.com" allowed. The first added keeps a name.
    void add(std::string_view host, std::string_view backend);

    // The backend for `server_name`, or nullptr.
    const std::string* find(std::string_view server_name) const;

    bool empty() const { return exact_.empty() && wildcard_.empty(); }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using Index = std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>;
    Index exact_;
    Index wildcard_;  // ".example.com" for "*.example.com"
};

}  // namespace xgress::tls

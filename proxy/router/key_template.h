// The upstream-hash-by key template of a route (ingress-nginx
// `upstream-hash-by`), compiled when the routing table is built so that an
// unknown variable rejects the snapshot instead of failing per request.
// Supported: literal text, $request_uri, $uri, $remote_addr, $host,
// $http_NAME, $cookie_NAME, $arg_NAME (also written ${name}). The request
// side evaluates it into a hash without building the string
// (upstream/hash_key.h).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace xgress::router {

struct KeyPart {
    enum class Kind : std::uint8_t { Literal, RequestUri, Uri, RemoteAddr, Host, Header, Cookie, Arg };
    Kind kind = Kind::Literal;
    std::string text;  // Literal: the text; Header: name with '-' for '_'; Cookie / Arg: the name
};

struct KeyTemplate {
    std::vector<KeyPart> parts;  // empty: no hashing
    bool empty() const { return parts.empty(); }
    static std::expected<KeyTemplate, std::string> compile(std::string_view text);
};

}  // namespace xgress::router

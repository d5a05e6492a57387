#include "router/key_template.h"

namespace xgress::router {

namespace {

bool ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::expected<KeyPart, std::string> variable(std::string_view name) {
    using K = KeyPart::Kind;
    if (name == "request_uri") return KeyPart{K::RequestUri, {}};
    if (name == "uri") return KeyPart{K::Uri, {}};
    if (name == "remote_addr") return KeyPart{K::RemoteAddr, {}};
    if (name == "host") return KeyPart{K::Host, {}};
    auto suffix = [&](std::string_view prefix) { return name.size() > prefix.size() && name.starts_with(prefix); };
    if (suffix("http_")) {
        std::string h(name.substr(5));
        for (char& c : h) c = c == '_' ? '-' : c;
        return KeyPart{K::Header, std::move(h)};
    }
    if (suffix("cookie_")) return KeyPart{K::Cookie, std::string(name.substr(7))};
    if (suffix("arg_")) return KeyPart{K::Arg, std::string(name.substr(4))};
    return std::unexpected("unknown variable $" + std::string(name));
}

}  // namespace

std::expected<KeyTemplate, std::string> KeyTemplate::compile(std::string_view text) {
    KeyTemplate t;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '$') {
            std::size_t j = text.find('$', i);
            if (j == std::string_view::npos) j = text.size();
            t.parts.push_back({KeyPart::Kind::Literal, std::string(text.substr(i, j - i))});
            i = j;
            continue;
        }
        std::string_view name;
        if (i + 1 < text.size() && text[i + 1] == '{') {
            const std::size_t close = text.find('}', i + 2);
            if (close == std::string_view::npos) return std::unexpected("unterminated ${ in \"" + std::string(text) + "\"");
            name = text.substr(i + 2, close - i - 2);
            i = close + 1;
        } else {
            std::size_t j = i + 1;
            while (j < text.size() && ident_char(text[j])) ++j;
            name = text.substr(i + 1, j - i - 1);
            i = j;
        }
        if (name.empty()) return std::unexpected("empty variable name in \"" + std::string(text) + "\"");
        auto part = variable(name);
        if (!part) return std::unexpected(part.error());
        t.parts.push_back(std::move(*part));
    }
    return t;
}

}  // namespace xgress::router

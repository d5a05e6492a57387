#include "echo_body.h"

#include <string>

namespace xgress::echo {
namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    std::size_t length;
    char32_t min;
    char32_t cp;
    if (lead >= 0xc2 && lead <= 0xdf) { length = 2; min = 0x80; cp = lead & 0x1f; }
    else if (lead >= 0xe0 && lead <= 0xef) { length = 3; min = 0x800; cp = lead & 0x0f; }
    else if (lead >= 0xf0 && lead <= 0xf4) { length = 4; min = 0x10000; cp = lead & 0x07; }
    else return 0;
    if (s.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i) & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return length;
}

void append_hex_escape(std::string& out, unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            if (const std::size_t n = utf8_sequence_length(text.substr(i)); n != 0) {
                out.append(text.substr(i, n));
                i += n;
            } else {
                append_hex_escape(out, c);
                ++i;
            }
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) append_hex_escape(out, c);
                else out += static_cast<char>(c);
        }
        ++i;
    }
    out += '"';
}

std::string render_echo_body(const Responder& responder, const Request& request) {
    std::string out;
    out.reserve(512);
    const auto field = [&](std::string_view name, std::string_view value) {
        append_json_string(out, name);
        out += ':';
        append_json_string(out, value);
        out += ',';
    };
    out += '{';
    field("pod", responder.pod);
    field("namespace", responder.namespace_);
    field("service", responder.service);
    out += "\"port\":" + std::to_string(responder.port) + ',';
    field("method", request.method);
    field("path", request.target);
    field("host", request.header("host"));
    field("proto", request.version);
    out += "\"headers\":{";
    bool first = true;
    for (const auto& [name, value] : request.headers) {
        // Repeated fields appear once, joined, so the object has unique keys.
        bool seen = false;
        for (const auto& [earlier, unused] : request.headers) {
            if (&earlier == &name) break;
            if (earlier == name) { seen = true; break; }
        }
        if (seen) continue;
        if (!first) out += ',';
        first = false;
        append_json_string(out, name);
        out += ':';
        append_json_string(out, request.header(name));
    }
    out += "}}\n";
    return out;
}

}  // namespace xgress::echo

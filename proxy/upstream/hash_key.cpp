#include "upstream/hash_key.h"

#include "http/request_fields.h"
#include "router/consistent_hash.h"
#include "router/route_table.h"

namespace xgress::upstream {

std::uint64_t hash_text(std::string_view text) {
    router::Fnv1a h;
    h.add(text.data(), text.size());
    return h.done();
}

std::uint64_t hash_request_key(const router::KeyTemplate& key, const http::RequestHead& req,
                               std::string_view client_ip) {
    using K = router::KeyPart::Kind;
    router::Fnv1a h;
    auto add = [&](std::string_view v) { h.add(v.data(), v.size()); };
    for (const router::KeyPart& p : key.parts) {
        switch (p.kind) {
            case K::Literal: add(p.text); break;
            case K::RequestUri: add(req.target); break;
            case K::Uri: add(req.path); break;
            case K::RemoteAddr: add(client_ip); break;
            case K::Host: {
                char buf[256];
                add(router::normalize_host(req.host, buf, sizeof buf));
                break;
            }
            case K::Header: add(http::header_value(req, p.text)); break;
            case K::Cookie: add(http::cookie_value(req, p.text)); break;
            case K::Arg: add(http::query_arg(req.target, p.text)); break;
        }
    }
    return h.done();
}

}  // namespace xgress::upstream

// JSON codec for the routing snapshot (xgress/snapshot.h). Decoding uses
// simdjson's DOM API with error codes (no exceptions) and validates the whole
// document before returning it, naming the offending field on failure.
// Linked by the agent too, so it depends on nothing but simdjson and the header.
#include "xgress/snapshot.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <vector>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <simdjson.h>

namespace xgress::snapshot {

namespace {

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

using Error = std::unexpected<std::string>;

Error field_error(const std::string& field, std::string_view what) {
    return Error(field + ": " + std::string(what));
}

// Reads a required string member.
std::expected<std::string, std::string> get_string(simdjson::dom::object obj, const char* key,
                                                   const std::string& where) {
    std::string_view v;
    auto err = obj[key].get_string().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return field_error(where + "." + key, "missing");
    if (err) return field_error(where + "." + key, "must be a string");
    return std::string(v);
}

// The elements of an optional array member; a missing member is empty.
std::expected<std::vector<simdjson::dom::element>, std::string> optional_array(simdjson::dom::object obj, const char* key,
                                                                                const std::string& field) {
    simdjson::dom::array arr;
    auto err = obj[key].get_array().get(arr);
    if (err == simdjson::NO_SUCH_FIELD) return std::vector<simdjson::dom::element>{};
    if (err) return field_error(field, "must be an array");
    return std::vector<simdjson::dom::element>(arr.begin(), arr.end());
}

bool valid_address(const std::string& a) {
    unsigned char buf[16];
    return inet_pton(AF_INET, a.c_str(), buf) == 1 || inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

// "10.0.0.0/8", "2001:db8::/32"; the prefix length must fit the family.
bool valid_cidr(const std::string& c) {
    auto slash = c.find('/');
    if (slash == std::string::npos || slash + 1 == c.size() || c.size() - slash > 4) return false;
    std::string addr = c.substr(0, slash);
    unsigned bits = 0;
    for (std::size_t i = slash + 1; i < c.size(); ++i) {
        if (c[i] < '0' || c[i] > '9') return false;
        bits = bits * 10 + static_cast<unsigned>(c[i] - '0');
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return bits <= 32;
    if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) return bits <= 128;
    return false;
}

// Optional members: absent means the default; present with the wrong type is an error.
std::expected<void, std::string> read_optional(simdjson::dom::object obj, const char* key, const std::string& where,
                                               std::string& out) {
    std::string_view v;
    auto err = obj[key].get_string().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err) return field_error(where + "." + key, "must be a string");
    out = std::string(v);
    return {};
}

std::expected<void, std::string> read_optional(simdjson::dom::object obj, const char* key, const std::string& where,
                                               bool& out) {
    bool v = false;
    auto err = obj[key].get_bool().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err) return field_error(where + "." + key, "must be true or false");
    out = v;
    return {};
}

template <typename Int>
std::expected<void, std::string> read_optional(simdjson::dom::object obj, const char* key, const std::string& where,
                                               Int& out) {
    std::uint64_t v = 0;
    auto err = obj[key].get_uint64().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err || v > std::numeric_limits<Int>::max())
        return field_error(where + "." + key,
                           "must be an integer in 0.." + std::to_string(std::numeric_limits<Int>::max()));
    out = static_cast<Int>(v);
    return {};
}

std::expected<std::vector<std::string>, std::string> optional_strings(simdjson::dom::object obj, const char* key,
                                                                       const std::string& where) {
    auto arr = optional_array(obj, key, where + "." + key);
    if (!arr) return Error(arr.error());
    std::vector<std::string> out;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        std::string_view v;
        if ((*arr)[i].get_string().get(v))
            return field_error(where + "." + key + "[" + std::to_string(i) + "]", "must be a string");
        out.emplace_back(v);
    }
    return out;
}

void append_strings(std::string& out, const std::vector<std::string>& items) {
    out.push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, items[i]);
    }
    out.push_back(']');
}

void append_backend(std::string& out, const Backend& b) {
    out += "{\"name\":";
    append_json_string(out, b.name);
    if (b.affinity == Affinity::ClientIp) out += ",\"affinity\":\"client_ip\"";
    if (b.affinity_timeout_s != 0) out += ",\"affinity_timeout_s\":" + std::to_string(b.affinity_timeout_s);
    out += ",\"endpoints\":[";
    for (std::size_t j = 0; j < b.endpoints.size(); ++j) {
        if (j) out.push_back(',');
        out += "{\"address\":";
        append_json_string(out, b.endpoints[j].address);
        out += ",\"port\":" + std::to_string(b.endpoints[j].port) + "}";
    }
    out += "]}";
}

// Route fields added in schema version 2, written only when not default.
void append_route_policy(std::string& out, const Route& r) {
    if (r.regex) out += ",\"regex\":true";
    if (!r.rewrite_target.empty()) {
        out += ",\"rewrite_target\":";
        append_json_string(out, r.rewrite_target);
    }
    if (r.ssl_redirect) out += ",\"ssl_redirect\":true";
    if (r.redirect.status) {
        out += ",\"redirect\":{\"url\":";
        append_json_string(out, r.redirect.url);
        out += ",\"status\":" + std::to_string(r.redirect.status) + "}";
    }
    if (!r.app_root.empty()) {
        out += ",\"app_root\":";
        append_json_string(out, r.app_root);
    }
    if (!r.allowed_sources.empty()) {
        out += ",\"allowed_sources\":";
        append_strings(out, r.allowed_sources);
    }
    if (r.connect_timeout_ms) out += ",\"connect_timeout_ms\":" + std::to_string(r.connect_timeout_ms);
    if (r.read_timeout_ms) out += ",\"read_timeout_ms\":" + std::to_string(r.read_timeout_ms);
    if (r.send_timeout_ms) out += ",\"send_timeout_ms\":" + std::to_string(r.send_timeout_ms);
    if (r.max_body_bytes) out += ",\"max_body_bytes\":" + std::to_string(r.max_body_bytes);
    if (!r.affinity_cookie.empty()) {
        out += ",\"affinity_cookie\":";
        append_json_string(out, r.affinity_cookie);
    }
    if (!r.hash_by.empty()) {
        out += ",\"hash_by\":";
        append_json_string(out, r.hash_by);
    }
    if (r.backend_protocol == BackendProtocol::Https) out += ",\"backend_protocol\":\"https\"";
    if (!r.upstream_server_name.empty()) {
        out += ",\"upstream_server_name\":";
        append_json_string(out, r.upstream_server_name);
    }
    if (r.upstream_verify) out += ",\"upstream_verify\":true";
    if (!r.upstream_ca_pem.empty()) {
        out += ",\"upstream_ca_pem\":";
        append_json_string(out, r.upstream_ca_pem);
    }
}

// Reads one backend object (shared by snapshots and patches).
std::expected<Backend, std::string> decode_backend(simdjson::dom::element be, const std::string& where) {
    simdjson::dom::object bo;
    if (be.get_object().get(bo)) return field_error(where, "must be an object");
    Backend b;
    auto name = get_string(bo, "name", where);
    if (!name) return Error(name.error());
    if (name->empty()) return field_error(where + ".name", "must not be empty");
    b.name = std::move(*name);
    std::string affinity = "none";
    if (auto r = read_optional(bo, "affinity", where, affinity); !r) return Error(r.error());
    if (affinity == "client_ip") b.affinity = Affinity::ClientIp;
    else if (affinity != "none") return field_error(where + ".affinity", "must be \"none\" or \"client_ip\", got \"" + affinity + "\"");
    if (auto r = read_optional(bo, "affinity_timeout_s", where, b.affinity_timeout_s); !r) return Error(r.error());
    auto eps_opt = optional_array(bo, "endpoints", where + ".endpoints");
    if (!eps_opt) return Error(eps_opt.error());
    b.endpoints.reserve(eps_opt->size());
    std::size_t ei = 0;
    for (simdjson::dom::element ee : *eps_opt) {
        // The field path is only spelled out for an error: building it for
        // each of 100,000 endpoints was a measurable part of a decode.
        const std::size_t index = ei++;
        auto ewhere = [&] { return where + ".endpoints[" + std::to_string(index) + "]"; };
        simdjson::dom::object eo;
        if (ee.get_object().get(eo)) return field_error(ewhere(), "must be an object");
        Endpoint ep;
        std::string_view address;
        if (auto err = eo["address"].get_string().get(address))
            return field_error(ewhere() + ".address", err == simdjson::NO_SUCH_FIELD ? "missing" : "must be a string");
        ep.address = std::string(address);
        if (!valid_address(ep.address))
            return field_error(ewhere() + ".address", "not an IP address: \"" + ep.address + "\"");
        std::uint64_t port = 0;
        if (eo["port"].get_uint64().get(port) || port == 0 || port > 65535)
            return field_error(ewhere() + ".port", "must be an integer in 1..65535");
        ep.port = static_cast<std::uint16_t>(port);
        b.endpoints.push_back(std::move(ep));
    }
    return b;
}

// Reads the schema-2 route fields; `r.backend` is already set ("" allowed here).
std::expected<void, std::string> decode_route_policy(simdjson::dom::object ro, const std::string& rwhere, Route& r) {
    if (auto e = read_optional(ro, "regex", rwhere, r.regex); !e) return e;
    if (auto e = read_optional(ro, "rewrite_target", rwhere, r.rewrite_target); !e) return e;
    if (auto e = read_optional(ro, "ssl_redirect", rwhere, r.ssl_redirect); !e) return e;
    if (auto e = read_optional(ro, "app_root", rwhere, r.app_root); !e) return e;
    if (auto e = read_optional(ro, "connect_timeout_ms", rwhere, r.connect_timeout_ms); !e) return e;
    if (auto e = read_optional(ro, "read_timeout_ms", rwhere, r.read_timeout_ms); !e) return e;
    if (auto e = read_optional(ro, "send_timeout_ms", rwhere, r.send_timeout_ms); !e) return e;
    if (auto e = read_optional(ro, "max_body_bytes", rwhere, r.max_body_bytes); !e) return e;
    if (auto e = read_optional(ro, "affinity_cookie", rwhere, r.affinity_cookie); !e) return e;
    if (auto e = read_optional(ro, "hash_by", rwhere, r.hash_by); !e) return e;
    if (!r.rewrite_target.empty() && r.rewrite_target.front() != '/')
        return field_error(rwhere + ".rewrite_target", "must start with '/'");
    if (!r.app_root.empty() && r.app_root.front() != '/')
        return field_error(rwhere + ".app_root", "must start with '/'");
    std::string protocol = "http";
    if (auto e = read_optional(ro, "backend_protocol", rwhere, protocol); !e) return e;
    if (protocol == "https") r.backend_protocol = BackendProtocol::Https;
    else if (protocol != "http")
        return field_error(rwhere + ".backend_protocol", "must be \"http\" or \"https\", got \"" + protocol + "\"");
    if (auto e = read_optional(ro, "upstream_server_name", rwhere, r.upstream_server_name); !e) return e;
    if (auto e = read_optional(ro, "upstream_verify", rwhere, r.upstream_verify); !e) return e;
    if (auto e = read_optional(ro, "upstream_ca_pem", rwhere, r.upstream_ca_pem); !e) return e;
    auto sources = optional_strings(ro, "allowed_sources", rwhere);
    if (!sources) return Error(sources.error());
    for (std::size_t i = 0; i < sources->size(); ++i)
        if (!valid_cidr((*sources)[i]))
            return field_error(rwhere + ".allowed_sources[" + std::to_string(i) + "]",
                               "not a CIDR: \"" + (*sources)[i] + "\"");
    r.allowed_sources = std::move(*sources);
    simdjson::dom::object redirect;
    if (auto err = ro["redirect"].get_object().get(redirect); err != simdjson::NO_SUCH_FIELD) {
        if (err) return field_error(rwhere + ".redirect", "must be an object");
        auto url = get_string(redirect, "url", rwhere + ".redirect");
        if (!url) return Error(url.error());
        if (url->empty()) return field_error(rwhere + ".redirect.url", "must not be empty");
        r.redirect.url = std::move(*url);
        std::uint64_t status = 0;
        if (redirect["status"].get_uint64().get(status) ||
            (status != 301 && status != 302 && status != 307 && status != 308))
            return field_error(rwhere + ".redirect.status", "must be 301, 302, 307 or 308");
        r.redirect.status = static_cast<std::uint16_t>(status);
    }
    return {};
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return s;
}

}  // namespace

std::string encode(const Snapshot& snapshot) {
    std::string out;
    out.reserve(256);
    out += "{\"version\":" + std::to_string(snapshot.version) + ",\"virtual_hosts\":[";
    for (std::size_t i = 0; i < snapshot.virtual_hosts.size(); ++i) {
        const VirtualHost& vh = snapshot.virtual_hosts[i];
        if (i) out.push_back(',');
        out += "{\"host\":";
        append_json_string(out, vh.host);
        if (!vh.passthrough_backend.empty()) {
            out += ",\"passthrough_backend\":";
            append_json_string(out, vh.passthrough_backend);
        }
        out += ",\"routes\":[";
        for (std::size_t j = 0; j < vh.routes.size(); ++j) {
            const Route& r = vh.routes[j];
            if (j) out.push_back(',');
            out += "{\"path\":";
            append_json_string(out, r.path);
            out += ",\"match\":";
            out += r.match == PathMatch::Exact ? "\"exact\"" : "\"prefix\"";
            out += ",\"backend\":";
            append_json_string(out, r.backend);
            append_route_policy(out, r);
            out.push_back('}');
        }
        out += "]}";
    }
    out += "],\"default_backend\":";
    append_json_string(out, snapshot.default_backend);
    out += ",\"frontends\":[";
    for (std::size_t i = 0; i < snapshot.frontends.size(); ++i) {
        const Frontend& f = snapshot.frontends[i];
        if (i) out.push_back(',');
        out += "{\"address\":";
        append_json_string(out, f.address);
        out += ",\"port\":" + std::to_string(f.port);
        out += f.protocol == FrontendProtocol::Tcp     ? ",\"protocol\":\"tcp\""
               : f.protocol == FrontendProtocol::Https ? ",\"protocol\":\"https\""
                                                       : ",\"protocol\":\"http\"";
        out += ",\"backend\":";
        append_json_string(out, f.backend);
        out.push_back('}');
    }
    out += "],\"backends\":[";
    for (std::size_t i = 0; i < snapshot.backends.size(); ++i) {
        if (i) out.push_back(',');
        append_backend(out, snapshot.backends[i]);
    }
    out.push_back(']');
    if (!snapshot.certificates.empty()) {
        out += ",\"certificates\":[";
        for (std::size_t i = 0; i < snapshot.certificates.size(); ++i) {
            const Certificate& c = snapshot.certificates[i];
            if (i) out.push_back(',');
            out += "{\"name\":";
            append_json_string(out, c.name);
            out += ",\"hosts\":";
            append_strings(out, c.hosts);
            out += ",\"cert_pem\":";
            append_json_string(out, c.cert_pem);
            out += ",\"key_pem\":";
            append_json_string(out, c.key_pem);
            if (!c.ocsp_staple.empty()) {
                out += ",\"ocsp_staple\":";
                append_json_string(out, c.ocsp_staple);
            }
            out.push_back('}');
        }
        out.push_back(']');
    }
    if (!snapshot.default_certificate.empty()) {
        out += ",\"default_certificate\":";
        append_json_string(out, snapshot.default_certificate);
    }
    out.push_back('}');
    return out;
}

std::expected<Snapshot, std::string> decode(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (auto err = parser.parse(padded).get(root)) return Error(std::string("invalid JSON: ") + simdjson::error_message(err));
    simdjson::dom::object top;
    if (root.get_object().get(top)) return Error("snapshot: must be an object");

    Snapshot snap;
    std::uint64_t version = 0;
    if (auto err = top["version"].get_uint64().get(version))
        return field_error("version", err == simdjson::NO_SUCH_FIELD ? "missing" : "must be a non-negative integer");
    snap.version = version;

    // Backends first, so routes can be checked against them.
    auto backends_opt = optional_array(top, "backends", "backends");
    if (!backends_opt) return Error(backends_opt.error());
    std::unordered_set<std::string> names;
    names.reserve(backends_opt->size());
    snap.backends.reserve(backends_opt->size());
    std::size_t bi = 0;
    for (simdjson::dom::element be : *backends_opt) {
        std::string where = "backends[" + std::to_string(bi++) + "]";
        auto b = decode_backend(be, where);
        if (!b) return Error(b.error());
        if (!names.insert(b->name).second) return field_error(where + ".name", "duplicate backend \"" + b->name + "\"");
        snap.backends.push_back(std::move(*b));
    }

    auto hosts_opt = optional_array(top, "virtual_hosts", "virtual_hosts");
    if (!hosts_opt) return Error(hosts_opt.error());
    std::unordered_set<std::string> seen_hosts;
    seen_hosts.reserve(hosts_opt->size());
    snap.virtual_hosts.reserve(hosts_opt->size());
    std::size_t hi = 0;
    for (simdjson::dom::element he : *hosts_opt) {
        std::string where = "virtual_hosts[" + std::to_string(hi++) + "]";
        simdjson::dom::object ho;
        if (he.get_object().get(ho)) return field_error(where, "must be an object");
        VirtualHost vh;
        auto host = get_string(ho, "host", where);
        if (!host) return Error(host.error());
        vh.host = lower(std::move(*host));
        if (!seen_hosts.insert(vh.host).second) return field_error(where + ".host", "duplicate host \"" + vh.host + "\"");
        if (auto e = read_optional(ho, "passthrough_backend", where, vh.passthrough_backend); !e) return Error(e.error());
        if (!vh.passthrough_backend.empty() && !names.contains(vh.passthrough_backend))
            return field_error(where + ".passthrough_backend", "unknown backend \"" + vh.passthrough_backend + "\"");
        auto routes_opt = optional_array(ho, "routes", where + ".routes");
        if (!routes_opt) return Error(routes_opt.error());
        std::size_t ri = 0;
        for (simdjson::dom::element re : *routes_opt) {
            std::string rwhere = where + ".routes[" + std::to_string(ri++) + "]";
            simdjson::dom::object ro;
            if (re.get_object().get(ro)) return field_error(rwhere, "must be an object");
            Route r;
            auto path = get_string(ro, "path", rwhere);
            if (!path) return Error(path.error());
            if (path->empty() || path->front() != '/') return field_error(rwhere + ".path", "must start with '/'");
            r.path = std::move(*path);
            auto match = get_string(ro, "match", rwhere);
            if (!match) return Error(match.error());
            if (*match == "prefix") r.match = PathMatch::Prefix;
            else if (*match == "exact") r.match = PathMatch::Exact;
            else return field_error(rwhere + ".match", "must be \"prefix\" or \"exact\", got \"" + *match + "\"");
            auto backend = get_string(ro, "backend", rwhere);
            if (!backend) return Error(backend.error());
            r.backend = std::move(*backend);
            if (auto e = decode_route_policy(ro, rwhere, r); !e) return Error(e.error());
            if (r.backend.empty() ? r.redirect.status == 0 : !names.contains(r.backend))
                return field_error(rwhere + ".backend", r.backend.empty()
                                                            ? std::string("must not be empty unless the route redirects")
                                                            : "unknown backend \"" + r.backend + "\"");
            vh.routes.push_back(std::move(r));
        }
        snap.virtual_hosts.push_back(std::move(vh));
    }

    std::string_view def;
    if (auto err = top["default_backend"].get_string().get(def); err && err != simdjson::NO_SUCH_FIELD)
        return field_error("default_backend", "must be a string");
    if (!def.empty() && !names.contains(std::string(def)))
        return field_error("default_backend", "unknown backend \"" + std::string(def) + "\"");
    snap.default_backend = std::string(def);

    auto frontends_opt = optional_array(top, "frontends", "frontends");
    if (!frontends_opt) return Error(frontends_opt.error());
    std::unordered_set<std::string> seen_frontends;
    std::size_t fi = 0;
    for (simdjson::dom::element fe : *frontends_opt) {
        std::string where = "frontends[" + std::to_string(fi++) + "]";
        simdjson::dom::object fo;
        if (fe.get_object().get(fo)) return field_error(where, "must be an object");
        Frontend f;
        std::string_view addr;
        if (auto err = fo["address"].get_string().get(addr); err && err != simdjson::NO_SUCH_FIELD)
            return field_error(where + ".address", "must be a string");
        f.address = std::string(addr);
        if (!f.address.empty() && !valid_address(f.address))
            return field_error(where + ".address", "not an IP address: \"" + f.address + "\"");
        std::uint64_t port = 0;
        if (fo["port"].get_uint64().get(port) || port == 0 || port > 65535)
            return field_error(where + ".port", "must be an integer in 1..65535");
        f.port = static_cast<std::uint16_t>(port);
        auto protocol = get_string(fo, "protocol", where);
        if (!protocol) return Error(protocol.error());
        if (*protocol == "http") f.protocol = FrontendProtocol::Http;
        else if (*protocol == "https") f.protocol = FrontendProtocol::Https;
        else if (*protocol == "tcp") f.protocol = FrontendProtocol::Tcp;
        else return field_error(where + ".protocol", "must be \"http\", \"https\" or \"tcp\", got \"" + *protocol + "\"");
        std::string_view backend;
        if (auto err = fo["backend"].get_string().get(backend); err && err != simdjson::NO_SUCH_FIELD)
            return field_error(where + ".backend", "must be a string");
        f.backend = std::string(backend);
        if (f.protocol == FrontendProtocol::Tcp) {
            if (f.backend.empty()) return field_error(where + ".backend", "required for protocol \"tcp\"");
            if (!names.contains(f.backend)) return field_error(where + ".backend", "unknown backend \"" + f.backend + "\"");
        } else if (!f.backend.empty()) {
            return field_error(where + ".backend", "must be empty for protocol \"" + *protocol + "\" (Ingress rules route it)");
        }
        if (!seen_frontends.insert(f.address + "|" + std::to_string(f.port)).second)
            return field_error(where, "duplicate frontend " + (f.address.empty() ? std::string("*") : f.address) + ":" +
                                          std::to_string(f.port));
        snap.frontends.push_back(std::move(f));
    }

    auto certs_opt = optional_array(top, "certificates", "certificates");
    if (!certs_opt) return Error(certs_opt.error());
    std::unordered_set<std::string> cert_names;
    std::size_t ci = 0;
    for (simdjson::dom::element ce : *certs_opt) {
        std::string where = "certificates[" + std::to_string(ci++) + "]";
        simdjson::dom::object co;
        if (ce.get_object().get(co)) return field_error(where, "must be an object");
        Certificate c;
        auto name = get_string(co, "name", where);
        if (!name) return Error(name.error());
        if (name->empty()) return field_error(where + ".name", "must not be empty");
        if (!cert_names.insert(*name).second) return field_error(where + ".name", "duplicate certificate \"" + *name + "\"");
        c.name = std::move(*name);
        auto hosts = optional_strings(co, "hosts", where);
        if (!hosts) return Error(hosts.error());
        for (std::string& h : *hosts) c.hosts.push_back(lower(std::move(h)));
        auto cert = get_string(co, "cert_pem", where);
        if (!cert) return Error(cert.error());
        auto key = get_string(co, "key_pem", where);
        if (!key) return Error(key.error());
        if (cert->empty()) return field_error(where + ".cert_pem", "must not be empty");
        if (key->empty()) return field_error(where + ".key_pem", "must not be empty");
        c.cert_pem = std::move(*cert);
        c.key_pem = std::move(*key);
        if (auto e = read_optional(co, "ocsp_staple", where, c.ocsp_staple); !e) return Error(e.error());
        snap.certificates.push_back(std::move(c));
    }
    if (auto e = read_optional(top, "default_certificate", "snapshot", snap.default_certificate); !e)
        return Error("default_certificate: must be a string");
    if (!snap.default_certificate.empty() && !cert_names.contains(snap.default_certificate))
        return field_error("default_certificate", "unknown certificate \"" + snap.default_certificate + "\"");
    return snap;
}

std::string encode_patch(const EndpointsPatch& patch) {
    std::string out = "{\"base_version\":" + std::to_string(patch.base_version) +
                      ",\"version\":" + std::to_string(patch.version) + ",\"backends\":[";
    for (std::size_t i = 0; i < patch.backends.size(); ++i) {
        if (i) out.push_back(',');
        append_backend(out, patch.backends[i]);
    }
    out += "]}";
    return out;
}

std::expected<EndpointsPatch, std::string> decode_patch(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (auto err = parser.parse(padded).get(root)) return Error(std::string("invalid JSON: ") + simdjson::error_message(err));
    simdjson::dom::object top;
    if (root.get_object().get(top)) return Error("patch: must be an object");
    EndpointsPatch patch;
    if (auto err = top["base_version"].get_uint64().get(patch.base_version))
        return field_error("base_version", err == simdjson::NO_SUCH_FIELD ? "missing" : "must be a non-negative integer");
    if (auto err = top["version"].get_uint64().get(patch.version))
        return field_error("version", err == simdjson::NO_SUCH_FIELD ? "missing" : "must be a non-negative integer");
    if (patch.version <= patch.base_version) return field_error("version", "must be greater than base_version");
    auto backends = optional_array(top, "backends", "backends");
    if (!backends) return Error(backends.error());
    std::unordered_set<std::string> names;
    for (std::size_t i = 0; i < backends->size(); ++i) {
        std::string where = "backends[" + std::to_string(i) + "]";
        auto b = decode_backend((*backends)[i], where);
        if (!b) return Error(b.error());
        if (!names.insert(b->name).second) return field_error(where + ".name", "duplicate backend \"" + b->name + "\"");
        patch.backends.push_back(std::move(*b));
    }
    return patch;
}

std::expected<void, std::string> apply_patch_in_place(Snapshot& snapshot, const EndpointsPatch& patch) {
    if (snapshot.version != patch.base_version)
        return Error("patch is based on version " + std::to_string(patch.base_version) + " but version " +
                     std::to_string(snapshot.version) + " is serving");
    // Resolve every name before touching anything, so an error leaves the snapshot as it was.
    std::unordered_map<std::string_view, std::size_t> wanted;
    for (std::size_t i = 0; i < patch.backends.size(); ++i) wanted.emplace(patch.backends[i].name, i);
    std::vector<std::pair<std::size_t, std::size_t>> targets;  // (snapshot index, patch index)
    for (std::size_t i = 0; i < snapshot.backends.size() && targets.size() < wanted.size(); ++i)
        if (auto it = wanted.find(snapshot.backends[i].name); it != wanted.end()) targets.emplace_back(i, it->second);
    if (targets.size() != wanted.size()) {
        for (const Backend& b : patch.backends)
            if (std::none_of(targets.begin(), targets.end(),
                             [&](const auto& t) { return snapshot.backends[t.first].name == b.name; }))
                return Error("patch names unknown backend \"" + b.name + "\"");
    }
    for (auto [at, from] : targets) snapshot.backends[at] = patch.backends[from];
    snapshot.version = patch.version;
    return {};
}

std::expected<Snapshot, std::string> apply_patch(const Snapshot& snapshot, const EndpointsPatch& patch) {
    Snapshot next = snapshot;
    if (auto applied = apply_patch_in_place(next, patch); !applied) return Error(applied.error());
    return next;
}

}  // namespace xgress::snapshot

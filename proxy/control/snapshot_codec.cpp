// JSON codec for the routing snapshot (xgress/snapshot.h). Decoding uses
// simdjson's DOM API with error codes (no exceptions) and validates the whole
// document before returning it, naming the offending field on failure.
// Linked by the agent too, so it depends on nothing but simdjson and the header.
#include "xgress/snapshot.h"
#include "control/snapshot_detail.h"

#include "xgress/index_slots.h"
#include "xgress/ipv4_literal.h"

#include <arpa/inet.h>

#include <cstring>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <vector>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <simdjson.h>

namespace xgress::snapshot {

namespace {

// Appends `s` quoted. Runs of characters that need no escape (nearly all
// of a snapshot: names, hosts, paths, addresses) are appended whole; one
// push_back per character was most of encoding a 1.6 MiB snapshot.
void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t run = 0;  // start of the pending unescaped run
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

using Error = std::unexpected<std::string>;

// Where a value sits in the document ("virtual_hosts[3].routes[0]"), spelled
// out only when an error needs it: formatting it eagerly for each of 10,000
// hosts, routes and backends was a large part of decoding a big snapshot.
struct Where {
    const Where* parent = nullptr;
    std::string_view name;                        // member name; "" for the document itself
    std::size_t index = std::string_view::npos;   // element index when an array element

    std::string str() const {
        std::string s = parent ? parent->str() : std::string();
        if (!name.empty()) {
            if (!s.empty()) s.push_back('.');
            s += name;
        }
        if (index != std::string_view::npos) s += "[" + std::to_string(index) + "]";
        return s;
    }
    // The path of member `key` of this value.
    std::string field(std::string_view key) const {
        std::string s = str();
        if (!s.empty()) s.push_back('.');
        s += key;
        return s;
    }
};

Error field_error(const std::string& field, std::string_view what) {
    return Error(field + ": " + std::string(what));
}

Error field_error(const Where& where, std::string_view what) { return field_error(where.str(), what); }

// Reads a required string member (a view into the parsed document).
std::expected<std::string_view, std::string> get_string(simdjson::dom::object obj, const char* key,
                                                        const Where& where) {
    std::string_view v;
    auto err = obj[key].get_string().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return field_error(where.field(key), "missing");
    if (err) return field_error(where.field(key), "must be a string");
    return v;
}

// An optional array member; a missing member has no elements.
struct Items {
    simdjson::dom::array array;
    bool present = false;
    std::size_t size() const { return present ? array.size() : 0; }
};

std::expected<Items, std::string> optional_array(simdjson::dom::object obj, const char* key, const Where& where) {
    Items items;
    auto err = obj[key].get_array().get(items.array);
    if (err == simdjson::NO_SUCH_FIELD) return items;
    if (err) return field_error(where.field(key), "must be an array");
    items.present = true;
    return items;
}

bool valid_address(std::string_view a) {
    if (in_addr v4; parse_ipv4_literal(a, v4)) return true;
    char text[INET6_ADDRSTRLEN + 1];
    if (a.size() >= sizeof text) return false;
    std::memcpy(text, a.data(), a.size());
    text[a.size()] = 0;
    unsigned char buf[16];
    return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
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

using detail::find_members;

// A required string member found by find_members (get_string's errors).
std::expected<std::string_view, std::string> member_string(bool found, simdjson::dom::element e, const char* key,
                                                           const Where& where) {
    if (!found) return field_error(where.field(key), "missing");
    std::string_view v;
    if (e.get_string().get(v)) return field_error(where.field(key), "must be a string");
    return v;
}

// An optional array member found by find_members (optional_array's errors).
std::expected<Items, std::string> member_array(bool found, simdjson::dom::element e, const char* key,
                                               const Where& where) {
    Items items;
    if (!found) return items;
    if (e.get_array().get(items.array)) return field_error(where.field(key), "must be an array");
    items.present = true;
    return items;
}

// Optional members: absent means the default; present with the wrong type is an error.
std::expected<void, std::string> read_optional(simdjson::dom::object obj, const char* key, const Where& where,
                                               std::string& out) {
    std::string_view v;
    auto err = obj[key].get_string().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err) return field_error(where.field(key), "must be a string");
    out.assign(v);
    return {};
}

std::expected<void, std::string> read_optional(simdjson::dom::object obj, const char* key, const Where& where,
                                               bool& out) {
    bool v = false;
    auto err = obj[key].get_bool().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err) return field_error(where.field(key), "must be true or false");
    out = v;
    return {};
}

template <typename Int>
std::expected<void, std::string> read_optional(simdjson::dom::object obj, const char* key, const Where& where,
                                               Int& out) {
    std::uint64_t v = 0;
    auto err = obj[key].get_uint64().get(v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err || v > std::numeric_limits<Int>::max())
        return field_error(where.field(key),
                           "must be an integer in 0.." + std::to_string(std::numeric_limits<Int>::max()));
    out = static_cast<Int>(v);
    return {};
}

std::expected<std::vector<std::string>, std::string> optional_strings(simdjson::dom::object obj, const char* key,
                                                                       const Where& where) {
    auto arr = optional_array(obj, key, where);
    if (!arr) return Error(arr.error());
    std::vector<std::string> out;
    if (!arr->present) return out;
    out.reserve(arr->size());
    std::size_t i = 0;
    for (simdjson::dom::element e : arr->array) {
        std::string_view v;
        if (e.get_string().get(v)) return field_error(Where{&where, key, i}, "must be a string");
        out.emplace_back(v);
        ++i;
    }
    return out;
}

void append_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, end);
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
        out += ",\"port\":";
        append_uint(out, b.endpoints[j].port);
        out.push_back('}');
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

// Reads one backend object into `b` (shared by snapshots and patches).
std::expected<void, std::string> decode_backend(simdjson::dom::element be, const Where& where, Backend& b) {
    simdjson::dom::object bo;
    if (be.get_object().get(bo)) return field_error(where, "must be an object");
    const auto m = find_members<2>(bo, {"name", "endpoints"});
    auto name = member_string(m.found[0], m.value[0], "name", where);
    if (!name) return Error(name.error());
    if (name->empty()) return field_error(where.field("name"), "must not be empty");
    b.name.assign(*name);
    auto eps = member_array(m.found[1], m.value[1], "endpoints", where);
    // The optional members are looked for only when the object has members
    // besides name and endpoints: simdjson finds a member by scanning the
    // keys, and two scans for absent members per backend were a tenth of
    // decoding a 10,000-backend snapshot. (An endpoints error is reported
    // after theirs, as before.)
    if (bo.size() > 1 + ((!eps || eps->present) ? 1u : 0u)) {
        std::string_view affinity = "none";
        if (auto err = bo["affinity"].get_string().get(affinity); err && err != simdjson::NO_SUCH_FIELD)
            return field_error(where.field("affinity"), "must be a string");
        if (affinity == "client_ip") b.affinity = Affinity::ClientIp;
        else if (affinity != "none")
            return field_error(where.field("affinity"), "must be \"none\" or \"client_ip\", got \"" + std::string(affinity) + "\"");
        if (auto r = read_optional(bo, "affinity_timeout_s", where, b.affinity_timeout_s); !r) return Error(r.error());
    }
    if (!eps) return Error(eps.error());
    if (!eps->present) return {};
    b.endpoints.reserve(eps->size());
    const Where list{&where, "endpoints"};
    std::size_t index = 0;
    for (simdjson::dom::element ee : eps->array) {
        const Where ewhere{&list, "", index++};
        simdjson::dom::object eo;
        if (ee.get_object().get(eo)) return field_error(ewhere, "must be an object");
        const auto em = find_members<2>(eo, {"address", "port"});
        auto address = member_string(em.found[0], em.value[0], "address", ewhere);
        if (!address) return Error(address.error());
        if (!valid_address(*address))
            return field_error(ewhere.field("address"), "not an IP address: \"" + std::string(*address) + "\"");
        std::uint64_t port = 0;
        if (!em.found[1] || em.value[1].get_uint64().get(port) || port == 0 || port > 65535)
            return field_error(ewhere.field("port"), "must be an integer in 1..65535");
        b.endpoints.push_back(Endpoint{std::string(*address), static_cast<std::uint16_t>(port)});
    }
    return {};
}

// Reads the schema-2 route fields; `r.backend` is already set ("" allowed here).
std::expected<void, std::string> decode_route_policy(simdjson::dom::object ro, const Where& rwhere, Route& r) {
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
        return field_error(rwhere.field("rewrite_target"), "must start with '/'");
    if (!r.app_root.empty() && r.app_root.front() != '/')
        return field_error(rwhere.field("app_root"), "must start with '/'");
    std::string protocol = "http";
    if (auto e = read_optional(ro, "backend_protocol", rwhere, protocol); !e) return e;
    if (protocol == "https") r.backend_protocol = BackendProtocol::Https;
    else if (protocol != "http")
        return field_error(rwhere.field("backend_protocol"), "must be \"http\" or \"https\", got \"" + protocol + "\"");
    if (auto e = read_optional(ro, "upstream_server_name", rwhere, r.upstream_server_name); !e) return e;
    if (auto e = read_optional(ro, "upstream_verify", rwhere, r.upstream_verify); !e) return e;
    if (auto e = read_optional(ro, "upstream_ca_pem", rwhere, r.upstream_ca_pem); !e) return e;
    auto sources = optional_strings(ro, "allowed_sources", rwhere);
    if (!sources) return Error(sources.error());
    for (std::size_t i = 0; i < sources->size(); ++i)
        if (!valid_cidr((*sources)[i]))
            return field_error(Where{&rwhere, "allowed_sources", i}, "not a CIDR: \"" + (*sources)[i] + "\"");
    r.allowed_sources = std::move(*sources);
    simdjson::dom::object redirect;
    if (auto err = ro["redirect"].get_object().get(redirect); err != simdjson::NO_SUCH_FIELD) {
        const Where rw{&rwhere, "redirect"};
        if (err) return field_error(rw, "must be an object");
        auto url = get_string(redirect, "url", rw);
        if (!url) return Error(url.error());
        if (url->empty()) return field_error(rw.field("url"), "must not be empty");
        r.redirect.url.assign(*url);
        std::uint64_t status = 0;
        if (redirect["status"].get_uint64().get(status) ||
            (status != 301 && status != 302 && status != 307 && status != 308))
            return field_error(rw.field("status"), "must be 301, 302, 307 or 308");
        r.redirect.status = static_cast<std::uint16_t>(status);
    }
    return {};
}

}  // namespace

namespace detail {
// For the proxy's table decoder (snapshot_detail.h): the codec's own checks.
bool read_route_policy(simdjson::dom::object route, Route& r) {
    return static_cast<bool>(decode_route_policy(route, Where{}, r));
}
bool is_address(std::string_view a) { return valid_address(a); }
}  // namespace detail

namespace {

std::string lower(std::string_view v) {
    std::string s(v);
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return s;
}

// A set of the elements 0, 1, 2, … of a container, by key, for the
// duplicate and reference checks: one flat array of 8-byte slots (hash,
// element index) probed linearly; the key is read from the element
// (`key_of(index)`). The 20,000 node allocations (and their frees) of
// unordered_sets for the backend names and hosts of a 10,000-rule snapshot
// were a visible part of decoding it.
template <typename Key, typename Hash, typename KeyOf>
class FlatSet {
public:
    FlatSet(std::size_t expected, KeyOf key_of) : key_of_(std::move(key_of)) { slots_.reserve(expected); }
    // Adds element `index` (its key must be readable now); false when an
    // element with an equal key is already present.
    bool insert(std::uint32_t index) {
        const Key key = key_of_(index);
        return slots_.insert(key, IndexSlots::fold(Hash{}(key)), index, key_of_).second;
    }
    bool contains(const Key& key) const {
        return slots_.find(key, IndexSlots::fold(Hash{}(key)), key_of_) != IndexSlots::npos;
    }

private:
    KeyOf key_of_;
    IndexSlots slots_;
};

struct ViewHash {
    std::size_t operator()(std::string_view v) const { return std::hash<std::string_view>{}(v); }
};
// Backend names of a snapshot or patch being decoded, by index.
auto backend_names(const std::vector<Backend>& backends, std::size_t expected) {
    auto key_of = [&backends](std::uint32_t i) { return std::string_view(backends[i].name); };
    return FlatSet<std::string_view, ViewHash, decltype(key_of)>(expected, key_of);
}

// A (class, host) pair, for the per-class uniqueness of hosts.
struct ClassHost {
    std::string_view ingress_class, host;
    bool operator==(const ClassHost&) const = default;
};
struct ClassHostHash {
    std::size_t operator()(const ClassHost& k) const {
        std::hash<std::string_view> h;
        return h(k.host) * 31 + h(k.ingress_class);
    }
};

}  // namespace

std::string encode(const Snapshot& snapshot) {
    std::string out;
    // Rough size: growing a 1.6 MiB string by doubling copied it ~20 times.
    std::size_t endpoints = 0;
    for (const Backend& b : snapshot.backends) endpoints += b.endpoints.size();
    out.reserve(256 + 128 * snapshot.virtual_hosts.size() + 64 * snapshot.backends.size() + 48 * endpoints);
    out += "{\"version\":" + std::to_string(snapshot.version) + ",\"virtual_hosts\":[";
    for (std::size_t i = 0; i < snapshot.virtual_hosts.size(); ++i) {
        const VirtualHost& vh = snapshot.virtual_hosts[i];
        if (i) out.push_back(',');
        out += "{\"host\":";
        append_json_string(out, vh.host);
        if (!vh.ingress_class.empty()) {
            out += ",\"ingress_class\":";
            append_json_string(out, vh.ingress_class);
        }
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
    if (!snapshot.class_default_backends.empty()) {
        out += ",\"class_default_backends\":[";
        for (std::size_t i = 0; i < snapshot.class_default_backends.size(); ++i) {
            if (i) out.push_back(',');
            out += "{\"ingress_class\":";
            append_json_string(out, snapshot.class_default_backends[i].ingress_class);
            out += ",\"backend\":";
            append_json_string(out, snapshot.class_default_backends[i].backend);
            out.push_back('}');
        }
        out.push_back(']');
    }
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
        if (!f.ingress_class.empty()) {
            out += ",\"ingress_class\":";
            append_json_string(out, f.ingress_class);
        }
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
    // One parser and one padded copy buffer per thread, kept between
    // snapshots: allocating them afresh for each (megabytes, so mmap) made
    // every decode of a large snapshot fault its pages in again. The proxy
    // decodes on its control thread only; the buffers keep the size of the
    // largest snapshot seen.
    thread_local simdjson::dom::parser parser;
    thread_local std::string padded;
    padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded.data(), json.data(), json.size());
    simdjson::dom::element root;
    if (auto err = parser.parse(padded.data(), json.size(), false).get(root))
        return Error(std::string("invalid JSON: ") + simdjson::error_message(err));
    simdjson::dom::object top;
    if (root.get_object().get(top)) return Error("snapshot: must be an object");
    const Where doc;

    Snapshot snap;
    std::uint64_t version = 0;
    if (auto err = top["version"].get_uint64().get(version))
        return field_error("version", err == simdjson::NO_SUCH_FIELD ? "missing" : "must be a non-negative integer");
    snap.version = version;

    // Backends first, so routes can be checked against them. Elements are
    // filled in place in reserved vectors, so the name sets can hold views.
    auto backends = optional_array(top, "backends", doc);
    if (!backends) return Error(backends.error());
    snap.backends.reserve(backends->size());
    auto names = backend_names(snap.backends, backends->size());
    const Where backends_where{&doc, "backends"};
    if (backends->present) {
        std::size_t bi = 0;
        for (simdjson::dom::element be : backends->array) {
            const Where where{&backends_where, "", bi++};
            Backend& b = snap.backends.emplace_back();
            if (auto r = decode_backend(be, where, b); !r) return Error(r.error());
            if (!names.insert(static_cast<std::uint32_t>(snap.backends.size() - 1)))
                return field_error(where.field("name"), "duplicate backend \"" + b.name + "\"");
        }
    }
    auto known = [&](std::string_view name) { return names.contains(name); };

    auto hosts = optional_array(top, "virtual_hosts", doc);
    if (!hosts) return Error(hosts.error());
    auto host_of = [&snap](std::uint32_t i) {
        return ClassHost{snap.virtual_hosts[i].ingress_class, snap.virtual_hosts[i].host};
    };
    FlatSet<ClassHost, ClassHostHash, decltype(host_of)> seen_hosts(hosts->size(), host_of);
    snap.virtual_hosts.reserve(hosts->size());
    const Where hosts_where{&doc, "virtual_hosts"};
    std::size_t hi = 0;
    if (hosts->present) for (simdjson::dom::element he : hosts->array) {
        const Where where{&hosts_where, "", hi++};
        simdjson::dom::object ho;
        if (he.get_object().get(ho)) return field_error(where, "must be an object");
        VirtualHost& vh = snap.virtual_hosts.emplace_back();
        const auto hm = find_members<2>(ho, {"host", "routes"});
        auto host = member_string(hm.found[0], hm.value[0], "host", where);
        if (!host) return Error(host.error());
        vh.host = lower(*host);
        auto routes = member_array(hm.found[1], hm.value[1], "routes", where);
        // As for backends: the optional members only when there are members
        // besides host and routes (errors still in the order of the schema).
        const bool more = ho.size() > 1 + ((!routes || routes->present) ? 1u : 0u);
        if (more)
            if (auto e = read_optional(ho, "ingress_class", where, vh.ingress_class); !e) return Error(e.error());
        if (!seen_hosts.insert(static_cast<std::uint32_t>(snap.virtual_hosts.size() - 1)))
            return field_error(where.field("host"), "duplicate host \"" + vh.host + "\"" +
                                                        (vh.ingress_class.empty() ? std::string()
                                                                                  : " in class \"" + vh.ingress_class + "\""));
        if (more)
            if (auto e = read_optional(ho, "passthrough_backend", where, vh.passthrough_backend); !e) return Error(e.error());
        if (!vh.passthrough_backend.empty() && !known(vh.passthrough_backend))
            return field_error(where.field("passthrough_backend"), "unknown backend \"" + vh.passthrough_backend + "\"");
        if (!routes) return Error(routes.error());
        if (!routes->present) continue;
        vh.routes.reserve(routes->size());
        const Where routes_where{&where, "routes"};
        std::size_t ri = 0;
        for (simdjson::dom::element re : routes->array) {
            const Where rwhere{&routes_where, "", ri++};
            simdjson::dom::object ro;
            if (re.get_object().get(ro)) return field_error(rwhere, "must be an object");
            Route& r = vh.routes.emplace_back();
            const auto rm = find_members<3>(ro, {"path", "match", "backend"});
            auto path = member_string(rm.found[0], rm.value[0], "path", rwhere);
            if (!path) return Error(path.error());
            if (path->empty() || path->front() != '/') return field_error(rwhere.field("path"), "must start with '/'");
            r.path.assign(*path);
            auto match = member_string(rm.found[1], rm.value[1], "match", rwhere);
            if (!match) return Error(match.error());
            if (*match == "prefix") r.match = PathMatch::Prefix;
            else if (*match == "exact") r.match = PathMatch::Exact;
            else return field_error(rwhere.field("match"), "must be \"prefix\" or \"exact\", got \"" + std::string(*match) + "\"");
            auto backend = member_string(rm.found[2], rm.value[2], "backend", rwhere);
            if (!backend) return Error(backend.error());
            r.backend.assign(*backend);
            // Most routes carry only path, match and backend: skip the
            // sixteen lookups of the optional policy fields for them.
            if (ro.size() > 3)
                if (auto e = decode_route_policy(ro, rwhere, r); !e) return Error(e.error());
            if (r.backend.empty() ? r.redirect.status == 0 : !known(r.backend))
                return field_error(rwhere.field("backend"), r.backend.empty()
                                                                ? std::string("must not be empty unless the route redirects")
                                                                : "unknown backend \"" + r.backend + "\"");
        }
    }

    std::string_view def;
    if (auto err = top["default_backend"].get_string().get(def); err && err != simdjson::NO_SUCH_FIELD)
        return field_error("default_backend", "must be a string");
    if (!def.empty() && !known(def))
        return field_error("default_backend", "unknown backend \"" + std::string(def) + "\"");
    snap.default_backend = std::string(def);

    auto class_defaults = optional_array(top, "class_default_backends", doc);
    if (!class_defaults) return Error(class_defaults.error());
    std::unordered_set<std::string_view> seen_classes;
    snap.class_default_backends.reserve(class_defaults->size());
    const Where class_defaults_where{&doc, "class_default_backends"};
    std::size_t cdi = 0;
    if (class_defaults->present) for (simdjson::dom::element ce : class_defaults->array) {
        const Where where{&class_defaults_where, "", cdi++};
        simdjson::dom::object co;
        if (ce.get_object().get(co)) return field_error(where, "must be an object");
        ClassDefaultBackend& c = snap.class_default_backends.emplace_back();
        auto cls = get_string(co, "ingress_class", where);
        if (!cls) return Error(cls.error());
        if (cls->empty()) return field_error(where.field("ingress_class"), "must not be empty");
        c.ingress_class.assign(*cls);
        if (!seen_classes.insert(c.ingress_class).second)
            return field_error(where.field("ingress_class"), "duplicate class \"" + c.ingress_class + "\"");
        auto backend = get_string(co, "backend", where);
        if (!backend) return Error(backend.error());
        c.backend.assign(*backend);
        if (!known(c.backend)) return field_error(where.field("backend"), "unknown backend \"" + c.backend + "\"");
    }

    auto frontends = optional_array(top, "frontends", doc);
    if (!frontends) return Error(frontends.error());
    std::unordered_set<std::string> seen_frontends;
    const Where frontends_where{&doc, "frontends"};
    std::size_t fi = 0;
    if (frontends->present) for (simdjson::dom::element fe : frontends->array) {
        const Where where{&frontends_where, "", fi++};
        simdjson::dom::object fo;
        if (fe.get_object().get(fo)) return field_error(where, "must be an object");
        Frontend f;
        std::string_view addr;
        if (auto err = fo["address"].get_string().get(addr); err && err != simdjson::NO_SUCH_FIELD)
            return field_error(where.field("address"), "must be a string");
        f.address = std::string(addr);
        if (!f.address.empty() && !valid_address(f.address))
            return field_error(where.field("address"), "not an IP address: \"" + f.address + "\"");
        std::uint64_t port = 0;
        if (fo["port"].get_uint64().get(port) || port == 0 || port > 65535)
            return field_error(where.field("port"), "must be an integer in 1..65535");
        f.port = static_cast<std::uint16_t>(port);
        auto protocol = get_string(fo, "protocol", where);
        if (!protocol) return Error(protocol.error());
        if (*protocol == "http") f.protocol = FrontendProtocol::Http;
        else if (*protocol == "https") f.protocol = FrontendProtocol::Https;
        else if (*protocol == "tcp") f.protocol = FrontendProtocol::Tcp;
        else return field_error(where.field("protocol"), "must be \"http\", \"https\" or \"tcp\", got \"" + std::string(*protocol) + "\"");
        std::string_view backend;
        if (auto err = fo["backend"].get_string().get(backend); err && err != simdjson::NO_SUCH_FIELD)
            return field_error(where.field("backend"), "must be a string");
        f.backend = std::string(backend);
        if (f.protocol == FrontendProtocol::Tcp) {
            if (f.backend.empty()) return field_error(where.field("backend"), "required for protocol \"tcp\"");
            if (!known(f.backend)) return field_error(where.field("backend"), "unknown backend \"" + f.backend + "\"");
        } else if (!f.backend.empty()) {
            return field_error(where.field("backend"), "must be empty for protocol \"" + std::string(*protocol) +
                                                           "\" (Ingress rules route it)");
        }
        if (auto e = read_optional(fo, "ingress_class", where, f.ingress_class); !e) return Error(e.error());
        if (f.protocol == FrontendProtocol::Tcp && !f.ingress_class.empty())
            return field_error(where.field("ingress_class"), "must be empty for protocol \"tcp\"");
        if (!seen_frontends.insert(f.address + "|" + std::to_string(f.port)).second)
            return field_error(where, "duplicate frontend " + (f.address.empty() ? std::string("*") : f.address) + ":" +
                                          std::to_string(f.port));
        snap.frontends.push_back(std::move(f));
    }

    auto certs = optional_array(top, "certificates", doc);
    if (!certs) return Error(certs.error());
    std::unordered_set<std::string> cert_names;
    const Where certs_where{&doc, "certificates"};
    std::size_t ci = 0;
    if (certs->present) for (simdjson::dom::element ce : certs->array) {
        const Where where{&certs_where, "", ci++};
        simdjson::dom::object co;
        if (ce.get_object().get(co)) return field_error(where, "must be an object");
        Certificate c;
        auto name = get_string(co, "name", where);
        if (!name) return Error(name.error());
        if (name->empty()) return field_error(where.field("name"), "must not be empty");
        if (!cert_names.emplace(*name).second)
            return field_error(where.field("name"), "duplicate certificate \"" + std::string(*name) + "\"");
        c.name.assign(*name);
        auto cert_hosts = optional_strings(co, "hosts", where);
        if (!cert_hosts) return Error(cert_hosts.error());
        for (std::string& h : *cert_hosts) c.hosts.push_back(lower(h));
        auto cert = get_string(co, "cert_pem", where);
        if (!cert) return Error(cert.error());
        auto key = get_string(co, "key_pem", where);
        if (!key) return Error(key.error());
        if (cert->empty()) return field_error(where.field("cert_pem"), "must not be empty");
        if (key->empty()) return field_error(where.field("key_pem"), "must not be empty");
        c.cert_pem.assign(*cert);
        c.key_pem.assign(*key);
        if (auto e = read_optional(co, "ocsp_staple", where, c.ocsp_staple); !e) return Error(e.error());
        snap.certificates.push_back(std::move(c));
    }
    if (auto e = read_optional(top, "default_certificate", doc, snap.default_certificate); !e)
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
    const Where doc;
    auto backends = optional_array(top, "backends", doc);
    if (!backends) return Error(backends.error());
    patch.backends.reserve(backends->size());
    auto names = backend_names(patch.backends, backends->size());
    const Where backends_where{&doc, "backends"};
    std::size_t i = 0;
    if (backends->present) for (simdjson::dom::element be : backends->array) {
        const Where where{&backends_where, "", i++};
        Backend& b = patch.backends.emplace_back();
        if (auto r = decode_backend(be, where, b); !r) return Error(r.error());
        if (!names.insert(static_cast<std::uint32_t>(patch.backends.size() - 1))) return field_error(where.field("name"), "duplicate backend \"" + b.name + "\"");
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

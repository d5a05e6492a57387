// JSON codec for the routing snapshot (xgress/snapshot.h). Decoding uses
// simdjson's DOM API with error codes (no exceptions) and validates the whole
// document before returning it, naming the offending field on failure.
// Linked by the agent too, so it depends on nothing but simdjson and the header.
#include "xgress/snapshot.h"

#include <arpa/inet.h>

#include <cstdio>
#include <vector>
#include <string>
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
        out += f.protocol == FrontendProtocol::Tcp ? ",\"protocol\":\"tcp\"" : ",\"protocol\":\"http\"";
        out += ",\"backend\":";
        append_json_string(out, f.backend);
        out.push_back('}');
    }
    out += "],\"backends\":[";
    for (std::size_t i = 0; i < snapshot.backends.size(); ++i) {
        const Backend& b = snapshot.backends[i];
        if (i) out.push_back(',');
        out += "{\"name\":";
        append_json_string(out, b.name);
        out += ",\"endpoints\":[";
        for (std::size_t j = 0; j < b.endpoints.size(); ++j) {
            if (j) out.push_back(',');
            out += "{\"address\":";
            append_json_string(out, b.endpoints[j].address);
            out += ",\"port\":" + std::to_string(b.endpoints[j].port) + "}";
        }
        out += "]}";
    }
    out += "]}";
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
    std::size_t bi = 0;
    for (simdjson::dom::element be : *backends_opt) {
        std::string where = "backends[" + std::to_string(bi++) + "]";
        simdjson::dom::object bo;
        if (be.get_object().get(bo)) return field_error(where, "must be an object");
        Backend b;
        auto name = get_string(bo, "name", where);
        if (!name) return Error(name.error());
        if (name->empty()) return field_error(where + ".name", "must not be empty");
        if (!names.insert(*name).second) return field_error(where + ".name", "duplicate backend \"" + *name + "\"");
        b.name = std::move(*name);
        auto eps_opt = optional_array(bo, "endpoints", where + ".endpoints");
        if (!eps_opt) return Error(eps_opt.error());
        std::size_t ei = 0;
        for (simdjson::dom::element ee : *eps_opt) {
            std::string ewhere = where + ".endpoints[" + std::to_string(ei++) + "]";
            simdjson::dom::object eo;
            if (ee.get_object().get(eo)) return field_error(ewhere, "must be an object");
            Endpoint ep;
            auto addr = get_string(eo, "address", ewhere);
            if (!addr) return Error(addr.error());
            if (!valid_address(*addr)) return field_error(ewhere + ".address", "not an IP address: \"" + *addr + "\"");
            ep.address = std::move(*addr);
            std::uint64_t port = 0;
            if (eo["port"].get_uint64().get(port) || port == 0 || port > 65535)
                return field_error(ewhere + ".port", "must be an integer in 1..65535");
            ep.port = static_cast<std::uint16_t>(port);
            b.endpoints.push_back(std::move(ep));
        }
        snap.backends.push_back(std::move(b));
    }

    auto hosts_opt = optional_array(top, "virtual_hosts", "virtual_hosts");
    if (!hosts_opt) return Error(hosts_opt.error());
    std::unordered_set<std::string> seen_hosts;
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
            if (!names.contains(*backend)) return field_error(rwhere + ".backend", "unknown backend \"" + *backend + "\"");
            r.backend = std::move(*backend);
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
        else if (*protocol == "tcp") f.protocol = FrontendProtocol::Tcp;
        else return field_error(where + ".protocol", "must be \"http\" or \"tcp\", got \"" + *protocol + "\"");
        std::string_view backend;
        if (auto err = fo["backend"].get_string().get(backend); err && err != simdjson::NO_SUCH_FIELD)
            return field_error(where + ".backend", "must be a string");
        f.backend = std::string(backend);
        if (f.protocol == FrontendProtocol::Tcp) {
            if (f.backend.empty()) return field_error(where + ".backend", "required for protocol \"tcp\"");
            if (!names.contains(f.backend)) return field_error(where + ".backend", "unknown backend \"" + f.backend + "\"");
        } else if (!f.backend.empty()) {
            return field_error(where + ".backend", "must be empty for protocol \"http\" (Ingress rules route it)");
        }
        if (!seen_frontends.insert(f.address + "|" + std::to_string(f.port)).second)
            return field_error(where, "duplicate frontend " + (f.address.empty() ? std::string("*") : f.address) + ":" +
                                          std::to_string(f.port));
        snap.frontends.push_back(std::move(f));
    }
    return snap;
}

}  // namespace xgress::snapshot

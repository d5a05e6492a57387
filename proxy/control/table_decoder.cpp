#include "control/table_decoder.h"

#include <array>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "control/snapshot_detail.h"

namespace xgress::control {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

using snapshot::detail::find_members;

bool string_of(element e, std::string_view& out) { return !e.get_string().get(out); }
bool array_of(element e, array& out) { return !e.get_array().get(out); }
bool object_of(element e, object& out) { return !e.get_object().get(out); }
bool port_of(element e, std::uint16_t& out) {
    std::uint64_t v = 0;
    if (e.get_uint64().get(v) || v == 0 || v > 65535) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

bool has_upper(std::string_view s) {
    for (char c : s)
        if (c >= 'A' && c <= 'Z') return true;
    return false;
}
void lower_into(std::string_view s, std::string& out) {
    out.assign(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
}

// Everything the fast path decodes; false anywhere decode() + build() would
// fail (the general path then words the error) or the fast path does not go.
class Reader {
public:
    explicit Reader(DecodedSnapshot& out) : out_(out) {}

    bool read(object top, const router::RouteTable* previous) {
        const auto m = find_members<8>(top, {"version", "backends", "virtual_hosts", "default_backend",
                                        "class_default_backends", "frontends", "certificates",
                                        "default_certificate"});
        if (!m.has(0) || m.value[0].get_uint64().get(out_.rest.version)) return false;
        builder_.set_version(out_.rest.version);
        array backends, hosts;
        const bool has_backends = m.has(1), has_hosts = m.has(2);
        if (has_backends && !array_of(m.value[1], backends)) return false;
        if (has_hosts && !array_of(m.value[2], hosts)) return false;
        const std::size_t nb = has_backends ? backends.size() : 0, nh = has_hosts ? hosts.size() : 0;
        // Routes: one per host is the common shape; more only cost a regrowth.
        builder_.reserve(nh, nh + 1, nb);
        if (has_backends)
            for (element be : backends)
                if (!backend(be)) return false;
        if (has_hosts) {
            for (element he : hosts)
                if (!host(he)) return false;
        }
        if (m.has(3)) {
            std::string_view def;
            if (!string_of(m.value[3], def)) return false;
            if (!def.empty()) {
                const std::uint32_t b = builder_.find_backend(def);
                if (b == router::kNoBackend) return false;
                builder_.add_default("", b);
            }
        }
        if (m.has(4) && !class_defaults(m.value[4])) return false;
        if (m.has(5) && !frontends(m.value[5])) return false;
        if (m.has(6) && !certificates(m.value[6])) return false;
        if (m.has(7)) {
            std::string_view def;
            if (!string_of(m.value[7], def)) return false;
            if (!def.empty() && cert_names_.find(def) == router::NameIndex::npos) return false;
            out_.rest.default_certificate.assign(def);
        }
        out_.table = builder_.finish(previous);
        return true;
    }

private:
    bool backend(element be) {
        object bo;
        if (!object_of(be, bo)) return false;
        const auto m = find_members<4>(bo, {"name", "endpoints", "affinity", "affinity_timeout_s"});
        std::string_view name;
        if (!m.has(0) || !string_of(m.value[0], name) || name.empty()) return false;
        snapshot::Affinity affinity = snapshot::Affinity::None;
        if (m.has(2)) {
            std::string_view a;
            if (!string_of(m.value[2], a)) return false;
            if (a == "client_ip") affinity = snapshot::Affinity::ClientIp;
            else if (a != "none") return false;
        }
        if (m.has(3)) {
            std::uint64_t t = 0;
            if (m.value[3].get_uint64().get(t) || t > std::numeric_limits<std::uint32_t>::max()) return false;
        }
        array eps;
        if (m.has(1) && !array_of(m.value[1], eps)) return false;
        router::BackendTarget* b = builder_.add_backend(name, affinity, m.has(1) ? eps.size() : 0);
        if (!b) return false;  // duplicate name
        if (!m.has(1)) return true;
        for (element ee : eps) {
            object eo;
            if (!object_of(ee, eo)) return false;
            const auto em = find_members<2>(eo, {"address", "port"});
            std::string_view address;
            std::uint16_t port = 0;
            if (!em.has(0) || !string_of(em.value[0], address)) return false;
            if (!em.has(1) || !port_of(em.value[1], port)) return false;
            // The table's parser is the codec's check (dotted quad, else
            // inet_pton v4/v6; one byte shorter at most): what it takes,
            // decode() takes.
            if (!builder_.add_endpoint(*b, address, port)) return false;
        }
        return true;
    }

    bool host(element he) {
        object ho;
        if (!object_of(he, ho)) return false;
        const auto m = find_members<4>(ho, {"host", "routes", "ingress_class", "passthrough_backend"});
        std::string_view host, cls, passthrough;
        if (!m.has(0) || !string_of(m.value[0], host)) return false;
        if (has_upper(host)) {
            lower_into(host, lowered_);
            host = lowered_;
        }
        if (m.has(2) && !string_of(m.value[2], cls)) return false;
        if (m.has(3) && !string_of(m.value[3], passthrough)) return false;
        if (!passthrough.empty()) {
            if (builder_.find_backend(passthrough) == router::kNoBackend) return false;
            snapshot::VirtualHost& vh = out_.rest.virtual_hosts.emplace_back();
            vh.host.assign(host);
            vh.ingress_class.assign(cls);
            vh.passthrough_backend.assign(passthrough);
        }
        array routes;
        if (m.has(1) && !array_of(m.value[1], routes)) return false;
        // (class, host) unique. A plain host is its own key in its class's
        // host set, so the builder answers (one hash per host, not two).
        // Others ("", wildcards, with a port) are looked up here, keyed by
        // class + NUL + host. Two different pairs can only share a key when
        // a class name holds a NUL or a port-stripped host meets the plain
        // one, and then the general path decides.
        const auto state = builder_.begin_host(cls, host);
        if (state == router::RouteTable::Builder::kKnownHost) return false;
        if (state == router::RouteTable::Builder::kUnknown) {
            key_.assign(cls).push_back('\0');
            key_.append(host);
            if (!seen_hosts_.insert(key_).second) return false;
        }
        if (!m.has(1)) return true;
        for (element re : routes)
            if (!route(re)) return false;
        return true;
    }

    bool route(element re) {
        object ro;
        if (!object_of(re, ro)) return false;
        const auto m = find_members<3>(ro, {"path", "match", "backend"});
        std::string_view path, match, backend;
        if (!m.has(0) || !string_of(m.value[0], path) || path.empty() || path.front() != '/') return false;
        if (!m.has(1) || !string_of(m.value[1], match)) return false;
        bool exact = false;
        if (match == "exact") exact = true;
        else if (match != "prefix") return false;
        if (!m.has(2) || !string_of(m.value[2], backend)) return false;
        const snapshot::Route* policy = nullptr;
        bool regex = false;
        // As decode(): members besides path, match and backend mean policy
        // fields, read by the codec's own code into a scratch route.
        if (ro.size() > 3) {
            policy_ = snapshot::Route{};
            policy_.path.assign(path);
            policy_.match = exact ? snapshot::PathMatch::Exact : snapshot::PathMatch::Prefix;
            policy_.backend.assign(backend);
            if (!snapshot::detail::read_route_policy(ro, policy_)) return false;
            policy = &policy_;
            regex = policy_.regex;
        }
        std::uint32_t b = router::kNoBackend;
        if (backend.empty()) {
            if (!policy || policy->redirect.status == 0) return false;
        } else if ((b = builder_.find_backend(backend)) == router::kNoBackend) {
            return false;
        }
        return builder_.add_route(path, exact, regex, b, policy).has_value();
    }

    bool class_defaults(element e) {
        array items;
        if (!array_of(e, items)) return false;
        std::vector<std::string_view> seen;
        for (element ce : items) {
            object co;
            if (!object_of(ce, co)) return false;
            const auto m = find_members<2>(co, {"ingress_class", "backend"});
            std::string_view cls, backend;
            if (!m.has(0) || !string_of(m.value[0], cls) || cls.empty()) return false;
            for (std::string_view s : seen)
                if (s == cls) return false;
            seen.push_back(cls);
            if (!m.has(1) || !string_of(m.value[1], backend)) return false;
            const std::uint32_t b = builder_.find_backend(backend);
            if (b == router::kNoBackend) return false;
            builder_.add_default(cls, b);
        }
        return true;
    }

    bool frontends(element e) {
        array items;
        if (!array_of(e, items)) return false;
        std::vector<std::pair<std::string_view, std::uint16_t>> seen;
        for (element fe : items) {
            object fo;
            if (!object_of(fe, fo)) return false;
            const auto m = find_members<5>(fo, {"address", "port", "protocol", "backend", "ingress_class"});
            std::string_view address, protocol, backend, cls;
            std::uint16_t port = 0;
            if (m.has(0) && !string_of(m.value[0], address)) return false;
            if (!address.empty() && !snapshot::detail::is_address(address)) return false;
            if (!m.has(1) || !port_of(m.value[1], port)) return false;
            if (!m.has(2) || !string_of(m.value[2], protocol)) return false;
            snapshot::FrontendProtocol p;
            if (protocol == "http") p = snapshot::FrontendProtocol::Http;
            else if (protocol == "https") p = snapshot::FrontendProtocol::Https;
            else if (protocol == "tcp") p = snapshot::FrontendProtocol::Tcp;
            else return false;
            if (m.has(3) && !string_of(m.value[3], backend)) return false;
            std::uint32_t b = router::kNoBackend;
            if (p == snapshot::FrontendProtocol::Tcp) {
                if (backend.empty() || (b = builder_.find_backend(backend)) == router::kNoBackend) return false;
            } else if (!backend.empty()) {
                return false;
            }
            if (m.has(4) && !string_of(m.value[4], cls)) return false;
            if (p == snapshot::FrontendProtocol::Tcp && !cls.empty()) return false;
            for (const auto& [a, pt] : seen)
                if (a == address && pt == port) return false;
            seen.emplace_back(address, port);
            builder_.add_frontend(address, port, p, b, cls);
        }
        return true;
    }

    bool certificates(element e) {
        array items;
        if (!array_of(e, items)) return false;
        for (element ce : items) {
            object co;
            if (!object_of(ce, co)) return false;
            const auto m = find_members<5>(co, {"name", "hosts", "cert_pem", "key_pem", "ocsp_staple"});
            std::string_view name, cert, key, staple;
            if (!m.has(0) || !string_of(m.value[0], name) || name.empty()) return false;
            if (!cert_names_.insert(name).second) return false;
            snapshot::Certificate& c = out_.rest.certificates.emplace_back();
            c.name.assign(name);
            if (m.has(1)) {
                array hosts;
                if (!array_of(m.value[1], hosts)) return false;
                for (element h : hosts) {
                    std::string_view v;
                    if (!string_of(h, v)) return false;
                    lower_into(v, c.hosts.emplace_back());
                }
            }
            if (!m.has(2) || !string_of(m.value[2], cert)) return false;
            if (!m.has(3) || !string_of(m.value[3], key)) return false;
            if (cert.empty() || key.empty()) return false;
            c.cert_pem.assign(cert);
            c.key_pem.assign(key);
            if (m.has(4)) {
                if (!string_of(m.value[4], staple)) return false;
                c.ocsp_staple.assign(staple);
            }
        }
        return true;
    }

    DecodedSnapshot& out_;
    router::RouteTable::Builder builder_;
    router::NameIndex seen_hosts_;  // class + NUL + host
    router::NameIndex cert_names_;
    std::string key_, lowered_;
    snapshot::Route policy_;
};

}  // namespace

std::optional<DecodedSnapshot> decode_table_fast(std::string_view json, const router::RouteTable* previous) {
    // Kept between snapshots, as the codec keeps its own: a fresh parser
    // for each megabyte-sized document would fault its pages in again.
    thread_local simdjson::dom::parser parser;
    thread_local std::string padded;
    padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded.data(), json.data(), json.size());
    element root;
    if (parser.parse(padded.data(), json.size(), false).get(root)) return std::nullopt;
    object top;
    if (!object_of(root, top)) return std::nullopt;
    DecodedSnapshot out;
    if (!Reader(out).read(top, previous)) return std::nullopt;
    return out;
}

std::expected<DecodedSnapshot, std::string> decode_table(std::string_view json, const router::RouteTable* previous) {
    if (auto fast = decode_table_fast(json, previous)) return std::move(*fast);
    auto snap = snapshot::decode(json);
    if (!snap) return std::unexpected(snap.error());
    auto table = router::RouteTable::build(*snap, previous);
    if (!table) return std::unexpected(table.error());
    return DecodedSnapshot{std::move(*table), std::move(*snap)};
}

}  // namespace xgress::control

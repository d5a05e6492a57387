#include "k8s/object_decoder.h"

#include <charconv>

#include "k8s/tls_pem.h"
#include "k8s/units.h"
#include <optional>
#include <utility>

namespace xgress::agent::k8s {
namespace {

// Collects the first problem found while reading one object; later reads
// keep going harmlessly so the decoding code stays linear.
struct Reader {
    std::optional<std::pair<std::string, std::string>> failure;  // field, message

    void fail(const std::string& field, std::string message) {
        if (!failure) failure.emplace(field, std::move(message));
    }
};

std::string join(const std::string& path, const char* key) {
    return path.empty() ? std::string(key) : path + "." + key;
}

std::string index_path(const std::string& path, std::size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

// node[key] without yaml-cpp's exceptions: it throws on non-map nodes, and
// a missing key gives an "invalid" node that throws on any later use.
YAML::Node child(const YAML::Node& node, const char* key) {
    if (!node.IsDefined() || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node value = node[key];
    return value.IsDefined() ? value : YAML::Node(YAML::NodeType::Undefined);
}

bool present(const YAML::Node& node) {
    return node.IsDefined() && !node.IsNull();
}

std::optional<std::string> read_string(Reader& r, const YAML::Node& parent, const std::string& path,
                                       const char* key, bool required) {
    YAML::Node node = child(parent, key);
    const std::string field = join(path, key);
    if (!present(node)) {
        if (required) r.fail(field, "required field missing");
        return std::nullopt;
    }
    if (!node.IsScalar()) {
        r.fail(field, "expected a string");
        return std::nullopt;
    }
    return node.Scalar();
}

std::string read_string_or(Reader& r, const YAML::Node& parent, const std::string& path,
                           const char* key, std::string fallback) {
    auto value = read_string(r, parent, path, key, false);
    return value ? *value : std::move(fallback);
}

std::optional<long long> parse_integer(const YAML::Node& node) {
    if (!node.IsScalar()) return std::nullopt;
    const std::string& text = node.Scalar();
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// A TCP/UDP port: 1..65535. Returns 0 when absent (and not required) or invalid.
std::uint16_t read_port(Reader& r, const YAML::Node& parent, const std::string& path,
                        const char* key, bool required) {
    YAML::Node node = child(parent, key);
    const std::string field = join(path, key);
    if (!present(node)) {
        if (required) r.fail(field, "required field missing");
        return 0;
    }
    auto value = parse_integer(node);
    if (!value || *value < 1 || *value > 65535) {
        r.fail(field, "expected a port number 1-65535, got \"" +
                          (node.IsScalar() ? node.Scalar() : std::string("<non-scalar>")) + "\"");
        return 0;
    }
    return static_cast<std::uint16_t>(*value);
}

std::optional<bool> read_bool(Reader& r, const YAML::Node& parent, const std::string& path,
                              const char* key) {
    YAML::Node node = child(parent, key);
    if (!present(node)) return std::nullopt;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
        r.fail(join(path, key), "expected true or false");
        return std::nullopt;
    }
    return value;
}

// Calls fn(item, item_path) for each element of an optional sequence field.
template <class Fn>
void for_each_item(Reader& r, const YAML::Node& parent, const std::string& path, const char* key,
                   bool required, Fn&& fn) {
    YAML::Node node = child(parent, key);
    const std::string field = join(path, key);
    if (!present(node)) {
        if (required) r.fail(field, "required field missing");
        return;
    }
    if (!node.IsSequence()) {
        r.fail(field, "expected a list");
        return;
    }
    for (std::size_t i = 0; i < node.size(); ++i) fn(node[i], index_path(field, i));
}

std::vector<std::string> read_string_list(Reader& r, const YAML::Node& parent,
                                          const std::string& path, const char* key,
                                          bool required) {
    std::vector<std::string> values;
    for_each_item(r, parent, path, key, required, [&](const YAML::Node& item, const std::string& p) {
        if (!item.IsScalar()) {
            r.fail(p, "expected a string");
            return;
        }
        values.push_back(item.Scalar());
    });
    return values;
}

std::map<std::string, std::string> read_string_map(Reader& r, const YAML::Node& parent,
                                                   const std::string& path, const char* key) {
    std::map<std::string, std::string> values;
    YAML::Node node = child(parent, key);
    if (!present(node)) return values;
    if (!node.IsMap()) {
        r.fail(join(path, key), "expected a map of strings");
        return values;
    }
    for (const auto& entry : node) {
        if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
            r.fail(join(path, key), "expected a map of strings");
            return values;
        }
        values[entry.first.Scalar()] = entry.second.Scalar();
    }
    return values;
}

ObjectMeta read_metadata(Reader& r, const YAML::Node& document, bool namespaced) {
    const YAML::Node meta = child(document, "metadata");
    ObjectMeta m;
    if (!present(meta)) {
        r.fail("metadata", "required field missing");
        return m;
    }
    m.name = read_string(r, meta, "metadata", "name", true).value_or("");
    if (namespaced) m.namespace_ = read_string_or(r, meta, "metadata", "namespace", "default");
    m.labels = read_string_map(r, meta, "metadata", "labels");
    m.annotations = read_string_map(r, meta, "metadata", "annotations");
    m.creation_timestamp = read_string_or(r, meta, "metadata", "creationTimestamp", "");
    return m;
}

Service read_service(Reader& r, const YAML::Node& doc) {
    Service s;
    s.metadata = read_metadata(r, doc, true);
    const YAML::Node spec = child(doc, "spec");
    s.type = read_string_or(r, spec, "spec", "type", "ClusterIP");
    for_each_item(r, spec, "spec", "ports", false, [&](const YAML::Node& item, const std::string& p) {
        ServicePort port;
        port.name = read_string_or(r, item, p, "name", "");
        port.protocol = read_string_or(r, item, p, "protocol", "TCP");
        port.port = read_port(r, item, p, "port", true);
        port.node_port = read_port(r, item, p, "nodePort", false);
        const YAML::Node target = child(item, "targetPort");
        if (present(target)) {
            if (auto number = parse_integer(target)) {
                port.target_port = PortReference{read_port(r, item, p, "targetPort", true), {}};
            } else if (target.IsScalar() && !target.Scalar().empty()) {
                port.target_port = PortReference{0, target.Scalar()};
            } else {
                r.fail(join(p, "targetPort"), "expected a port number or a port name");
            }
        }
        s.ports.push_back(std::move(port));
    });
    s.external_ips = read_string_list(r, spec, "spec", "externalIPs", false);
    s.external_traffic_policy = read_string_or(r, spec, "spec", "externalTrafficPolicy", "Cluster");
    if (s.external_traffic_policy != "Cluster" && s.external_traffic_policy != "Local") {
        r.fail("spec.externalTrafficPolicy", "expected Cluster or Local, got \"" + s.external_traffic_policy + "\"");
    }
    s.session_affinity = read_string_or(r, spec, "spec", "sessionAffinity", "None");
    if (s.session_affinity != "None" && s.session_affinity != "ClientIP") {
        r.fail("spec.sessionAffinity", "expected None or ClientIP, got \"" + s.session_affinity + "\"");
    }
    const YAML::Node timeout = child(child(child(spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds");
    if (present(timeout)) {
        auto seconds = parse_integer(timeout);
        if (!seconds || *seconds < 1 || *seconds > 86400) {
            r.fail("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "expected 1-86400 seconds");
        } else {
            s.session_affinity_timeout = static_cast<std::uint32_t>(*seconds);
        }
    }
    s.load_balancer_source_ranges = read_string_list(r, spec, "spec", "loadBalancerSourceRanges", false);
    s.allocate_load_balancer_node_ports =
        read_bool(r, spec, "spec", "allocateLoadBalancerNodePorts").value_or(true);
    s.ip_families = read_string_list(r, spec, "spec", "ipFamilies", false);
    for (std::size_t i = 0; i < s.ip_families.size(); ++i) {
        if (s.ip_families[i] != "IPv4" && s.ip_families[i] != "IPv6") {
            r.fail(index_path("spec.ipFamilies", i), "expected IPv4 or IPv6, got \"" + s.ip_families[i] + "\"");
        }
    }
    const YAML::Node lb = child(child(doc, "status"), "loadBalancer");
    for_each_item(r, lb, "status.loadBalancer", "ingress", false,
                  [&](const YAML::Node& item, const std::string& p) {
                      if (auto ip = read_string(r, item, p, "ip", false)) s.load_balancer_ips.push_back(*ip);
                  });
    return s;
}

EndpointSlice read_endpoint_slice(Reader& r, const YAML::Node& doc) {
    EndpointSlice slice;
    slice.metadata = read_metadata(r, doc, true);
    slice.address_type = read_string_or(r, doc, "", "addressType", "IPv4");
    for_each_item(r, doc, "", "ports", false, [&](const YAML::Node& item, const std::string& p) {
        EndpointPort port;
        port.name = read_string_or(r, item, p, "name", "");
        port.protocol = read_string_or(r, item, p, "protocol", "TCP");
        port.port = read_port(r, item, p, "port", false);
        slice.ports.push_back(std::move(port));
    });
    for_each_item(r, doc, "", "endpoints", false, [&](const YAML::Node& item, const std::string& p) {
        Endpoint endpoint;
        endpoint.addresses = read_string_list(r, item, p, "addresses", true);
        if (endpoint.addresses.empty()) r.fail(join(p, "addresses"), "must list at least one address");
        const YAML::Node conditions = child(item, "conditions");
        const std::string cp = join(p, "conditions");
        endpoint.ready = read_bool(r, conditions, cp, "ready");
        endpoint.serving = read_bool(r, conditions, cp, "serving");
        endpoint.terminating = read_bool(r, conditions, cp, "terminating");
        const YAML::Node ref = child(item, "targetRef");
        endpoint.target_ref_kind = read_string_or(r, ref, join(p, "targetRef"), "kind", "");
        endpoint.target_ref_name = read_string_or(r, ref, join(p, "targetRef"), "name", "");
        endpoint.node_name = read_string_or(r, item, p, "nodeName", "");
        slice.endpoints.push_back(std::move(endpoint));
    });
    return slice;
}

// RFC 1123 host names, optionally "*." + one wildcard label
// (what the API server accepts for Ingress rules).
std::optional<std::string> host_problem(const std::string& host) {
    if (host.empty()) return std::nullopt;
    std::string_view rest = host;
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    if (rest.empty() || rest.size() > 253) return "not a valid host name: \"" + host + "\"";
    std::size_t label = 0;
    for (std::size_t i = 0; i <= rest.size(); ++i) {
        const char c = i < rest.size() ? rest[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || rest[i - 1] == '-' || rest[i - label] == '-')
                return "not a valid host name: \"" + host + "\"";
            label = 0;
            continue;
        }
        // Upper case is accepted and folded later (host names are case-insensitive).
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
            if (c == '*') return "\"" + host + "\": a wildcard is only allowed as the whole first label (*.example.com)";
            return "not a valid host name: \"" + host + "\"";
        }
        ++label;
    }
    return std::nullopt;
}

IngressBackend read_backend(Reader& r, const YAML::Node& node, const std::string& path) {
    IngressBackend backend;
    const YAML::Node service = child(node, "service");
    const std::string sp = join(path, "service");
    if (!present(service)) {
        r.fail(sp, present(child(node, "resource")) ? "resource backends are not supported"
                                                    : "required field missing");
        return backend;
    }
    backend.service_name = read_string(r, service, sp, "name", true).value_or("");
    const YAML::Node port = child(service, "port");
    const std::string pp = join(sp, "port");
    auto name = read_string(r, port, pp, "name", false);
    if (name && !name->empty()) {
        backend.port_name = *name;
    } else if (present(child(port, "number"))) {
        backend.port_number = read_port(r, port, pp, "number", true);
    } else {
        r.fail(pp, "required field missing (number or name)");
    }
    return backend;
}

Ingress read_ingress(Reader& r, const YAML::Node& doc) {
    Ingress ingress;
    ingress.metadata = read_metadata(r, doc, true);
    const YAML::Node spec = child(doc, "spec");
    ingress.ingress_class_name = read_string(r, spec, "spec", "ingressClassName", false);
    if (present(child(spec, "defaultBackend"))) {
        ingress.default_backend = read_backend(r, child(spec, "defaultBackend"), "spec.defaultBackend");
    }
    for_each_item(r, spec, "spec", "rules", false, [&](const YAML::Node& item, const std::string& p) {
        IngressRule rule;
        rule.host = read_string_or(r, item, p, "host", "");
        const YAML::Node http = child(item, "http");
        const std::string hp = join(p, "http");
        if (auto problem = host_problem(rule.host)) r.fail(join(p, "host"), *problem);
        for_each_item(r, http, hp, "paths", present(http),
                      [&](const YAML::Node& path_node, const std::string& pp) {
                          IngressPath path;
                          path.path = read_string_or(r, path_node, pp, "path", "/");
                          if (path.path.empty() || path.path.front() != '/') {
                              r.fail(join(pp, "path"), "must start with '/'");
                          }
                          path.path_type = read_string(r, path_node, pp, "pathType", true).value_or("");
                          if (!path.path_type.empty() && path.path_type != "Exact" &&
                              path.path_type != "Prefix" && path.path_type != "ImplementationSpecific") {
                              r.fail(join(pp, "pathType"),
                                     "expected Exact, Prefix or ImplementationSpecific, got \"" +
                                         path.path_type + "\"");
                          }
                          path.backend = read_backend(r, child(path_node, "backend"), join(pp, "backend"));
                          rule.paths.push_back(std::move(path));
                      });
        ingress.rules.push_back(std::move(rule));
    });
    for_each_item(r, spec, "spec", "tls", false, [&](const YAML::Node& item, const std::string& p) {
        IngressTls tls;
        tls.hosts = read_string_list(r, item, p, "hosts", false);
        tls.secret_name = read_string_or(r, item, p, "secretName", "");
        ingress.tls.push_back(std::move(tls));
    });
    return ingress;
}

IngressClass read_ingress_class(Reader& r, const YAML::Node& doc) {
    IngressClass c;
    c.metadata = read_metadata(r, doc, false);
    c.controller = read_string(r, child(doc, "spec"), "spec", "controller", true).value_or("");
    const YAML::Node params = child(child(doc, "spec"), "parameters");
    if (present(params)) {
        const std::string pp = "spec.parameters";
        ParametersReference ref;
        ref.api_group = read_string_or(r, params, pp, "apiGroup", "");
        ref.kind = read_string(r, params, pp, "kind", true).value_or("");
        ref.name = read_string(r, params, pp, "name", true).value_or("");
        ref.namespace_ = read_string_or(r, params, pp, "namespace", "");
        c.parameters = std::move(ref);
    }
    return c;
}

std::uint64_t read_duration(Reader& r, const YAML::Node& parent, const std::string& path, const char* key) {
    auto text = read_string(r, parent, path, key, false);
    if (!text) return 0;
    auto ms = parse_duration_ms(*text);
    if (!ms || *ms > 86'400'000) {
        r.fail(join(path, key), "expected a duration like 5s, 500ms or 2m (at most 24h), got \"" + *text + "\"");
        return 0;
    }
    return *ms;
}

IngressClassParameters read_class_parameters(Reader& r, const YAML::Node& doc) {
    IngressClassParameters params;
    // Cluster-scoped like IngressClass: one parameters object per class.
    params.metadata = read_metadata(r, doc, false);
    const YAML::Node spec = child(doc, "spec");
    for_each_item(r, spec, "spec", "listeners", false, [&](const YAML::Node& item, const std::string& p) {
        ClassListener listener;
        listener.name = read_string_or(r, item, p, "name", "");
        listener.protocol = read_string_or(r, item, p, "protocol", "HTTP");
        if (listener.protocol != "HTTP" && listener.protocol != "HTTPS") {
            r.fail(join(p, "protocol"), "expected HTTP or HTTPS, got \"" + listener.protocol + "\"");
        }
        listener.port = read_port(r, item, p, "port", false);
        listener.node_port = read_port(r, item, p, "nodePort", false);
        if (listener.port == 0 && listener.node_port == 0) r.fail(p, "needs port or nodePort");
        listener.addresses = read_string_list(r, item, p, "addresses", false);
        params.listeners.push_back(std::move(listener));
    });
    params.default_tls_secret = read_string_or(r, spec, "spec", "defaultTLSSecret", "");
    if (!params.default_tls_secret.empty() && params.default_tls_secret.find('/') == std::string::npos) {
        r.fail("spec.defaultTLSSecret", "expected NAMESPACE/NAME");
    }
    const YAML::Node timeouts = child(spec, "timeouts");
    params.connect_timeout_ms = static_cast<std::uint32_t>(read_duration(r, timeouts, "spec.timeouts", "connect"));
    params.read_timeout_ms = static_cast<std::uint32_t>(read_duration(r, timeouts, "spec.timeouts", "read"));
    params.send_timeout_ms = static_cast<std::uint32_t>(read_duration(r, timeouts, "spec.timeouts", "send"));
    if (auto body = read_string(r, spec, "spec", "maxBodySize", false)) {
        auto bytes = parse_size_bytes(*body);
        if (!bytes) r.fail("spec.maxBodySize", "expected a size like 8m, 512k or 1048576, got \"" + *body + "\"");
        else params.max_body_bytes = *bytes;
    }
    const YAML::Node range = child(spec, "nodePortRange");
    if (present(range)) {
        params.node_port_min = read_port(r, range, "spec.nodePortRange", "min", true);
        params.node_port_max = read_port(r, range, "spec.nodePortRange", "max", true);
        if (params.node_port_min > params.node_port_max) r.fail("spec.nodePortRange", "min is above max");
        const auto policy = read_string_or(r, range, "spec.nodePortRange", "unallocated", "Drop");
        if (policy != "Drop" && policy != "Pass") {
            r.fail("spec.nodePortRange.unallocated", "expected Drop or Pass, got \"" + policy + "\"");
        }
        params.drop_unallocated_node_ports = policy == "Drop";
    }
    return params;
}

// Reads a Secret's key from .data (base64) or .stringData (plain).
std::string read_secret_value(Reader& r, const YAML::Node& doc, const char* key) {
    if (auto plain = read_string(r, child(doc, "stringData"), "stringData", key, false)) return *plain;
    auto encoded = read_string(r, child(doc, "data"), "data", key, true);
    if (!encoded) return {};
    auto decoded = decode_base64(*encoded);
    if (!decoded) {
        r.fail(join("data", key), decoded.error());
        return {};
    }
    return *decoded;
}

TlsSecret read_tls_secret(Reader& r, const YAML::Node& doc) {
    TlsSecret secret;
    secret.metadata = read_metadata(r, doc, true);
    secret.certificate_pem = read_secret_value(r, doc, "tls.crt");
    secret.private_key_pem = read_secret_value(r, doc, "tls.key");
    if (r.failure) return secret;
    auto checked = validate_tls_pair(secret.certificate_pem, secret.private_key_pem);
    if (!checked) {
        const bool key_problem = checked.error().starts_with("tls.key");
        r.fail(key_problem ? "data.tls.key" : "data.tls.crt", checked.error());
        return secret;
    }
    secret.dns_names = std::move(checked->dns_names);
    secret.not_after = std::move(checked->not_after);
    return secret;
}

}  // namespace

std::string DecodeError::to_string() const {
    std::string text = object;
    if (!field.empty()) text += ": " + field;
    text += ": " + message;
    return text;
}

bool is_list_document(const YAML::Node& document) {
    const YAML::Node kind = child(document, "kind");
    return kind.IsScalar() && kind.Scalar() == "List";
}

std::expected<Decoded, DecodeError> decode_object(const YAML::Node& document) {
    if (!document.IsMap()) return std::unexpected(DecodeError{"document", "", "expected a map (an object)"});
    Reader r;
    const auto kind = read_string(r, document, "", "kind", true);
    const auto api_version = read_string_or(r, document, "", "apiVersion", "");
    if (!kind) return std::unexpected(DecodeError{"document", r.failure->first, r.failure->second});

    std::optional<Object> object;
    if (*kind == "Service") {
        object = read_service(r, document);
    } else if (*kind == "EndpointSlice") {
        object = read_endpoint_slice(r, document);
    } else if (*kind == "Ingress") {
        object = read_ingress(r, document);
    } else if (*kind == "IngressClass") {
        object = read_ingress_class(r, document);
    } else if (*kind == "IngressClassParameters" && api_version.starts_with("xgress.io/")) {
        object = read_class_parameters(r, document);
    } else if (*kind == "Secret" && read_string_or(r, document, "", "type", "Opaque") == "kubernetes.io/tls") {
        object = read_tls_secret(r, document);
    } else {
        Reader ignored;
        return UnknownKind{api_version, *kind,
                           read_string_or(ignored, child(document, "metadata"), "metadata", "name", "")};
    }
    if (r.failure) {
        const ObjectMeta& meta = metadata_of(*object);
        std::string name = meta.name.empty() ? std::string("<unnamed>") : meta.name;
        if (!meta.namespace_.empty()) name = meta.namespace_ + "/" + name;
        return std::unexpected(DecodeError{*kind + " " + name, r.failure->first, r.failure->second});
    }
    return Decoded{std::move(*object)};
}

}  // namespace xgress::agent::k8s

// Typed Kubernetes objects as xgress-agent sees them: only the fields the
// model uses, plus the metadata every object carries. Both object sources
// (a manifests directory today, the API server later) decode into these
// structs, so the model never touches YAML or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "k8s/compact_fields.h"
#include "k8s/interned_string.h"
#include "k8s/packed_endpoint.h"
#include "k8s/string_map.h"

namespace xgress::agent::k8s {

struct ObjectMeta {
    std::string name;
    std::string namespace_;                          // "" for cluster-scoped kinds
    StringMap labels;       // sorted vectors behind a pointer, not std::maps: 8 bytes each when empty
    StringMap annotations;
    std::string creation_timestamp;                  // RFC 3339 as written; "" = unknown
    bool operator==(const ObjectMeta&) const = default;
};

// Kubernetes IntOrString (Service targetPort): a port number or a port name.
struct PortReference {
    std::uint16_t number = 0;  // used when name is empty
    std::string name;
    bool operator==(const PortReference&) const = default;
};

// Enumerated values (type, protocol, policies) are interned: a pointer each
// instead of a 32-byte std::string, in every Service at cluster scale. The
// decoder checks them against their few valid values, so the pool stays small.
struct ServicePort {
    std::string name;
    InternedString protocol{"TCP"};
    std::uint16_t port = 0;
    std::optional<PortReference> target_port;  // absent: same as port
    std::uint16_t node_port = 0;               // 0 = none
    bool operator==(const ServicePort&) const = default;
};

struct Service {
    ObjectMeta metadata;  // labels and annotations are not kept (nothing reads them)
    InternedString type{"ClusterIP"};
    std::vector<ServicePort> ports;
    // The lists below are usually empty: 8 bytes each (compact_fields.h).
    StringList external_ips;
    StringList load_balancer_ips;  // status.loadBalancer.ingress[].ip
    InternedString external_traffic_policy{"Cluster"};  // Cluster | Local
    InternedString session_affinity{"None"};            // None | ClientIP
    std::uint32_t session_affinity_timeout = 10800;    // seconds (Kubernetes default: 3 h)
    StringList load_balancer_source_ranges;
    bool allocate_load_balancer_node_ports = true;
    StringList ip_families;                            // IPv4, IPv6; empty = not stated
    bool operator==(const Service&) const = default;
};

struct EndpointPort {
    std::string name;
    InternedString protocol{"TCP"};
    std::uint16_t port = 0;  // 0 = not given (Kubernetes: "all ports")
    bool operator==(const EndpointPort&) const = default;
};

// One endpoint of a slice, kept small: with 100,000 endpoints in a cluster
// every byte here is ~100 KB of agent memory (target: <= 500 B per endpoint
// for everything the agent holds). So: conditions, addresses (binary where
// that round-trips) and the Pod name packed in one heap block
// (PackedEndpoint), the node name interned (a few hundred distinct values
// shared by every endpoint), and only the fields something reads
// (targetRef.kind/namespace/uid, zone, hints are not kept). 16 bytes plus
// one ~48-byte block.
struct Endpoint {
    InternedString node_name;

    // Absent conditions mean "unknown"; Kubernetes says to treat an unknown
    // ready as ready.
    void set(std::optional<bool> ready, std::optional<bool> serving, std::optional<bool> terminating,
             std::string_view target_ref_name, const std::vector<std::string>& addresses) {
        data_ = PackedEndpoint(ready, serving, terminating, target_ref_name, addresses);
    }
    std::optional<bool> ready() const { return data_.ready(); }
    std::optional<bool> serving() const { return data_.serving(); }
    std::optional<bool> terminating() const { return data_.terminating(); }
    std::string_view target_ref_name() const { return data_.target_ref_name(); }  // the Pod, for --dump-endpoints; "" = none
    std::string address() const { return data_.address(0); }                      // addresses[0]
    std::size_t address_count() const { return data_.address_count(); }
    // Calls f(std::string_view address) for every address, first one first
    // (the view lives for the call only).
    template <class F>
    void for_each_address(F&& f) const {
        data_.for_each_address(std::forward<F>(f));
    }
    std::size_t heap_bytes() const { return data_.block_size(); }
    bool operator==(const Endpoint&) const = default;

private:
    PackedEndpoint data_;
};

struct EndpointSlice {
    ObjectMeta metadata;  // labels and annotations are not kept (nothing reads them)
    std::string service_name;  // label kubernetes.io/service-name; "" = none (the slice serves no Service)
    InternedString address_type{"IPv4"};  // IPv4 | IPv6 | FQDN
    std::vector<EndpointPort> ports;
    std::vector<Endpoint> endpoints;
    bool operator==(const EndpointSlice&) const = default;
};

// An Ingress backend: a Service and one of its ports, by number or by name.
struct IngressBackend {
    std::string service_name;
    std::uint16_t port_number = 0;  // used when port_name is empty
    std::string port_name;
    bool operator==(const IngressBackend&) const = default;
};

struct IngressPath {
    std::string path = "/";
    std::string path_type;  // Exact, Prefix, ImplementationSpecific
    IngressBackend backend;
    bool operator==(const IngressPath&) const = default;
};

struct IngressRule {
    std::string host;  // "" = any host
    std::vector<IngressPath> paths;
    bool operator==(const IngressRule&) const = default;
};

struct IngressTls {
    std::vector<std::string> hosts;
    std::string secret_name;  // "" = the class's default certificate
    bool operator==(const IngressTls&) const = default;
};

struct Ingress {
    ObjectMeta metadata;
    std::optional<std::string> ingress_class_name;
    HeapOptional<IngressBackend> default_backend;  // rare: 8 bytes, not 80, when absent
    std::vector<IngressRule> rules;
    std::vector<IngressTls> tls;
    bool operator==(const Ingress&) const = default;
};

// IngressClass.spec.parameters: a typed reference to a cluster or
// namespaced object (for us: an IngressClassParameters in group xgress.io).
struct ParametersReference {
    std::string api_group;
    std::string kind;
    std::string name;
    std::string namespace_;  // only when scope is Namespace
    bool operator==(const ParametersReference&) const = default;
};

struct IngressClass {
    ObjectMeta metadata;
    std::string controller;
    HeapOptional<ParametersReference> parameters;  // 8 bytes, not 136
    bool operator==(const IngressClass&) const = default;
};

// A Secret of type kubernetes.io/tls. The decoder only accepts it when both
// PEM blocks parse and the key matches the certificate, so a broken edit is
// rejected and the previous good version stays in the cache.
struct TlsSecret {
    ObjectMeta metadata;
    std::string certificate_pem;  // data["tls.crt"], base64-decoded (chain allowed)
    std::string private_key_pem;  // data["tls.key"], base64-decoded
    std::string ca_pem;           // data["ca.crt"] when present: CAs trusted for upstream TLS
                                  // verification (proxy-ssl-secret), as in ingress-nginx
    std::string ocsp_staple_base64;  // data["tls.ocsp-staple"] as written (base64 of the DER
                                     // OCSP response); the proxy checks it matches and staples it
    StringList dns_names;                // from the leaf certificate's SAN/CN, for logs
    std::string not_after;               // leaf expiry, as OpenSSL prints it
    bool operator==(const TlsSecret&) const = default;
};

// One listener of an ingress class (crds/ingressclassparameters.yaml).
struct ClassListener {
    std::string name;
    std::string protocol = "HTTP";  // HTTP | HTTPS
    std::uint16_t port = 0;         // on the addresses below (or node addresses when none)
    std::uint16_t node_port = 0;    // 0 = none
    std::vector<std::string> addresses;
    bool operator==(const ClassListener&) const = default;
};

// xgress.io/v1alpha1 IngressClassParameters: how one ingress class is served.
struct IngressClassParameters {
    ObjectMeta metadata;
    std::vector<ClassListener> listeners;
    std::string default_tls_secret;          // "namespace/name"; "" = none
    std::uint32_t connect_timeout_ms = 0;     // 0 = proxy default
    std::uint32_t read_timeout_ms = 0;
    std::uint32_t send_timeout_ms = 0;
    std::uint64_t max_body_bytes = 0;         // 0 = proxy default
    std::uint16_t node_port_min = 30000;      // NodePort range policy
    std::uint16_t node_port_max = 32767;
    bool drop_unallocated_node_ports = true;
    bool operator==(const IngressClassParameters&) const = default;
};

// Every cached object is one allocation of sizeof(Object) (std::variant is
// as big as its largest alternative), so the alternatives are kept at or
// below an EndpointSlice's size (most objects are Services and slices): the
// usually-empty parts sit behind pointers (compact_fields.h) and TlsSecret,
// rare and five strings big, is boxed. 216 bytes instead of 336 saved
// 128 bytes per object, ~32 bytes per endpoint at cluster scale
// (test/unit/agent/compact_objects_test.cpp checks the sizes).
// Read alternatives with object_as<T>(), which unboxes.
using Object = std::variant<Service, EndpointSlice, Ingress, IngressClass, Boxed<TlsSecret>, IngressClassParameters>;

// How T is held in Object: as itself, or boxed.
template <class T>
using StoredAs = std::conditional_t<std::is_same_v<T, TlsSecret>, Boxed<TlsSecret>, T>;

// The object as a T, or null when it is another kind.
template <class T>
const T* object_as(const Object& object) {
    const auto* stored = std::get_if<StoredAs<T>>(&object);
    return stored ? &unboxed(*stored) : nullptr;
}

// The kinds we understand, in the order of Object's alternatives.
enum class Kind : std::uint8_t { Service, EndpointSlice, Ingress, IngressClass, TlsSecret, IngressClassParameters };

const char* kind_name(Kind kind);
Kind kind_of(const Object& object);
// The Kind of alternative T (TlsSecret for Boxed<TlsSecret> too).
template <class T>
constexpr Kind kind_for() {
    constexpr auto index = []<class... Ts>(std::variant<Ts...>*) {
        std::size_t i = 0;
        for (bool same : {std::is_same_v<StoredAs<T>, Ts>...}) {
            if (same) break;
            ++i;
        }
        return i;
    }(static_cast<Object*>(nullptr));
    static_assert(index < std::variant_size_v<Object>, "not an Object alternative");
    return static_cast<Kind>(index);
}
const ObjectMeta& metadata_of(const Object& object);

// Well-known label and annotation keys.
inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr const char* kIngressClassAnnotation = "kubernetes.io/ingress.class";
inline constexpr const char* kDefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";

}  // namespace xgress::agent::k8s

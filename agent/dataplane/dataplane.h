// The agent's handle on the kernel datapath: loads (or reuses) the pinned BPF
// maps and programs under a bpffs pin root, attaches XDP to the node's
// interfaces and sk_lookup to the network namespace, and applies the desired
// frontends to the maps as a difference against what the maps already hold.
//
// The model (agent/model) decides *what* frontends exist; this class only
// knows how to make the kernel match that set.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

namespace xgress::agent::dataplane {

struct Error {
    std::string message;
};

// An address in network byte order; IPv4 uses the first 4 bytes.
struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};
    bool operator==(const IpAddress&) const = default;
    auto operator<=>(const IpAddress&) const = default;
};

enum class Protocol : std::uint8_t { Tcp = 6, Udp = 17 };

// A source prefix (loadBalancerSourceRanges, whitelist-source-range).
struct IpPrefix {
    IpAddress address;
    std::uint8_t length = 0;            // 0..32 for IPv4, 0..128 for IPv6
    bool operator==(const IpPrefix&) const = default;
    auto operator<=>(const IpPrefix&) const = default;
};

struct FrontendSpec {
    // Which destinations match: a NodePort matches the port on every node
    // address (node_port = true, address ignored); a VIP (LoadBalancer ingress
    // IP, externalIP) matches one exact address.
    bool node_port = false;
    IpAddress address;
    std::uint16_t port = 0;             // host byte order
    Protocol protocol = Protocol::Tcp;
    std::uint32_t listener_slot = 0;    // SOCKMAP index of the proxy socket serving it
    std::string name;                   // "namespace/service:port-name", for logs and xgressctl
    std::vector<IpPrefix> source_ranges;  // empty: every source allowed; else others dropped in XDP
    bool operator==(const FrontendSpec&) const = default;
};

struct Options {
    std::string pin_root = "/sys/fs/bpf/xgress";   // must be on a bpffs
    std::vector<std::string> interfaces;          // XDP attach points; empty = every non-loopback
                                                  // interface that holds an address
    bool allow_generic_xdp = true;                // fall back to SKB mode when native fails
    std::uint16_t node_port_min = 30000;          // the cluster's NodePort range: traffic to a node
    std::uint16_t node_port_max = 32767;          // address in it with no frontend is dropped...
    bool drop_unallocated_node_ports = true;      // ...unless this is false (then passed, still counted)
};

// What the last apply_frontends did and cost, for logs and benchmarks.
struct ApplyStats {
    std::size_t frontends = 0;                      // desired
    bool incremental = false;  // only the changed keys were planned (else every frontend: first call of a
                               // process, after a failure, or a list naming a key twice)
    std::size_t planned = 0;   // keys planned: the changed ones, or every desired and current one
    std::size_t written = 0, deleted = 0;           // frontend entries
    std::size_t ranges_added = 0, ranges_deleted = 0;
    std::size_t map_write_calls = 0;     // bpf(2) update/delete calls (a batch is one call)
    std::size_t map_write_elements = 0;  // entries those calls wrote or deleted
    std::size_t map_read_calls = 0;      // lookups while reading back what the maps hold
    double read_ms = 0;    // reading back current contents (only the first apply of a process)
    double write_ms = 0;   // every map write and delete, in order
    double routes_ms = 0;  // local routes of unheld VIPs (rtnetlink)
    double total_ms = 0;
    double cpu_ms = 0;     // this thread's CPU time over the whole apply (wall time minus waiting
                           // for a CPU: on a busy host the wall figures above include preemption)
};

class Dataplane {
public:
    // Loads and pins the maps and programs, or reuses what a previous agent
    // pinned, and makes sure XDP and sk_lookup are attached.
    static std::expected<Dataplane, Error> open(const Options& options);

    Dataplane(Dataplane&&) noexcept;
    Dataplane& operator=(Dataplane&&) noexcept;
    ~Dataplane();  // leaves everything pinned and attached (traffic keeps flowing)

    // Replaces the node-address set (addresses NodePort frontends match on).
    std::expected<void, Error> set_node_addresses(const std::vector<IpAddress>& addresses);

    // Makes the frontend maps hold exactly `frontends`: adds and updates first,
    // deletes last, so no packet sees a half-written state. The maps' contents
    // are read back on the first call of a process (and after a failed one),
    // then tracked, so a change costs only its own writes. After a successful
    // call the next one plans, writes and routes only the keys whose spec
    // differs from the list it was given (same result as planning them all).
    std::expected<void, Error> apply_frontends(const std::vector<FrontendSpec>& frontends);

    const ApplyStats& last_apply_stats() const;

    // Puts a proxy listening socket into the SOCKMAP at `slot`.
    std::expected<void, Error> set_listener(std::uint32_t slot, int socket_fd);

    // Detaches programs and removes every pin under options.pin_root that the
    // agent made. Safe to run when nothing is there.
    static std::expected<void, Error> cleanup(const Options& options);

private:
    struct State;
    explicit Dataplane(State* state);
    State* state_ = nullptr;
};

// Every address configured on this network namespace's interfaces, except
// loopback and IPv6 link-local.
std::expected<std::vector<IpAddress>, Error> local_node_addresses();

}  // namespace xgress::agent::dataplane

// Dataplane: open (load, pin, attach), reconcile maps, cleanup.
#include "dataplane.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "abi_migration.h"
#include "applied_frontends.h"
#include "frontend_plan.h"
#include "libbpf_log.h"
#include "local_routes.h"
#include "pin_layout.h"
#include "port_flags.h"
#include "tables.h"
#include "vip_table.h"
#include "xdp_attach.h"
#include "xgress/bpf_abi.h"
// After bpf_abi.h: the skeleton declares its .bss variable with our types.
#include "sk_lookup.skel.h"

namespace xgress::agent::dataplane {

// Exact (VIP) entries of the frontends map by their vip_frontends slot, smallest key first within a slot.
using VipMembers = std::map<std::pair<std::uint32_t, FrontendKey>, xgress_frontend_value>;

static std::uint32_t vip_slot_of(const FrontendKey& key) {
    const auto raw = key.raw();
    return xgress_vip_slot_index(&raw);
}

struct Dataplane::State {
    Options options;
    PinLayout layout;
    sk_lookup_bpf* skel = nullptr;  // holds the fds of every (pinned) map
    xgress_tables* tables = nullptr;  // the tables map, as the skeleton mmaps it
    int link_fd = -1;
    // After an ABI migration the sk_lookup link keeps running the old program
    // (whose SOCKMAP still holds the proxy's sockets) until the first listener
    // is installed in the new SOCKMAP; then the link switches over.
    bool link_switch_pending = false;
    PortFlagTable port_flags;  // what tables.port_flags holds (read at open, then tracked)
    // The NodePort copies in port_flags are rewritten whole by this process's
    // first apply_frontends (a previous agent may have died half-way), then
    // per change.
    bool nodeport_mirror_synced = false;
    // What tables.vip_frontends holds: read whole at this process's first
    // apply_frontends, then tracked write by write.
    std::optional<VipTable> vip_table;
    // What the frontends and source_ranges maps hold: read back by this
    // process's first apply_frontends, then tracked; reset on any failure
    // (the next apply reads again), since a failed write leaves it unknown.
    std::optional<std::map<FrontendKey, CurrentFrontend>> frontends;
    std::optional<std::set<SourceRangeKey>> ranges;
    // Our local VIP routes: dumped by this process's first apply_frontends
    // (and after a failed sync), then tracked.
    std::optional<std::set<IpAddress>> vip_routes;
    // What the last successful apply_frontends was given and left, indexed
    // for the incremental apply (only the changed keys are planned, written
    // and routed). Unset until the first full apply of the process and after
    // any failure: the next call then takes the full path.
    struct Applied {
        AppliedFrontends specs;
        std::vector<bool> ids = std::vector<bool>(XGRESS_MAX_FRONTENDS, false);  // ids the frontends map holds
        VipMembers vips;              // the VIP entries the map holds, by slot
        std::vector<IpAddress> held;  // addresses on interfaces at the last route sync, sorted
    };
    std::optional<Applied> applied;
    ApplyStats stats;

    ~State() {
        if (link_fd >= 0) close(link_fd);
        sk_lookup_bpf__destroy(skel);
    }
    int fd(bpf_map* map) const { return bpf_map__fd(map); }
};

namespace {

std::unexpected<Error> fail(std::string message) { return std::unexpected(Error{std::move(message)}); }

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

// Network namespace of the calling thread: the one sk_lookup steers in.
std::expected<std::pair<int, ino_t>, Error> open_current_netns() {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(fmt::format("open /proc/thread-self/ns/net: {}", errno_text(errno)));
    struct stat st{};
    fstat(fd, &st);
    return std::pair{fd, st.st_ino};
}

// Reuses the pinned sk_lookup link (moving it to the freshly loaded program,
// so an upgraded agent's code takes effect) or attaches and pins a new one.
std::expected<int, Error> ensure_sk_lookup_link(const PinLayout& layout, bpf_program* prog, bool defer_switch,
                                                bool& switch_pending) {
    switch_pending = false;
    auto netns = open_current_netns();
    if (!netns) return std::unexpected(netns.error());
    auto [netns_fd, netns_ino] = *netns;

    if (int pinned = bpf_obj_get(layout.sk_lookup_link().c_str()); pinned >= 0) {
        bpf_link_info info{};
        __u32 len = sizeof(info);
        bool same_netns = bpf_obj_get_info_by_fd(pinned, &info, &len) == 0 &&
                          info.type == BPF_LINK_TYPE_NETNS && info.netns.netns_ino == netns_ino;
        if (same_netns && defer_switch) {
            close(netns_fd);
            switch_pending = true;
            spdlog::info("sk_lookup: keeping the old program on {} until a listener is installed",
                         layout.sk_lookup_link());
            return pinned;
        }
        if (same_netns && bpf_link_update(pinned, bpf_program__fd(prog), nullptr) == 0) {
            close(netns_fd);
            spdlog::info("sk_lookup: reusing pinned link {}", layout.sk_lookup_link());
            return pinned;
        }
        spdlog::warn("sk_lookup: pinned link {} is stale or for another namespace; replacing it",
                     layout.sk_lookup_link());
        close(pinned);
        unlink(layout.sk_lookup_link().c_str());
    }

    bpf_link* link = bpf_program__attach_netns(prog, netns_fd);
    close(netns_fd);
    if (!link) return fail(fmt::format("sk_lookup attach to netns: {}", errno_text(errno)));
    std::error_code ec;
    std::filesystem::create_directories(layout.links_dir(), ec);
    if (int err = bpf_link__pin(link, layout.sk_lookup_link().c_str()); err) {
        bpf_link__destroy(link);
        return fail(fmt::format("pin {}: {}", layout.sk_lookup_link(), errno_text(err)));
    }
    int fd = dup(bpf_link__fd(link));
    bpf_link__destroy(link);  // closes our fd only; the pin keeps the link attached
    spdlog::info("sk_lookup: attached to this network namespace, pinned at {}", layout.sk_lookup_link());
    return fd;
}

std::expected<void, Error> write_abi_version(int abi_map_fd) {
    std::uint32_t key = XGRESS_ABI_INFO_KEY;
    xgress_abi_info info{};
    if (bpf_map_lookup_elem(abi_map_fd, &key, &info) == 0 && info.abi_version != 0 &&
        info.abi_version != XGRESS_ABI_VERSION)
        return fail(fmt::format("pinned maps have ABI version {}, this agent speaks {}: run cleanup first",
                                info.abi_version, XGRESS_ABI_VERSION));
    info.abi_version = XGRESS_ABI_VERSION;
    if (bpf_map_update_elem(abi_map_fd, &key, &info, BPF_ANY) != 0)
        return fail(fmt::format("write abi_info: {}", errno_text(errno)));
    return {};
}

PortFlagTable range_flags(PortFlagTable table, const Options& options) {
    return with_node_port_range(std::move(table), options.node_port_min, options.node_port_max,
                                options.drop_unallocated_node_ports);
}

std::expected<void, Error> write_settings(int settings_fd, const Options& options) {
    if (options.node_port_min > options.node_port_max)
        return fail(fmt::format("NodePort range {}-{} is empty", options.node_port_min, options.node_port_max));
    std::uint32_t key = XGRESS_SETTINGS_KEY;
    xgress_settings settings{};
    settings.node_port_min = options.node_port_min;
    settings.node_port_max = options.node_port_max;
    settings.flags = options.drop_unallocated_node_ports ? XGRESS_SETTINGS_DROP_UNALLOCATED : 0;
    if (bpf_map_update_elem(settings_fd, &key, &settings, BPF_ANY) != 0)
        return fail(fmt::format("write settings: {}", errno_text(errno)));
    spdlog::info("NodePort range {}-{}: unallocated ports are {}", options.node_port_min, options.node_port_max,
                 options.drop_unallocated_node_ports ? "dropped" : "passed");
    return {};
}

std::string read_name(int names_fd, std::uint32_t id) {
    xgress_frontend_name name{};
    if (bpf_map_lookup_elem(names_fd, &id, &name) != 0) return {};
    return std::string(name.name, strnlen(name.name, sizeof(name.name)));
}

}  // namespace

Dataplane::Dataplane(State* state) : state_(state) {}
Dataplane::Dataplane(Dataplane&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
Dataplane& Dataplane::operator=(Dataplane&& other) noexcept {
    if (this != &other) {
        delete state_;
        state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
}
Dataplane::~Dataplane() { delete state_; }

std::expected<Dataplane, Error> Dataplane::open(const Options& options) {
    route_bpf_library_logs_to_spdlog();
    if (auto ok = prepare_pin_root(options.pin_root); !ok) return std::unexpected(ok.error());
    choose_libxdp_bpffs(options.pin_root);

    auto state = std::make_unique<State>();
    state->options = options;
    state->layout = PinLayout{options.pin_root};

    std::optional<std::string> moved_aside;
    if (auto version = pinned_abi_version(state->layout); version && *version != XGRESS_ABI_VERSION) {
        auto moved = move_pins_aside(state->layout, *version);
        if (!moved) return std::unexpected(moved.error());
        moved_aside = *moved;
    }

    // Maps are pinned by name under pin_root: reused when present, so counters
    // and frontends survive an agent restart.
    LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = options.pin_root.c_str());
    state->skel = sk_lookup_bpf__open_opts(&open_opts);
    if (!state->skel) return fail(fmt::format("sk_lookup object open: {}", errno_text(errno)));
    // The global data is pinned too (bpf_abi.h: tables), and is nothing but
    // the tables, so the XDP object can reuse it.
    static_assert(sizeof(*state->skel->bss) == sizeof(xgress_tables), "the programs' .bss holds only xgress_tables");
    if (int err = pin_tables(state->skel->maps.bss, state->layout); err)
        return fail(fmt::format("sk_lookup object: pin path of {}: {}", XGRESS_MAP_TABLES, errno_text(err)));
    if (int err = sk_lookup_bpf__load(state->skel); err)
        return fail(fmt::format("sk_lookup object load (maps under {}): {}", options.pin_root, errno_text(err)));
    state->tables = &state->skel->bss->xgress_tables;
    if (auto ok = write_abi_version(state->fd(state->skel->maps.abi_info)); !ok) return std::unexpected(ok.error());
    if (auto ok = write_settings(state->fd(state->skel->maps.settings), options); !ok)
        return std::unexpected(ok.error());

    state->port_flags = read_port_flags(*state->tables);
    // The NodePort range as the XDP program reads it (settings is the record).
    write_port_flags(*state->tables, state->port_flags, range_flags(state->port_flags, options));

    auto link = ensure_sk_lookup_link(state->layout, state->skel->progs.xgress_sk_lookup, moved_aside.has_value(),
                                      state->link_switch_pending);
    if (!link) return std::unexpected(link.error());
    state->link_fd = *link;

    std::vector<std::string> interfaces = options.interfaces;
    if (interfaces.empty()) {
        auto found = interfaces_with_addresses();
        if (!found) return std::unexpected(found.error());
        interfaces = *found;
        spdlog::info("XDP: no interfaces given; using {}", fmt::join(interfaces, ","));
    }
    for (const auto& interface : interfaces) {
        // After a migration the attached program uses the old maps: replace it.
        if (moved_aside)
            if (auto ok = detach_xdp(interface); !ok) return std::unexpected(ok.error());
        if (auto ok = attach_xdp(interface, options.pin_root, options.allow_generic_xdp); !ok)
            return std::unexpected(ok.error());
    }
    // The old programs hold their maps; the moved-aside names can go now.
    if (moved_aside)
        if (auto problems = remove_moved_pins(*moved_aside); !problems.empty()) spdlog::warn("migration: {}", problems);

    return Dataplane(state.release());
}

namespace {

bool is_node_port(const xgress_frontend_key& key) { return key.flags & XGRESS_FRONTEND_KEY_NODEPORT; }

// NodePort copies (ABI 8) live in their port's port_flags entry: (port in
// host order, protocol) says which copy.
using NodePortSlot = std::pair<std::uint32_t, std::uint8_t>;

NodePortSlot nodeport_slot(const xgress_frontend_key& key) { return {ntohs(key.port), key.proto}; }

// One copy in its port's entry; the entry's flags and other copy are kept.
void write_nodeport_copy(xgress_tables& tables, const xgress_frontend_key& key, const xgress_frontend_value& value) {
    const auto [port, proto] = nodeport_slot(key);
    store_nodeport_copy(*xgress_port_nodeport_copy(&tables.port_flags[port], proto), value);
}

// Every NodePort copy: `copies` at their ports, every other copy's id zero
// (the classifiers then look in frontends); the flags stay. Returns how many
// copies it stored.
std::size_t write_nodeport_copies(xgress_tables& tables, const std::map<NodePortSlot, xgress_frontend_value>& copies) {
    std::size_t stored = 0;
    const xgress_frontend_value none{};
    for (std::uint32_t port = 0; port < XGRESS_PORT_FLAGS_ENTRIES; ++port) {
        xgress_port_flags& entry = tables.port_flags[port];
        for (const std::uint8_t proto : {std::uint8_t{IPPROTO_TCP}, std::uint8_t{IPPROTO_UDP}}) {
            xgress_frontend_value* copy = xgress_port_nodeport_copy(&entry, proto);
            const auto it = copies.find({port, proto});
            const xgress_frontend_value& want = it == copies.end() ? none : it->second;
            if (want.id == 0 ? copy->id == 0 : std::memcmp(copy, &want, sizeof(want)) == 0) continue;
            store_nodeport_copy(*copy, want);
            ++stored;
        }
    }
    return stored;
}

// node_addr_list (see bpf_abi.h, in the tables since ABI 10) in three
// steps, so no reader trusts a half-written list: (1) its COMPLETE flags
// cleared: readers now fall back to node_addrs on a miss; (2) the new
// addresses, flags still clear; (3) the flags set. Each step stores only the
// words that differ, in order (tables.h); the classifiers load the flags
// before the addresses.
void write_node_addr_list(xgress_tables& tables, const std::vector<IpAddress>& addresses) {
    xgress_node_addr_list& list = tables.node_addr_list;
    const std::uint32_t no_flags = 0;
    store_words(&list.flags, &no_flags, sizeof(list.flags));

    xgress_node_addr_list next{};
    std::uint32_t v4_total = 0, v6_total = 0;
    std::set<IpAddress> seen;
    for (const auto& address : addresses) {
        if (!seen.insert(address).second) continue;
        if (address.v6) {
            if (v6_total++ < XGRESS_NODE_ADDR_INLINE_V6)
                std::memcpy(next.ipv6[next.ipv6_count++], address.bytes.data(), 16);
        } else if (v4_total++ < XGRESS_NODE_ADDR_INLINE_V4) {
            std::memcpy(next.ipv4[next.ipv4_count++], address.bytes.data(), 4);
        }
    }
    store_words(&list, &next, sizeof(next));
    next.flags = (v4_total <= XGRESS_NODE_ADDR_INLINE_V4 ? XGRESS_NODE_ADDR_LIST_V4_COMPLETE : 0u) |
                 (v6_total <= XGRESS_NODE_ADDR_INLINE_V6 ? XGRESS_NODE_ADDR_LIST_V6_COMPLETE : 0u);
    store_words(&list.flags, &next.flags, sizeof(next.flags));
    if (v4_total > XGRESS_NODE_ADDR_INLINE_V4 || v6_total > XGRESS_NODE_ADDR_INLINE_V6)
        spdlog::info("node addresses: {} IPv4 / {} IPv6, more than the {} / {} kept inline: the rest cost a hash "
                     "lookup per NodePort packet",
                     v4_total, v6_total, XGRESS_NODE_ADDR_INLINE_V4, XGRESS_NODE_ADDR_INLINE_V6);
}

// Moves vip_frontends to `vips` (the VIPs the hash holds once the plan is
// done; see vip_table.h): every slot, or only `slots` (the incremental apply:
// the slots of the changed keys; a slot's owner depends only on the VIPs
// hashing there). `tracked` is what the array holds, read on first use,
// updated per write.
void sync_vip_table(xgress_tables& tables, std::optional<VipTable>& tracked, const VipMembers& vips,
                    const std::set<std::uint32_t>* slots, ApplyStats& stats) {
    if (!tracked) tracked = read_vip_table(tables);
    VipTable& table = *tracked;
    VipTable from, to;
    if (!slots) {
        std::map<FrontendKey, xgress_frontend_value> all;
        for (const auto& [at, value] : vips) all.emplace(at.second, value);
        to = build_vip_table(all, table);
        from = table;
    } else {
        for (const std::uint32_t slot : *slots) {
            VipTable before;
            if (auto it = table.find(slot); it != table.end()) before.emplace(slot, it->second);
            std::map<FrontendKey, xgress_frontend_value> members;
            for (auto it = vips.lower_bound({slot, FrontendKey{}}); it != vips.end() && it->first.first == slot; ++it)
                members.emplace(it->first.second, it->second);
            for (auto& [index, target] : build_vip_table(members, before)) to.emplace(index, target);
            from.merge(before);
        }
    }
    const xgress_vip_slot empty{};
    for (const auto& write : vip_table_writes(from, to)) {
        ++stats.map_write_calls;
        ++stats.map_write_elements;
        store_words(&tables.vip_frontends[write.index], &write.slot, sizeof(write.slot));
        if (same_vip_slot(write.slot, empty)) table.erase(write.index);
        else table[write.index] = write.slot;
    }
}

}  // namespace

std::expected<void, Error> Dataplane::set_node_addresses(const std::vector<IpAddress>& addresses) {
    const int fd = state_->fd(state_->skel->maps.node_addrs);
    auto to_key = [](const IpAddress& address) {
        xgress_node_addr_key key{};
        key.ipv6 = address.v6 ? 1 : 0;
        std::memcpy(key.addr, address.bytes.data(), address.v6 ? 16 : 4);
        return key;
    };
    using KeyBytes = std::array<std::uint8_t, sizeof(xgress_node_addr_key)>;
    auto bytes_of = [](const xgress_node_addr_key& key) {
        KeyBytes bytes;
        std::memcpy(bytes.data(), &key, sizeof(key));
        return bytes;
    };

    std::set<KeyBytes> wanted;
    for (const auto& address : addresses) wanted.insert(bytes_of(to_key(address)));
    if (wanted.size() > XGRESS_MAX_NODE_ADDRS)
        return fail(fmt::format("{} node addresses exceed the map's {}", wanted.size(), XGRESS_MAX_NODE_ADDRS));

    std::vector<KeyBytes> stale;
    xgress_node_addr_key key{}, next{};
    for (void* prev = nullptr; bpf_map_get_next_key(fd, prev, &next) == 0; prev = &key) {
        key = next;
        if (!wanted.contains(bytes_of(key))) stale.push_back(bytes_of(key));
    }
    const xgress_node_addr_value value{};
    for (const auto& bytes : wanted)
        if (bpf_map_update_elem(fd, bytes.data(), &value, BPF_ANY) != 0)
            return fail(fmt::format("node_addrs update: {}", errno_text(errno)));
    // The inline copy is rewritten while node_addrs holds old and new
    // addresses alike, so a reader falling back to the hash is right either way.
    write_node_addr_list(*state_->tables, addresses);
    for (const auto& bytes : stale)
        if (bpf_map_delete_elem(fd, bytes.data()) != 0 && errno != ENOENT)
            return fail(fmt::format("node_addrs delete: {}", errno_text(errno)));
    spdlog::debug("node_addrs: {} addresses, {} removed", wanted.size(), stale.size());
    return {};
}

namespace {

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

const ApplyStats& Dataplane::last_apply_stats() const { return state_->stats; }

std::expected<void, Error> Dataplane::apply_frontends(const std::vector<FrontendSpec>& frontends) {
    using steady = std::chrono::steady_clock;
    const auto start = steady::now();
    const double cpu_start = thread_cpu_ms();
    ApplyStats& stats = state_->stats = ApplyStats{};
    stats.frontends = frontends.size();
    const int map_fd = state_->fd(state_->skel->maps.frontends);
    const int stats_fd = state_->fd(state_->skel->maps.frontend_stats);
    const int names_fd = state_->fd(state_->skel->maps.frontend_names);
    const int ranges_fd = state_->fd(state_->skel->maps.source_ranges);
    xgress_tables& tables = *state_->tables;  // port_flags (also holds the NodePort copies), vip_frontends
    // Any failure below leaves these unset: the next apply rewrites the copy
    // whole, reads the maps back and plans every frontend.
    const bool mirror_synced = std::exchange(state_->nodeport_mirror_synced, false);
    std::optional<std::map<FrontendKey, CurrentFrontend>> tracked = std::exchange(state_->frontends, std::nullopt);
    std::optional<std::set<SourceRangeKey>> tracked_ranges = std::exchange(state_->ranges, std::nullopt);
    std::optional<State::Applied> applied = std::exchange(state_->applied, std::nullopt);

    if (!tracked || !tracked_ranges) {
        applied.reset();
        tracked.emplace();
        tracked_ranges.emplace();
        xgress_frontend_key key{}, next{};
        for (void* prev = nullptr; bpf_map_get_next_key(map_fd, prev, &next) == 0; prev = &key) {
            key = next;
            xgress_frontend_value value{};
            stats.map_read_calls += 3;  // next key, value, name
            if (bpf_map_lookup_elem(map_fd, &key, &value) != 0) continue;  // deleted meanwhile
            tracked->emplace(FrontendKey::from(key),
                             CurrentFrontend{value.id, value.listener_slot, read_name(names_fd, value.id), value.flags});
        }
        xgress_source_range_key range{}, next_range{};
        for (void* prev = nullptr; bpf_map_get_next_key(ranges_fd, prev, &next_range) == 0; prev = &range) {
            range = next_range;
            ++stats.map_read_calls;
            tracked_ranges->insert(SourceRangeKey::from(range));
        }
    }
    std::map<FrontendKey, CurrentFrontend>& current = *tracked;
    std::set<SourceRangeKey>& current_ranges = *tracked_ranges;
    const auto read_done = steady::now();
    stats.read_ms = ms_between(start, read_done);

    // The incremental path: the last apply succeeded in this process, so the
    // maps hold exactly its list (`applied`), and only the keys whose spec
    // differs need planning. Planning them with the other entries' ids
    // reserved gives the full plan restricted to them (frontend_plan.h).
    std::optional<std::vector<FrontendChange>> changes;
    if (applied && mirror_synced && state_->vip_table && state_->vip_routes) changes = applied->specs.diff(frontends);
    stats.incremental = changes.has_value();
    std::set<std::uint16_t> touched_ports;
    std::set<std::uint32_t> touched_slots;
    std::set<IpAddress> touched_addresses;
    std::expected<FrontendPlan, Error> plan = FrontendPlan{};
    if (changes) {
        std::map<FrontendKey, CurrentFrontend> current_changed;
        std::vector<FrontendSpec> desired_changed;
        std::set<SourceRangeKey> ranges_changed;
        std::vector<bool> reserved = applied->ids;
        for (const auto& change : *changes) {
            const auto raw = change.key.raw();
            touched_ports.insert(ntohs(raw.port));
            if (!is_node_port(raw)) touched_slots.insert(vip_slot_of(change.key));
            for (const FrontendSpec* spec : {change.before, change.after})
                if (spec && !spec->node_port) touched_addresses.insert(spec->address);
            if (auto it = current.find(change.key); it != current.end()) {
                current_changed.insert(*it);
                reserved[it->second.id] = false;
                // What the trie holds for it: its applied spec's ranges under its id.
                if (change.before)
                    for (const auto& prefix : change.before->source_ranges)
                        if (auto range = source_range_key(it->second.id, prefix)) ranges_changed.insert(*range);
            }
            if (change.after) desired_changed.push_back(*change.after);
        }
        stats.planned = changes->size();
        plan = plan_frontends(current_changed, desired_changed, ranges_changed, &reserved);
    } else {
        stats.planned = frontends.size();
        plan = plan_frontends(current, frontends, current_ranges);
    }
    if (!plan) {  // nothing written: what the maps hold is still known
        state_->frontends = std::move(tracked);
        state_->ranges = std::move(tracked_ranges);
        state_->applied = std::move(applied);
        state_->nodeport_mirror_synced = mirror_synced;
        return std::unexpected(plan.error());
    }
    // From here on `applied` describes the target (a failure drops it anyway).
    if (changes) applied->specs.commit(*changes);
    stats.written = plan->writes.size();
    stats.deleted = plan->deletes.size();
    stats.ranges_added = plan->range_adds.size();
    stats.ranges_deleted = plan->range_deletes.size();
    auto update = [&](int fd, const void* k, const void* v) {
        ++stats.map_write_calls;
        ++stats.map_write_elements;
        return bpf_map_update_elem(fd, k, v, BPF_ANY);
    };
    auto remove = [&](int fd, const void* k) {
        ++stats.map_write_calls;
        ++stats.map_write_elements;
        return bpf_map_delete_elem(fd, k);
    };
    const auto write_start = steady::now();

    // Port flags first, only setting bits: no entry written below is ever
    // behind a port the classifiers skip. The incremental path looks only at
    // the ports of the changed keys (the range bits there stay as they are).
    auto write_flags = [&](const std::vector<PortFlagValue>& values) {
        std::size_t differing = 0;
        for (const auto& value : values) differing += state_->port_flags[value.port] != value.flags;
        if (differing > 0) {
            ++stats.map_write_calls;
            stats.map_write_elements += differing;
        }
        write_port_flag_values(tables, state_->port_flags, values);
    };
    std::vector<PortFlagValue> target_flags, widened_flags;
    if (changes) {
        constexpr std::uint8_t range_bits = XGRESS_PORT_NODEPORT_RANGE | XGRESS_PORT_DROP_UNALLOCATED;
        for (const std::uint16_t port : touched_ports) {
            const std::uint8_t now = state_->port_flags[port];
            const std::uint8_t target = static_cast<std::uint8_t>((now & range_bits) | applied->specs.port_flags(port));
            target_flags.push_back({port, target});
            widened_flags.push_back({port, static_cast<std::uint8_t>(now | target)});
        }
    } else {
        std::vector<FrontendKey> desired_keys;
        desired_keys.reserve(frontends.size());
        for (const auto& spec : frontends) desired_keys.push_back(frontend_key(spec));
        const PortFlagTable target = range_flags(port_flags_for(desired_keys), state_->options);
        const PortFlagTable widened = widen(state_->port_flags, target);
        for (const auto port : changed_ports(state_->port_flags, widened)) widened_flags.push_back({port, widened[port]});
        for (const auto port : changed_ports(widened, target)) target_flags.push_back({port, target[port]});
    }
    write_flags(widened_flags);

    const xgress_source_range_value allowed{};
    for (const auto& add : plan->range_adds) {
        const auto raw = add.raw();
        if (update(ranges_fd, &raw, &allowed) != 0)
            return fail(fmt::format("source range {} (frontend id {}): {}", describe(raw), raw.frontend_id,
                                    errno_text(errno)));
    }

    const int stats_base_fd = state_->fd(state_->skel->maps.frontend_stats_base);
    std::vector<xgress_frontend_stats> per_cpu(static_cast<std::size_t>(libbpf_num_possible_cpus()));
    for (const auto& write : plan->writes) {
        const std::uint32_t id = write.value.id;
        // A reused id must not inherit a deleted frontend's counters. They
        // are not zeroed (the sum over ids is xdp_matched, which must never
        // go back, ABI 7): their current totals become the new frontend's
        // base, recorded before the entry exists, so no packet is lost from
        // the new count.
        if (write.is_new) {
            xgress_frontend_stats base{};
            if (bpf_map_lookup_elem(stats_fd, &id, per_cpu.data()) != 0)
                return fail(fmt::format("frontend \"{}\": read stats: {}", write.name, errno_text(errno)));
            for (const auto& s : per_cpu) {
                base.packets += s.packets;
                base.bytes += s.bytes;
                base.syns += s.syns;
                base.source_range_drops += s.source_range_drops;
            }
            if (update(stats_base_fd, &id, &base) != 0)
                return fail(fmt::format("frontend \"{}\": stats base: {}", write.name, errno_text(errno)));
        }
        xgress_frontend_name name{};
        std::memcpy(name.name, write.name.data(), std::min(write.name.size(), sizeof(name.name) - 1));
        if (update(names_fd, &id, &name) != 0)
            return fail(fmt::format("frontend \"{}\": write name: {}", write.name, errno_text(errno)));
        const auto raw = write.key.raw();
        if (update(map_fd, &raw, &write.value) != 0)
            return fail(fmt::format("frontend \"{}\" ({}): {}", write.name, describe(raw), errno_text(errno)));
        // The copy after the hash entry (see xgress_port_flags in bpf_abi.h).
        if (mirror_synced && is_node_port(raw)) {
            ++stats.map_write_calls;
            ++stats.map_write_elements;
            write_nodeport_copy(tables, raw, write.value);
        }
    }
    if (!mirror_synced) {
        // Every NodePort the hash holds once the deletes below are done.
        std::map<NodePortSlot, xgress_frontend_value> mirror;
        for (const auto& [key, frontend] : current)
            if (is_node_port(key.raw()))
                mirror[nodeport_slot(key.raw())] = {frontend.id, frontend.listener_slot, frontend.flags};
        for (const auto& write : plan->writes)
            if (is_node_port(write.key.raw())) mirror[nodeport_slot(write.key.raw())] = write.value;
        for (const auto& stale : plan->deletes)
            if (is_node_port(stale.raw())) mirror.erase(nodeport_slot(stale.raw()));
        if (const std::size_t stored = write_nodeport_copies(tables, mirror); stored > 0) {
            ++stats.map_write_calls;
            stats.map_write_elements += stored;
        }
    }
    // The VIP copy between the hash writes and the hash deletes: every
    // intermediate slot state finds each VIP that stays (see vip_table.h).
    VipMembers vips;
    if (changes) {
        vips = std::move(applied->vips);
    } else {
        for (const auto& [key, frontend] : current)
            if (!is_node_port(key.raw()))
                vips[{vip_slot_of(key), key}] = {frontend.id, frontend.listener_slot, frontend.flags};
    }
    for (const auto& write : plan->writes)
        if (!is_node_port(write.key.raw())) vips[{vip_slot_of(write.key), write.key}] = write.value;
    for (const auto& stale : plan->deletes)
        if (!is_node_port(stale.raw())) vips.erase({vip_slot_of(stale), stale});
    sync_vip_table(tables, state_->vip_table, vips, changes ? &touched_slots : nullptr, stats);
    const xgress_frontend_value no_frontend{};
    for (const auto& stale : plan->deletes) {
        const auto raw = stale.raw();
        // The copy goes first: meanwhile the classifiers use the hash entry.
        if (is_node_port(raw)) {
            ++stats.map_write_calls;
            ++stats.map_write_elements;
            write_nodeport_copy(tables, raw, no_frontend);
        }
        if (remove(map_fd, &raw) != 0 && errno != ENOENT)
            return fail(fmt::format("delete frontend {}: {}", describe(raw), errno_text(errno)));
    }
    for (const auto& stale : plan->range_deletes) {
        const auto raw = stale.raw();
        if (remove(ranges_fd, &raw) != 0 && errno != ENOENT)
            return fail(fmt::format("delete source range {}: {}", describe(raw), errno_text(errno)));
    }
    // Entries are gone: clear the bits no remaining frontend needs.
    write_flags(target_flags);
    const auto write_done = steady::now();
    stats.write_ms = ms_between(write_start, write_done);

    // The maps now hold the plan's result: track it instead of reading back next time.
    if (!applied) applied.emplace();
    for (const auto& write : plan->writes) {
        current[write.key] = CurrentFrontend{write.value.id, write.value.listener_slot, stored_name(write.name),
                                             write.value.flags};
        applied->ids[write.value.id] = true;
    }
    for (const auto& stale : plan->deletes)
        if (auto it = current.find(stale); it != current.end()) {
            applied->ids[it->second.id] = false;
            current.erase(it);
        }
    for (const auto& add : plan->range_adds) current_ranges.insert(add);
    for (const auto& stale : plan->range_deletes) current_ranges.erase(stale);
    if (!changes) {
        applied->specs.assign(frontends);
        applied->ids.assign(XGRESS_MAX_FRONTENDS, false);
        for (const auto& [key, frontend] : current) applied->ids[frontend.id] = true;
    }
    applied->vips = std::move(vips);
    state_->frontends = std::move(tracked);
    state_->ranges = std::move(tracked_ranges);
    state_->nodeport_mirror_synced = true;

    // VIPs that no interface holds get a local route so the kernel delivers
    // them (and sk_lookup sees them); routes of VIPs gone are removed. While
    // the interfaces' addresses stay the same, only the changed keys'
    // addresses can change their route.
    auto held = local_node_addresses();
    if (!held) return std::unexpected(held.error());
    std::sort(held->begin(), held->end());
    held->erase(std::unique(held->begin(), held->end()), held->end());
    auto is_held = [&](const IpAddress& address) { return std::binary_search(held->begin(), held->end(), address); };
    std::expected<void, Error> routed;
    if (changes && *held == applied->held) {
        std::vector<IpAddress> add, drop;
        for (const auto& address : touched_addresses)
            (applied->specs.vip_address_used(address) && !is_held(address) ? add : drop).push_back(address);
        routed = change_local_routes(add, drop, state_->vip_routes);
    } else {
        std::vector<IpAddress> unheld;
        for (const auto& address : applied->specs.vip_addresses())
            if (!is_held(address)) unheld.push_back(address);
        routed = sync_local_routes(unheld, state_->vip_routes);
    }
    if (!routed) return std::unexpected(routed.error());
    applied->held = std::move(*held);
    state_->applied = std::move(applied);
    const auto end = steady::now();
    stats.routes_ms = ms_between(write_done, end);
    stats.total_ms = ms_between(start, end);
    stats.cpu_ms = thread_cpu_ms() - cpu_start;
    spdlog::info("frontends: {} desired, {} planned ({}), {} written, {} deleted; source ranges: {} added, {} "
                 "deleted; {} map writes in {:.2f} ms",
                 frontends.size(), stats.planned, stats.incremental ? "changed keys" : "all", plan->writes.size(),
                 plan->deletes.size(), plan->range_adds.size(), plan->range_deletes.size(), stats.map_write_calls,
                 stats.write_ms);
    return {};
}

std::expected<void, Error> Dataplane::set_listener(std::uint32_t slot, int socket_fd) {
    if (slot >= XGRESS_MAX_LISTENERS)
        return fail(fmt::format("listener slot {} out of range (max {})", slot, XGRESS_MAX_LISTENERS - 1));
    const std::uint64_t value = static_cast<std::uint64_t>(socket_fd);  // SOCKMAP value is 8 bytes
    if (bpf_map_update_elem(state_->fd(state_->skel->maps.listeners), &slot, &value, BPF_ANY) != 0)
        return fail(fmt::format("listener slot {}: {}", slot, errno_text(errno)));
    spdlog::info("listener slot {}: socket installed", slot);
    if (state_->link_switch_pending) {
        if (bpf_link_update(state_->link_fd, bpf_program__fd(state_->skel->progs.xgress_sk_lookup), nullptr) != 0)
            return fail(fmt::format("sk_lookup: switch link to the new program: {}", errno_text(errno)));
        state_->link_switch_pending = false;
        spdlog::info("sk_lookup: link switched to this agent's program");
    }
    return {};
}

std::expected<void, Error> Dataplane::cleanup(const Options& options) {
    route_bpf_library_logs_to_spdlog();
    const std::string libxdp_bpffs = choose_libxdp_bpffs(options.pin_root);
    const PinLayout layout{options.pin_root};

    // Interfaces may have lost their addresses since open(): look at all.
    const auto interfaces = options.interfaces.empty() ? all_non_loopback_interfaces() : options.interfaces;
    std::vector<std::string> problems;
    for (const auto& interface : interfaces)
        if (auto ok = detach_xdp(interface); !ok) problems.push_back(ok.error().message);

    auto remove = [&](const std::string& path, bool directory) {
        int rc = directory ? rmdir(path.c_str()) : unlink(path.c_str());
        if (rc != 0 && errno != ENOENT) problems.push_back(fmt::format("remove {}: {}", path, errno_text(errno)));
        else if (rc == 0) spdlog::info("cleanup: removed {}", path);
    };
    if (auto removed = remove_local_routes(); !removed) problems.push_back(removed.error().message);
    remove(layout.sk_lookup_link(), false);  // last reference: detaches sk_lookup
    remove(layout.links_dir(), true);
    for (const char* name : pinned_map_names()) remove(layout.map(name), false);
    for (const char* name : retired_map_names()) remove(layout.map(name), false);
    for (const auto& directory : moved_pin_directories(layout))
        if (auto left = remove_moved_pins(directory); !left.empty()) problems.push_back(left);
    if (libxdp_bpffs == options.pin_root) rmdir((options.pin_root + "/xdp").c_str());  // libxdp's, if now empty
    remove(options.pin_root, true);

    if (!problems.empty()) return fail(fmt::format("cleanup: {}", fmt::join(problems, "; ")));
    return {};
}

}  // namespace xgress::agent::dataplane

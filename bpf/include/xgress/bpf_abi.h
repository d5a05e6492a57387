/* The ABI between xgress's BPF programs and userspace: map names, keys,
 * values and constants. This header is the one source of truth; the BPF C
 * objects (bpf/) and the C++ agent and tools include it, and both sides check
 * the layouts below with static asserts so a mismatch fails the build rather
 * than corrupting a map.
 *
 * Plain C with fixed-width kernel types only (no padding holes: every struct
 * is explicitly padded), so it compiles with clang -target bpf and with g++.
 *
 * Maps (all pinned by name under the agent's pin root, e.g.
 * /sys/fs/bpf/xgress/<name>, so the XDP and sk_lookup objects share them and
 * survive an agent restart):
 *   frontends       HASH         xgress_frontend_key   -> xgress_frontend_value
 *   node_addrs      HASH         xgress_node_addr_key  -> xgress_node_addr_value
 *   frontend_stats  PERCPU_ARRAY frontend id           -> xgress_frontend_stats
 *                                (never reset: see frontend_stats_base)
 *   frontend_stats_base ARRAY    frontend id           -> xgress_frontend_stats
 *                                (userspace only: frontend_stats summed over
 *                                 CPUs when the agent (re)assigned the id; a
 *                                 frontend's counters are the difference)
 *   frontend_names  ARRAY        frontend id           -> xgress_frontend_name
 *                                (userspace only: lets xgressctl name a frontend)
 *   global_stats    PERCPU_ARRAY 0                     -> xgress_global_stats
 *   abi_info        ARRAY        0                     -> xgress_abi_info
 *   settings        ARRAY        0                     -> xgress_settings
 *   source_ranges   LPM_TRIE     xgress_source_range_key -> xgress_source_range_value
 *   listeners       SOCKMAP      listener slot         -> socket
 *   tables          ARRAY        0                     -> xgress_tables
 *                                (ABI 9: the programs' global data, their
 *                                 .bss section, one mmap-able value holding
 *                                 two arrays the classifiers read on every
 *                                 packet, addressed directly instead of
 *                                 through a map lookup:
 *                                 port_flags[port (host order)]: which kinds
 *                                 of frontend use a port (the fast path that
 *                                 lets unrelated traffic skip every hash
 *                                 lookup) and a copy of the port's TCP and
 *                                 UDP NodePort entries of frontends, id 0 =
 *                                 look in frontends;
 *                                 vip_frontends[xgress_vip_slot_index(key)]:
 *                                 a direct-mapped copy of the exact (VIP)
 *                                 entries of frontends, key + value inline; a
 *                                 miss goes to frontends only when the slot's
 *                                 OVERFLOW flag says another VIP hashing
 *                                 there lives only in the hash;
 *                                 node_addr_list: the first few node
 *                                 addresses inline, which the classifiers
 *                                 compare against instead of a hash lookup
 *                                 (node_addrs stays the truth). Until ABI 8
 *                                 the arrays were maps of their own, pinned
 *                                 as port_flags and vip_frontends, and until
 *                                 ABI 9 node_addr_list was.)
 */
#ifndef XGRESS_BPF_ABI_H
#define XGRESS_BPF_ABI_H

#include <linux/types.h>

/* Bumped on any incompatible change to a key, value or map below. The agent
 * writes it into abi_info; tools refuse to read maps of another version. */
#define XGRESS_ABI_VERSION 10 /* 2: source ranges, settings, drop counters; 3: port_flags;
			       4: node_addr_list, nodeport_frontends; 5: vip_frontends;
			       6: NodePort range in port_flags, xdp_packets derived;
			       7: xdp_matched derived, frontend_stats_base;
			       8: NodePort copies inside port_flags, nodeport_frontends gone;
			       9: port_flags and vip_frontends inside tables (global data);
			       10: node_addr_list inside tables too */

#define XGRESS_MAX_FRONTENDS 16384  /* ids 1..XGRESS_MAX_FRONTENDS-1; 0 = none */
#define XGRESS_MAX_NODE_ADDRS 256
#define XGRESS_MAX_LISTENERS 64
#define XGRESS_FRONTEND_NAME_LEN 64
#define XGRESS_MAX_SOURCE_RANGES 65536 /* (frontend, prefix) pairs over all frontends */
#define XGRESS_MAX_IPV6_EXT_HEADERS 6   /* extension headers walked before giving up */

/* Map names: also the file names of the pins under the pin root. */
#define XGRESS_MAP_FRONTENDS "frontends"
#define XGRESS_MAP_NODE_ADDRS "node_addrs"
#define XGRESS_MAP_FRONTEND_STATS "frontend_stats"
#define XGRESS_MAP_FRONTEND_NAMES "frontend_names"
#define XGRESS_MAP_GLOBAL_STATS "global_stats"
#define XGRESS_MAP_ABI_INFO "abi_info"
#define XGRESS_MAP_LISTENERS "listeners"
#define XGRESS_MAP_SETTINGS "settings"
#define XGRESS_MAP_SOURCE_RANGES "source_ranges"
#define XGRESS_MAP_PORT_FLAGS "port_flags" /* ABI 3-8 only: now inside tables */
#define XGRESS_MAP_NODE_ADDR_LIST "node_addr_list" /* ABI 4-9 only: now inside tables */
#define XGRESS_MAP_NODEPORT_FRONTENDS "nodeport_frontends" /* ABI 4-7 only: cleanup removes its pin */
#define XGRESS_MAP_VIP_FRONTENDS "vip_frontends" /* ABI 5-8 only: now inside tables */
#define XGRESS_MAP_TABLES "tables"
#define XGRESS_MAP_FRONTEND_STATS_BASE "frontend_stats_base"

/* Program names (BPF function names), as libxdp and bpftool report them. */
#define XGRESS_PROG_XDP "xgress_xdp"
#define XGRESS_PROG_SK_LOOKUP "xgress_sk_lookup"

/* xgress_frontend_key.flags */
#define XGRESS_FRONTEND_KEY_IPV6 0x01     /* addr holds an IPv6 address */
#define XGRESS_FRONTEND_KEY_NODEPORT 0x02 /* wildcard: addr all zero, matches only
                                             destinations listed in node_addrs */

/* A frontend: which (destination address, port, protocol) is ours.
 * Exact (VIP) entries carry the address; NodePort entries are wildcards with
 * a zero address and XGRESS_FRONTEND_KEY_NODEPORT, looked up only after the
 * exact lookup missed and the destination is a node address. IPv4 addresses
 * use addr[0..3], the rest is zero. */
struct xgress_frontend_key {
	__u8 addr[16];
	__be16 port;
	__u8 proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 flags; /* XGRESS_FRONTEND_KEY_* */
};

struct xgress_frontend_value {
	__u32 id;            /* index into frontend_stats / frontend_names */
	__u32 listener_slot; /* index into listeners (SOCKMAP) */
	__u32 flags;         /* XGRESS_FRONTEND_* */
};

/* xgress_frontend_value.flags */
#define XGRESS_FRONTEND_SOURCE_RANGES 0x01 /* only sources in source_ranges under this
					      frontend's id are allowed; others dropped */

/* loadBalancerSourceRanges: an LPM trie keyed by (frontend id, source
 * prefix). The frontend id comes first in the key data, so one trie holds
 * every frontend's ranges and a lookup never matches another frontend's.
 * Addresses are IPv6; IPv4 sources and prefixes are IPv4-mapped
 * (::ffff:a.b.c.d, prefix length + 96), because a NodePort frontend is one
 * entry for both families. prefixlen = 32 (the id) + address prefix length. */
struct xgress_source_range_key {
	__u32 prefixlen;
	__u32 frontend_id; /* host byte order; full 32 bits always matched */
	__u8 addr[16];
};

struct xgress_source_range_value {
	__u32 flags; /* reserved; zero. Presence means "allowed". */
};

/* Node-wide settings the agent writes at start. All zero (a fresh map) means
 * no NodePort range: nothing is dropped as unallocated. */
struct xgress_settings {
	__u16 node_port_min; /* host byte order, inclusive */
	__u16 node_port_max;
	__u32 flags;         /* XGRESS_SETTINGS_* */
};

#define XGRESS_SETTINGS_DROP_UNALLOCATED 0x01 /* drop (else pass) unallocated NodePorts */
#define XGRESS_SETTINGS_KEY 0

/* port_flags: one entry per destination port (index = port in host order)
 * saying which kinds of frontend use it. The classifiers read it first: a
 * port no frontend uses costs one array read and no hash lookup, and a port
 * used only by NodePorts (or only by VIPs) skips the other lookup. The agent
 * derives it from the frontends map: bits are set before a frontend entry is
 * written and cleared only after the last frontend on that port/protocol is
 * deleted, so a flag is never missing for an entry that exists. */
#define XGRESS_PORT_TCP_VIP 0x01      /* an exact (VIP) TCP frontend uses this port */
#define XGRESS_PORT_TCP_NODEPORT 0x02 /* a NodePort TCP frontend uses this port */
#define XGRESS_PORT_UDP_VIP 0x04
#define XGRESS_PORT_UDP_NODEPORT 0x08
#define XGRESS_PORT_UDP_SHIFT 2       /* UDP bits = TCP bits << 2 */
/* The NodePort range from settings, copied onto every port inside it (both
 * protocols) so the XDP program decides "unallocated NodePort?" from the
 * entry it already read, without a settings lookup. The agent rewrites these
 * bits when the range or the drop policy changes; settings stays the record. */
#define XGRESS_PORT_NODEPORT_RANGE 0x10
#define XGRESS_PORT_DROP_UNALLOCATED 0x20 /* with NODEPORT_RANGE: drop, else pass */
#define XGRESS_PORT_FLAGS_ENTRIES 65536

/* ABI 8: the entry also carries the port's NodePort frontends. NodePorts
 * are unique per (port, protocol), so each NodePort entry of frontends is
 * copied into its port's entry (tcp_nodeport / udp_nodeport): a served
 * NodePort is answered from the entry the classifiers read first, with no
 * further lookup (ABI 4-7 kept the copies in a separate nodeport_frontends
 * array: one inlined array lookup more, 3-4 % of a served NodePort packet,
 * measured). frontends stays the truth: a copy with id 0 sends the
 * classifier to the wildcard hash entry (its other fields are then
 * meaningless). The agent writes a copy after the hash entry (fields first,
 * the id last) and clears its id, alone, before deleting the hash entry, so
 * a reader that loaded the id just before still reads that frontend's
 * fields; ids are stable per frontend, so an in-place rewrite changes at
 * most listener_slot and flags. It is the only writer and stores only the
 * fields it means to change. */
struct xgress_port_flags {
	__u8 flags; /* XGRESS_PORT_* */
	__u8 pad[3];
	struct xgress_frontend_value tcp_nodeport;
	struct xgress_frontend_value udp_nodeport;
};

/* The NodePort copy of `entry` for `proto` (IPPROTO_TCP / IPPROTO_UDP). */
static inline struct xgress_frontend_value *xgress_port_nodeport_copy(struct xgress_port_flags *entry, __u8 proto)
{
	return proto == 17 /* IPPROTO_UDP */ ? &entry->udp_nodeport : &entry->tcp_nodeport;
}

struct xgress_node_addr_key {
	__u8 addr[16];
	__u8 ipv6; /* 1 = IPv6, 0 = IPv4 in addr[0..3] */
	__u8 pad[3];
};

struct xgress_node_addr_value {
	__u32 flags; /* reserved; zero */
};

/* vip_frontends: the exact (VIP) entries of frontends in a direct-mapped
 * array, so a served VIP costs an inlined array read and a 20-byte compare
 * instead of a jhash lookup (~25 ns measured, 2.5x the trivial program on its
 * own). The slot is a cheap multiplicative hash of the key, computed by the
 * agent and the classifiers with the one function below. Each slot holds at
 * most one VIP (its owner, id != 0); any other VIP hashing to the slot lives
 * only in frontends and the slot carries XGRESS_VIP_SLOT_OVERFLOW, so:
 *   owner matches            -> the slot's value
 *   no match, OVERFLOW set   -> look in frontends
 *   no match, OVERFLOW clear -> no VIP frontend (unrelated traffic to a VIP
 *                               port stays cheap)
 * frontends stays the truth (xgressctl reads it). Writer discipline (agent,
 * one field changing per write, readers load value.id first and flags after
 * a mismatch): hash entries are added before any slot changes and deleted
 * after; a slot that gives up an owner raises OVERFLOW first, then clears
 * value.id, then writes the new key and value with id 0, then the id, then
 * the final flags. */
#define XGRESS_VIP_SLOT_BITS 15
#define XGRESS_VIP_SLOTS (1u << XGRESS_VIP_SLOT_BITS) /* 2x XGRESS_MAX_FRONTENDS */
#define XGRESS_VIP_SLOT_OVERFLOW 0x01 /* a VIP hashing here is only in frontends */

struct xgress_vip_slot {
	struct xgress_frontend_key key;     /* the owner's key; meaningless when value.id == 0 */
	struct xgress_frontend_value value; /* value.id == 0: no owner */
	__u32 flags;                        /* XGRESS_VIP_SLOT_* */
	__u32 pad;
};

/* Slot of an exact key: the key's five 32-bit words (host order loads of
 * its bytes) folded with xor and a Fibonacci multiply, top bits kept. One
 * multiply: the classifier's budget is a few ns. The agent and the BPF
 * programs run on the same machine, so both sides see the same words. */
static inline __u32 xgress_vip_slot_of_words(__u32 w0, __u32 w1, __u32 w2, __u32 w3, __u32 w4)
{
	__u32 h = w0 ^ w1 ^ w2 ^ w3 ^ ((w4 << 7) | (w4 >> 25));
	return (h * 0x9E3779B1u) >> (32 - XGRESS_VIP_SLOT_BITS);
}

static inline __u32 xgress_vip_slot_index(const struct xgress_frontend_key *key)
{
	__u32 w[5];
	__builtin_memcpy(w, key, sizeof(w));
	return xgress_vip_slot_of_words(w[0], w[1], w[2], w[3], w[4]);
}

/* node_addr_list: the node's addresses inline in the tables, so the
 * classifiers answer "is this a node address?" with a few compares instead
 * of a hash lookup (a hit in node_addrs costs ~25 ns, measured; the compares
 * cost ~1). node_addrs stays the complete set: when a family has more
 * addresses than fit here, or the list was never written (all zero), its
 * COMPLETE flag is clear and a miss in the list falls back to node_addrs.
 * Written by the agent so that a reader never trusts a half-written list:
 * clear the flags, write the addresses, then set the flags (x86 stores are
 * seen in order, and readers load the flags before the addresses). */
#define XGRESS_NODE_ADDR_INLINE_V4 8
#define XGRESS_NODE_ADDR_INLINE_V6 8
#define XGRESS_NODE_ADDR_LIST_V4_COMPLETE 0x01 /* ipv4[] holds every IPv4 node address */
#define XGRESS_NODE_ADDR_LIST_V6_COMPLETE 0x02 /* ipv6[] holds every IPv6 node address */

struct xgress_node_addr_list {
	__u32 flags;      /* XGRESS_NODE_ADDR_LIST_* */
	__u32 ipv4_count; /* entries used in ipv4[] */
	__u32 ipv6_count; /* entries used in ipv6[] */
	__u32 pad;
	__u8 ipv4[XGRESS_NODE_ADDR_INLINE_V4][4];  /* network order */
	__u8 ipv6[XGRESS_NODE_ADDR_INLINE_V6][16];
};

/* tables (ABI 9, 10): port_flags, vip_frontends and node_addr_list as the
 * BPF programs' global data. Both objects (XDP and sk_lookup) declare one
 * variable of this type and nothing else in .bss, so their .bss maps have
 * the same layout and the agent pins one and has the other object reuse it.
 * A program addresses an entry with a constant address and an offset, where
 * an array map costs an inlined lookup (key to the stack, bounds check,
 * multiply, null check): 3-7 % of every classified packet, measured. The
 * agent writes the entries through an mmap of the map, word by word in the
 * orders described above (x86 stores become visible in program order).
 * node_addr_list comes last (ABI 10), so the two arrays keep ABI 9's
 * offsets. 3 MiB + 176 bytes. */
struct xgress_tables {
	struct xgress_port_flags port_flags[XGRESS_PORT_FLAGS_ENTRIES];
	struct xgress_vip_slot vip_frontends[XGRESS_VIP_SLOTS];
	struct xgress_node_addr_list node_addr_list;
};

/* Per-CPU, per frontend. userspace sums over CPUs. Never reset (ABI 7): a
 * reused id keeps counting from where its last frontend stopped, and the
 * agent records that point in frontend_stats_base, so a frontend's own
 * counters are frontend_stats - frontend_stats_base, while the sum of the
 * raw counters over every id only grows (xdp_matched is derived from it). */
struct xgress_frontend_stats {
	__u64 packets;
	__u64 bytes; /* whole frames as seen by XDP */
	__u64 syns;  /* TCP SYN without ACK: new connection attempts */
	__u64 source_range_drops; /* dropped: source outside loadBalancerSourceRanges
				     (not in packets/bytes/syns, which count what was let through) */
};

struct xgress_frontend_name {
	char name[XGRESS_FRONTEND_NAME_LEN]; /* NUL-terminated, may be truncated */
};

/* Per-CPU, single entry. */
struct xgress_global_stats {
	__u64 xdp_packets;       /* every frame XDP saw. Not counted by the program
				  * (ABI 6): one increment fewer per packet; every
				  * frame lands in exactly one of the xdp_* outcome
				  * counters below, so readers derive it with
				  * xgress_derive_xdp_packets(). */
	__u64 xdp_non_ip;        /* neither IPv4 nor IPv6 (after VLAN tags) */
	__u64 xdp_unparsed;      /* truncated or malformed headers */
	__u64 xdp_fragments;     /* IPv4/IPv6 non-first fragments: no L4 header */
	__u64 xdp_other_l4;      /* IP but neither TCP nor UDP */
	__u64 xdp_not_ours;      /* TCP/UDP matching no frontend: passed untouched */
	__u64 xdp_matched;       /* matched a frontend. Not counted by the program
				  * (ABI 7): the per-frontend counters already
				  * count each such frame once, so readers derive
				  * it as the sum over every id of the raw
				  * frontend_stats (xgress_frontend_stats_matched)
				  * and the XDP path pays one lookup and one
				  * increment fewer per served packet. */
	__u64 sk_lookup_assigned;    /* connection steered to a listener */
	__u64 sk_lookup_no_listener; /* frontend matched, slot empty: kernel decides */
	__u64 sk_lookup_assign_failed;
	__u64 xdp_nodeport_unallocated; /* node address, NodePort range, no frontend */
	__u64 xdp_nodeport_dropped;     /* ...of which dropped (settings say drop) */
	__u64 xdp_source_denied;        /* dropped by a frontend's source ranges */
	__u64 sk_lookup_source_denied;  /* not steered: source outside the ranges */
};

/* Every xgress_global_stats field in declaration order, for userspace code
 * that sums or prints them all: X(field). Checked against the struct size. */
#define XGRESS_GLOBAL_STATS_FIELDS(X)                                            \
	X(xdp_packets) X(xdp_non_ip) X(xdp_unparsed) X(xdp_fragments)           \
	X(xdp_other_l4) X(xdp_not_ours) X(xdp_matched) X(sk_lookup_assigned)    \
	X(sk_lookup_no_listener) X(sk_lookup_assign_failed)                     \
	X(xdp_nodeport_unallocated) X(xdp_nodeport_dropped) X(xdp_source_denied) \
	X(sk_lookup_source_denied)
#define XGRESS_COUNT_ONE_FIELD(field) +1
#define XGRESS_GLOBAL_STATS_COUNT (0 XGRESS_GLOBAL_STATS_FIELDS(XGRESS_COUNT_ONE_FIELD))

struct xgress_abi_info {
	__u32 abi_version;
	__u32 pad;
};

/* The port_flags bit a frontend entry needs (the entry's port is its index). */
static inline __u8 xgress_port_flag_for(const struct xgress_frontend_key *key)
{
	__u8 bit = (key->flags & XGRESS_FRONTEND_KEY_NODEPORT) ? XGRESS_PORT_TCP_NODEPORT : XGRESS_PORT_TCP_VIP;
	return key->proto == 17 /* IPPROTO_UDP */ ? (__u8)(bit << XGRESS_PORT_UDP_SHIFT) : bit;
}

/* A frontend_stats row's share of xdp_matched: every matched frame is
 * either let through (packets) or dropped by the source ranges. */
static inline __u64 xgress_frontend_stats_matched(const struct xgress_frontend_stats *s)
{
	return s->packets + s->source_range_drops;
}

/* Fills xdp_packets of a summed row (xdp_matched already derived) from its
 * outcome counters:
 * non_ip + unparsed + fragments + other_l4 + not_ours + nodeport_unallocated
 * + matched (nodeport_dropped and source_denied are subsets, not outcomes). */
static inline void xgress_derive_xdp_packets(struct xgress_global_stats *g)
{
	g->xdp_packets = g->xdp_non_ip + g->xdp_unparsed + g->xdp_fragments + g->xdp_other_l4 + g->xdp_not_ours +
			 g->xdp_nodeport_unallocated + g->xdp_matched;
}

#define XGRESS_GLOBAL_STATS_KEY 0
#define XGRESS_ABI_INFO_KEY 0

#ifdef __cplusplus
#define XGRESS_STATIC_ASSERT static_assert
#else
#define XGRESS_STATIC_ASSERT _Static_assert
#endif

/* Layouts are part of the ABI: checked the same way on both sides. */
XGRESS_STATIC_ASSERT(sizeof(struct xgress_frontend_key) == 20, "frontend key size");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_frontend_key, port) == 16, "port offset");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_frontend_key, proto) == 18, "proto offset");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_frontend_key, flags) == 19, "flags offset");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_frontend_value) == 12, "frontend value size");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_frontend_value, listener_slot) == 4,
		     "listener_slot offset");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_node_addr_key) == 20, "node addr key size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_node_addr_value) == 4, "node addr value size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_frontend_stats) == 32, "frontend stats size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_source_range_key) == 24, "source range key size");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_source_range_key, addr) == 8, "source addr offset");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_source_range_value) == 4, "source range value size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_settings) == 8, "settings size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_frontend_name) == XGRESS_FRONTEND_NAME_LEN,
		     "frontend name size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_global_stats) == 112, "global stats size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_global_stats) == 8 * XGRESS_GLOBAL_STATS_COUNT,
		     "XGRESS_GLOBAL_STATS_FIELDS lists every counter");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_abi_info) == 8, "abi info size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_node_addr_list) ==
			     16 + 4 * XGRESS_NODE_ADDR_INLINE_V4 + 16 * XGRESS_NODE_ADDR_INLINE_V6,
		     "node addr list size");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_node_addr_list, ipv6) == 16 + 4 * XGRESS_NODE_ADDR_INLINE_V4,
		     "node addr list ipv6 offset");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_port_flags) == 28, "port flags size");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_port_flags, tcp_nodeport) == 4, "port tcp nodeport offset");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_port_flags, udp_nodeport) == 16, "port udp nodeport offset");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_vip_slot) == 40, "vip slot size");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_vip_slot, value) == 20, "vip slot value offset");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_vip_slot, flags) == 32, "vip slot flags offset");
XGRESS_STATIC_ASSERT(__builtin_offsetof(struct xgress_tables, node_addr_list) == 3u << 20, "tables layout");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_tables) == (3u << 20) + sizeof(struct xgress_node_addr_list), "tables size");
XGRESS_STATIC_ASSERT(XGRESS_PORT_UDP_VIP == XGRESS_PORT_TCP_VIP << XGRESS_PORT_UDP_SHIFT, "udp vip bit");
XGRESS_STATIC_ASSERT(XGRESS_PORT_UDP_NODEPORT == XGRESS_PORT_TCP_NODEPORT << XGRESS_PORT_UDP_SHIFT,
		     "udp nodeport bit");

#undef XGRESS_STATIC_ASSERT

#endif /* XGRESS_BPF_ABI_H */

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
 *   frontend_names  ARRAY        frontend id           -> xgress_frontend_name
 *                                (userspace only: lets xgressctl name a frontend)
 *   global_stats    PERCPU_ARRAY 0                     -> xgress_global_stats
 *   abi_info        ARRAY        0                     -> xgress_abi_info
 *   listeners       SOCKMAP      listener slot         -> socket
 */
#ifndef XGRESS_BPF_ABI_H
#define XGRESS_BPF_ABI_H

#include <linux/types.h>

/* Bumped on any incompatible change to a key, value or map below. The agent
 * writes it into abi_info; tools refuse to read maps of another version. */
#define XGRESS_ABI_VERSION 1

#define XGRESS_MAX_FRONTENDS 8192   /* ids 1..XGRESS_MAX_FRONTENDS-1; 0 = none */
#define XGRESS_MAX_NODE_ADDRS 256
#define XGRESS_MAX_LISTENERS 64
#define XGRESS_FRONTEND_NAME_LEN 64

/* Map names: also the file names of the pins under the pin root. */
#define XGRESS_MAP_FRONTENDS "frontends"
#define XGRESS_MAP_NODE_ADDRS "node_addrs"
#define XGRESS_MAP_FRONTEND_STATS "frontend_stats"
#define XGRESS_MAP_FRONTEND_NAMES "frontend_names"
#define XGRESS_MAP_GLOBAL_STATS "global_stats"
#define XGRESS_MAP_ABI_INFO "abi_info"
#define XGRESS_MAP_LISTENERS "listeners"

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
	__u32 flags;         /* reserved for drop/filter policy; zero today */
};

struct xgress_node_addr_key {
	__u8 addr[16];
	__u8 ipv6; /* 1 = IPv6, 0 = IPv4 in addr[0..3] */
	__u8 pad[3];
};

struct xgress_node_addr_value {
	__u32 flags; /* reserved; zero */
};

/* Per-CPU, per frontend. userspace sums over CPUs. */
struct xgress_frontend_stats {
	__u64 packets;
	__u64 bytes; /* whole frames as seen by XDP */
	__u64 syns;  /* TCP SYN without ACK: new connection attempts */
};

struct xgress_frontend_name {
	char name[XGRESS_FRONTEND_NAME_LEN]; /* NUL-terminated, may be truncated */
};

/* Per-CPU, single entry. */
struct xgress_global_stats {
	__u64 xdp_packets;       /* every frame XDP saw */
	__u64 xdp_non_ip;        /* neither IPv4 nor IPv6 (after VLAN tags) */
	__u64 xdp_unparsed;      /* truncated or malformed headers */
	__u64 xdp_fragments;     /* IPv4 non-first fragments: no L4 header */
	__u64 xdp_other_l4;      /* IP but neither TCP nor UDP */
	__u64 xdp_not_ours;      /* TCP/UDP matching no frontend: passed untouched */
	__u64 xdp_matched;       /* matched a frontend */
	__u64 sk_lookup_assigned;    /* connection steered to a listener */
	__u64 sk_lookup_no_listener; /* frontend matched, slot empty: kernel decides */
	__u64 sk_lookup_assign_failed;
};

struct xgress_abi_info {
	__u32 abi_version;
	__u32 pad;
};

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
XGRESS_STATIC_ASSERT(sizeof(struct xgress_frontend_stats) == 24, "frontend stats size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_frontend_name) == XGRESS_FRONTEND_NAME_LEN,
		     "frontend name size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_global_stats) == 80, "global stats size");
XGRESS_STATIC_ASSERT(sizeof(struct xgress_abi_info) == 8, "abi info size");

#undef XGRESS_STATIC_ASSERT

#endif /* XGRESS_BPF_ABI_H */

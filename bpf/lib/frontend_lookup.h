/* Frontend classification shared by XDP and sk_lookup: the exact (VIP) entry
 * wins (its direct-mapped copy in vip_frontends, the frontends hash only when
 * the slot says a colliding VIP lives there); otherwise a NodePort entry applies (its copy in
 * the port's port_flags entry, else the wildcard hash entry), but only when the
 * destination is one of this node's addresses (node_addr_list, else the
 * node_addrs hash), so traffic to pods or other hosts routed through the node
 * is never mistaken for ours. The per-port flags come first, so traffic to a
 * port no frontend uses costs one array read and no hash lookup. Also the
 * per-frontend source-range check. (The NodePort range is read from
 * port_flags, see XGRESS_PORT_NODEPORT_RANGE.) */
#ifndef XGRESS_BPF_LIB_FRONTEND_LOOKUP_H
#define XGRESS_BPF_LIB_FRONTEND_LOOKUP_H

#include <linux/in.h>
#include <bpf/bpf_endian.h>

#include "maps.h"

/* The port_flags entry of `port` (network order), in the global data (ABI
 * 9): a constant address plus an offset, no lookup. Never null (callers
 * still check, which the compiler drops). */
static __always_inline const struct xgress_port_flags *xgress_port_entry_of(__be16 port)
{
	__u32 index = bpf_ntohs(port);
	/* The verifier does not bound a byte swap's result: the mask does, and
	 * the barrier keeps the compiler (which knows it is a no-op) from
	 * dropping it. */
	asm volatile("" : "+r"(index));
	return &xgress_tables.port_flags[index & (XGRESS_PORT_FLAGS_ENTRIES - 1)];
}

/* Which kinds of frontend use the port with these `flags` for `proto`, as
 * the two TCP bit positions (XGRESS_PORT_TCP_VIP / _NODEPORT) whatever the
 * protocol. Zero for a port nobody serves: the caller can stop here. */
static __always_inline __u32 xgress_port_kinds_in(__u32 flags, __u8 proto)
{
	/* Without a branch: proto is TCP (6) or UDP (17) here, and only UDP
	 * has bit 4 set, which becomes the shift of 2. */
	_Static_assert(XGRESS_PORT_UDP_SHIFT == 2 && (IPPROTO_UDP & 0x10) == 0x10 && (IPPROTO_TCP & 0x10) == 0,
		       "branchless UDP shift");
	flags >>= (proto & 0x10) >> 3;
	return flags & (XGRESS_PORT_TCP_VIP | XGRESS_PORT_TCP_NODEPORT);
}

/* The inline list first (see xgress_node_addr_list): a hit, or a miss in a
 * family the list holds completely, answers without the hash lookup.
 * Returns 1 / 0, or -1 when only node_addrs can tell. */
static __always_inline int xgress_node_addr_list_says(const struct xgress_frontend_key *key)
{
	const struct xgress_node_addr_list *list = &xgress_tables.node_addr_list; /* global data, ABI 10 */
	asm volatile("" : "+r"(list)); /* one register, see xgress_lookup_vip_v4 */
	__u32 flags = list->flags;
	/* The flags before the addresses: the agent sets them last. */
	asm volatile("" : "+r"(flags) : : "memory");
	if (!(key->flags & XGRESS_FRONTEND_KEY_IPV6)) {
		__u32 dst, count = list->ipv4_count;
		__builtin_memcpy(&dst, key->addr, 4);
#pragma unroll
		for (int i = 0; i < XGRESS_NODE_ADDR_INLINE_V4; i++) {
			if (i >= count)
				break;
			__u32 entry;
			__builtin_memcpy(&entry, list->ipv4[i], 4);
			if (entry == dst)
				return 1;
		}
		return (flags & XGRESS_NODE_ADDR_LIST_V4_COMPLETE) ? 0 : -1;
	}
	__u64 hi, lo;
	__u32 count = list->ipv6_count;
	__builtin_memcpy(&hi, key->addr, 8);
	__builtin_memcpy(&lo, key->addr + 8, 8);
#pragma unroll
	for (int i = 0; i < XGRESS_NODE_ADDR_INLINE_V6; i++) {
		if (i >= count)
			break;
		__u64 entry_hi, entry_lo;
		__builtin_memcpy(&entry_hi, list->ipv6[i], 8);
		__builtin_memcpy(&entry_lo, list->ipv6[i] + 8, 8);
		if (entry_hi == hi && entry_lo == lo)
			return 1;
	}
	return (flags & XGRESS_NODE_ADDR_LIST_V6_COMPLETE) ? 0 : -1;
}

/* Is the destination in `key` (flags 0 or XGRESS_FRONTEND_KEY_IPV6) one of
 * this node's addresses? */
static __always_inline int xgress_is_node_address(const struct xgress_frontend_key *key)
{
	int listed = xgress_node_addr_list_says(key);
	if (listed >= 0)
		return listed;
	struct xgress_node_addr_key node = {};
	__builtin_memcpy(node.addr, key->addr, sizeof(node.addr));
	node.ipv6 = (key->flags & XGRESS_FRONTEND_KEY_IPV6) ? 1 : 0;
	return bpf_map_lookup_elem(&node_addrs, &node) != 0;
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xgress_key_fill builds the key's last word assuming little-endian"
#endif

typedef __u32 __attribute__((may_alias)) xgress_u32_alias;

/* Fills a lookup key with five 32-bit stores, and every reader below loads
 * it back 32 bits at a time: a load spanning several narrower stores (the
 * u16 port, u8 proto and u8 flags written one by one, read as one word)
 * cannot be forwarded from the store buffer and stalls ~12 cycles on x86,
 * which measured as +13 ns per VIP packet. `key` must be 4-byte aligned
 * (declare it with XGRESS_KEY_ALIGN). */
#define XGRESS_KEY_ALIGN __attribute__((aligned(8)))

static __always_inline void xgress_key_fill(struct xgress_frontend_key *key, __u32 a0, __u32 a1, __u32 a2, __u32 a3,
					    __be16 port, __u8 proto, __u8 flags)
{
	xgress_u32_alias *w = (xgress_u32_alias *)key;
	w[0] = a0;
	w[1] = a1;
	w[2] = a2;
	w[3] = a3;
	w[4] = (__u32)port | (__u32)proto << 16 | (__u32)flags << 24;
}

/* The exact (VIP) entry for `key` (see xgress_vip_slot in bpf_abi.h). */
static __always_inline struct xgress_frontend_value *xgress_lookup_vip(const struct xgress_frontend_key *key)
{
	const xgress_u32_alias *w = (const xgress_u32_alias *)key;
	__u32 w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4];
	__u32 index = xgress_vip_slot_of_words(w0, w1, w2, w3, w4);
	struct xgress_vip_slot *slot = &xgress_tables.vip_frontends[index]; /* index < XGRESS_VIP_SLOTS */
	asm volatile("" : "+r"(slot)); /* one register, see xgress_lookup_vip_v4 */
	/* The id before the key and the flags: the agent writes the id last
	 * when a slot gains an owner and clears it first when it loses one. */
	__u32 id = slot->value.id;
	asm volatile("" : "+r"(id) : : "memory");
	if (id) {
		const xgress_u32_alias *s = (const xgress_u32_alias *)slot; /* slots are 8-byte aligned (see xgress_tables) */
		if (s[0] == w0 && s[1] == w1 && s[2] == w2 && s[3] == w3 && s[4] == w4)
			return &slot->value;
	}
	if (!(slot->flags & XGRESS_VIP_SLOT_OVERFLOW))
		return 0;
	return bpf_map_lookup_elem(&frontends, key);
}

/* IPv4 forms of the lookups above, on scalars instead of a key in memory:
 * the XDP program's IPv4 path keeps the destination (one word) and the key's
 * last word (port | proto << 16) in registers across the inlined map
 * lookups, where the key form kept five words and several flags live and
 * the compiler spilled them to the stack and back (~40 % of the old served
 * path's instructions were such spills and merges). Same answers, same
 * maps, same reader discipline. */

/* xgress_is_node_address for an IPv4 destination (network order word). */
static __always_inline int xgress_is_node_address_v4(__u32 daddr)
{
	const struct xgress_node_addr_list *list = &xgress_tables.node_addr_list; /* global data, ABI 10 */
	asm volatile("" : "+r"(list)); /* one register, see xgress_lookup_vip_v4 */
	__u32 flags = list->flags;
	/* The flags before the addresses: the agent sets them last. */
	asm volatile("" : "+r"(flags) : : "memory");
	__u32 count = list->ipv4_count;
	const xgress_u32_alias *entries = (const xgress_u32_alias *)list->ipv4;
#pragma unroll
	for (int i = 0; i < XGRESS_NODE_ADDR_INLINE_V4; i++) {
		if (i >= count)
			break;
		if (entries[i] == daddr)
			return 1;
	}
	if (flags & XGRESS_NODE_ADDR_LIST_V4_COMPLETE)
		return 0;
	struct xgress_node_addr_key node = {};
	*(xgress_u32_alias *)node.addr = daddr;
	return bpf_map_lookup_elem(&node_addrs, &node) != 0;
}

/* xgress_lookup_vip for the IPv4 key (daddr, 0, 0, 0, w4). */
static __always_inline struct xgress_frontend_value *xgress_lookup_vip_v4(__u32 daddr, __u32 w4)
{
	/* xgress_vip_slot_of_words(daddr, 0, 0, 0, w4) without the rotate's
	 * right half: an IPv4 key's w4 (port | proto << 16, flags 0) is below
	 * 2^25, so w4 >> 25 is 0. */
	__u32 index = ((daddr ^ (w4 << 7)) * 0x9E3779B1u) >> (32 - XGRESS_VIP_SLOT_BITS);
	struct xgress_vip_slot *slot = &xgress_tables.vip_frontends[index];
	/* One register for the slot: otherwise clang rebuilds its address from
	 * the tables' constant address for every field it reads. */
	asm volatile("" : "+r"(slot));
	__u32 id = slot->value.id; /* before the key: see xgress_lookup_vip */
	asm volatile("" : "+r"(id) : : "memory");
	if (id) {
		/* Slots are 8-byte aligned: words 0-1 as one load (an IPv4
		 * key's word 1 is zero), words 2-3 as another. */
		const __u64 *s64 = (const __u64 *)slot;
		const xgress_u32_alias *s = (const xgress_u32_alias *)slot;
		if (s64[0] == (__u64)daddr && s64[1] == 0 && s[4] == w4)
			return &slot->value;
	}
	if (!(slot->flags & XGRESS_VIP_SLOT_OVERFLOW))
		return 0;
	struct xgress_frontend_key key XGRESS_KEY_ALIGN;
	xgress_u32_alias *w = (xgress_u32_alias *)&key;
	w[0] = daddr;
	w[1] = 0;
	w[2] = 0;
	w[3] = 0;
	w[4] = w4;
	return bpf_map_lookup_elem(&frontends, &key);
}

/* The NodePort frontend for (port, proto) once the destination is known to
 * be a node address: the copy in the port's port_flags entry (ABI 8; `entry`
 * is what xgress_port_entry_of returned), else the wildcard hash entry. */
static __always_inline struct xgress_frontend_value *xgress_lookup_nodeport(const struct xgress_port_flags *entry,
									    __be16 port, __u8 proto)
{
	if (entry) {
		/* tcp_nodeport or, 12 bytes on, udp_nodeport: without a branch
		 * (only UDP's protocol number has bit 4 set). */
		_Static_assert(__builtin_offsetof(struct xgress_port_flags, udp_nodeport) -
					       __builtin_offsetof(struct xgress_port_flags, tcp_nodeport) ==
				       12,
			       "nodeport copies adjacent");
		const struct xgress_frontend_value *copy =
			(const void *)&entry->tcp_nodeport + ((proto & 0x10) >> 4) * 12;
		if (copy->id)
			return (struct xgress_frontend_value *)copy;
	}
	struct xgress_frontend_key key XGRESS_KEY_ALIGN;
	xgress_key_fill(&key, 0, 0, 0, 0, port, proto, XGRESS_FRONTEND_KEY_NODEPORT);
	return bpf_map_lookup_elem(&frontends, &key);
}

/* `key` must hold the destination with flags = 0 or XGRESS_FRONTEND_KEY_IPV6;
 * `entry` (the port's port_flags entry) and `kinds` (xgress_port_kinds_in of
 * its flags) limit which lookups are tried.
 * *to_node is set to 1 or 0
 * when the node-address check ran, and left at -1 (unknown) when it did not
 * need to: the unallocated-NodePort decision runs it then only if the port is
 * in the NodePort range. */
static __always_inline struct xgress_frontend_value *
xgress_lookup_frontend(struct xgress_frontend_key *key, const struct xgress_port_flags *entry, __u32 kinds,
		       int *to_node)
{
	*to_node = -1;
	if (kinds & XGRESS_PORT_TCP_VIP) {
		struct xgress_frontend_value *value = xgress_lookup_vip(key);
		if (value)
			return value;
	}
	if (!(kinds & XGRESS_PORT_TCP_NODEPORT))
		return 0;
	*to_node = xgress_is_node_address(key);
	if (!*to_node)
		return 0;
	return xgress_lookup_nodeport(entry, key->port, key->proto);
}

/* `source` is IPv6 or IPv4-mapped (see xgress_source_range_key). */
static __always_inline int xgress_source_allowed(const struct xgress_frontend_value *frontend,
						 const __u8 source[16])
{
	if (!(frontend->flags & XGRESS_FRONTEND_SOURCE_RANGES))
		return 1;
	struct xgress_source_range_key key = {};
	key.prefixlen = 32 + 128;
	key.frontend_id = frontend->id;
	__builtin_memcpy(key.addr, source, 16);
	return bpf_map_lookup_elem(&source_ranges, &key) != 0;
}

#endif

/* Frontend classification shared by XDP and sk_lookup: the exact (VIP) entry
 * wins; otherwise a NodePort wildcard entry applies, but only when the
 * destination is one of this node's addresses, so traffic to pods or other
 * hosts routed through the node is never mistaken for ours. Also the
 * per-frontend source-range check and the unallocated-NodePort test. */
#ifndef XGRESS_BPF_LIB_FRONTEND_LOOKUP_H
#define XGRESS_BPF_LIB_FRONTEND_LOOKUP_H

#include "maps.h"

/* `key` must hold the destination with flags = 0 or XGRESS_FRONTEND_KEY_IPV6;
 * it is clobbered when the wildcard is tried. *to_node is set when the
 * destination is a node address (whether or not a frontend matched), which
 * the caller needs for the unallocated-NodePort decision. */
static __always_inline struct xgress_frontend_value *
xgress_lookup_frontend(struct xgress_frontend_key *key, int *to_node)
{
	*to_node = 0;
	struct xgress_frontend_value *value = bpf_map_lookup_elem(&frontends, key);
	if (value)
		return value;

	struct xgress_node_addr_key node = {};
	__builtin_memcpy(node.addr, key->addr, sizeof(node.addr));
	node.ipv6 = (key->flags & XGRESS_FRONTEND_KEY_IPV6) ? 1 : 0;
	if (!bpf_map_lookup_elem(&node_addrs, &node))
		return 0;
	*to_node = 1;

	__builtin_memset(key->addr, 0, sizeof(key->addr));
	key->flags = XGRESS_FRONTEND_KEY_NODEPORT;
	return bpf_map_lookup_elem(&frontends, key);
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

/* Destination port (host order) inside the configured NodePort range?
 * A missing or zero range (settings not written yet) is never inside. */
static __always_inline const struct xgress_settings *xgress_settings(void)
{
	__u32 key = XGRESS_SETTINGS_KEY;
	return bpf_map_lookup_elem(&settings, &key);
}

static __always_inline int xgress_in_node_port_range(const struct xgress_settings *s, __u16 port)
{
	return s && s->node_port_max != 0 && port >= s->node_port_min && port <= s->node_port_max;
}

#endif

/* Frontend classification shared by XDP and sk_lookup: the exact (VIP) entry
 * wins; otherwise a NodePort wildcard entry applies, but only when the
 * destination is one of this node's addresses, so traffic to pods or other
 * hosts routed through the node is never mistaken for ours. */
#ifndef XGRESS_BPF_LIB_FRONTEND_LOOKUP_H
#define XGRESS_BPF_LIB_FRONTEND_LOOKUP_H

#include "maps.h"

/* `key` must hold the destination with flags = 0 or XGRESS_FRONTEND_KEY_IPV6;
 * it is clobbered when the wildcard is tried. */
static __always_inline struct xgress_frontend_value *
xgress_lookup_frontend(struct xgress_frontend_key *key)
{
	struct xgress_frontend_value *value = bpf_map_lookup_elem(&frontends, key);
	if (value)
		return value;

	struct xgress_node_addr_key node = {};
	__builtin_memcpy(node.addr, key->addr, sizeof(node.addr));
	node.ipv6 = (key->flags & XGRESS_FRONTEND_KEY_IPV6) ? 1 : 0;
	if (!bpf_map_lookup_elem(&node_addrs, &node))
		return 0;

	__builtin_memset(key->addr, 0, sizeof(key->addr));
	key->flags = XGRESS_FRONTEND_KEY_NODEPORT;
	return bpf_map_lookup_elem(&frontends, key);
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* XDP ingress classifier: finds the frontend a packet is addressed to and
 *   - drops it when the frontend has source ranges and the source is outside
 *     them (counted on the frontend and globally);
 *   - otherwise counts it on the frontend (packets, bytes, SYNs) and passes it.
 * A packet to a node address on a port inside the NodePort range that no
 * frontend serves is dropped early (or passed, per the agent's setting, which
 * it copies into port_flags) and counted.
 * Everything else — not ours, not parseable, non-first fragments — is passed
 * untouched and counted globally: never break the node.
 *
 * Loaded through libxdp's dispatcher so it coexists with other XDP programs;
 * the run config below sets its place in the chain. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "lib/frontend_lookup.h"
#include "lib/maps.h"
#include "lib/parsing.h"
#include "lib/stats.h"

/* Early in the chain (lower runs first) so counters see the original frame;
 * continue the chain on XDP_PASS so programs after us still run. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xgress_xdp);

static __always_inline void count_parse_failure(struct xgress_global_stats *g, int result)
{
	switch (result) {
	case XGRESS_PARSE_NON_IP:
		XGRESS_COUNT(g, xdp_non_ip);
		break;
	case XGRESS_PARSE_FRAGMENT:
		XGRESS_COUNT(g, xdp_fragments);
		break;
	case XGRESS_PARSE_OTHER_L4:
		XGRESS_COUNT(g, xdp_other_l4);
		break;
	default: /* truncated, malformed, too many IPv6 extension headers */
		XGRESS_COUNT(g, xdp_unparsed);
		break;
	}
}

/* xgress_source_allowed for a parsed packet: the source in the ranges
 * form (IPv6, or IPv4-mapped ::ffff:a.b.c.d) is built only here, for the
 * frontends that have ranges. */
static __always_inline int packet_source_allowed(const struct xgress_frontend_value *frontend,
						 const struct xgress_packet *pkt)
{
	if (!(frontend->flags & XGRESS_FRONTEND_SOURCE_RANGES))
		return 1;
	__u8 source[16] = {};
	if (pkt->ipv6) {
		__builtin_memcpy(source, pkt->saddr, 16);
	} else {
		source[10] = 0xff;
		source[11] = 0xff;
		__builtin_memcpy(&source[12], pkt->saddr, 4);
	}
	return xgress_source_allowed(frontend, source);
}

SEC("xdp")
int xgress_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* Global counters are looked up where the packet's outcome is known,
	 * and each packet bumps exactly one outcome counter: xdp_packets is
	 * their sum (xgress_derive_xdp_packets), not a second increment. */
	struct xgress_global_stats *g;

	struct xgress_packet pkt XGRESS_KEY_ALIGN = {};
	int result = xgress_parse_packet(data, data_end, &pkt);
	if (result != XGRESS_PARSE_OK) {
		g = xgress_global_stats();
		count_parse_failure(g, result);
		return XDP_PASS;
	}

	/* One port_flags read answers both "which frontends use this port?"
	 * and "is it inside the NodePort range, and drop if unallocated?". */
	const __u32 port_flags_entry = xgress_port_flags_of(pkt.dport);
	const __u32 kinds = xgress_port_kinds_in(port_flags_entry, pkt.proto);
	struct xgress_frontend_key key XGRESS_KEY_ALIGN;
	const xgress_u32_alias *daddr = (const xgress_u32_alias *)pkt.daddr;
	xgress_key_fill(&key, daddr[0], daddr[1], daddr[2], daddr[3], pkt.dport, pkt.proto,
			pkt.ipv6 ? XGRESS_FRONTEND_KEY_IPV6 : 0);
	int to_node = -1;
	struct xgress_frontend_value *frontend = 0;
	if (kinds)
		frontend = xgress_lookup_frontend(&key, kinds, &to_node);
	g = xgress_global_stats();
	if (!frontend) {
		/* Unallocated NodePort? The node-address check only for ports
		 * inside the range, and only if the lookup above did not run it. */
		if (port_flags_entry & XGRESS_PORT_NODEPORT_RANGE) {
			if (to_node < 0)
				to_node = xgress_is_node_address(&key);
			if (to_node) {
				XGRESS_COUNT(g, xdp_nodeport_unallocated);
				if (port_flags_entry & XGRESS_PORT_DROP_UNALLOCATED) {
					XGRESS_COUNT(g, xdp_nodeport_dropped);
					return XDP_DROP;
				}
				return XDP_PASS;
			}
		}
		XGRESS_COUNT(g, xdp_not_ours);
		return XDP_PASS;
	}
	XGRESS_COUNT(g, xdp_matched);

	__u32 id = frontend->id;
	struct xgress_frontend_stats *stats = bpf_map_lookup_elem(&frontend_stats, &id);
	if (!packet_source_allowed(frontend, &pkt)) {
		XGRESS_COUNT(g, xdp_source_denied);
		if (stats)
			stats->source_range_drops++;
		return XDP_DROP;
	}
	if (stats) {
		stats->packets++;
		stats->bytes += data_end - data;
		if (pkt.tcp_syn) /* most packets are not: no third store for them */
			stats->syns++;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

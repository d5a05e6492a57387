// SPDX-License-Identifier: GPL-2.0
/* XDP ingress classifier: finds the frontend a packet is addressed to and
 * counts it (packets, bytes, SYNs). Everything is passed for now; dropping
 * unserved NodePorts and denied sources comes later. Traffic that is not ours
 * is passed untouched: never break the node.
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
	default:
		XGRESS_COUNT(g, xdp_unparsed);
		break;
	}
}

SEC("xdp")
int xgress_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xgress_global_stats *g = xgress_global_stats();
	XGRESS_COUNT(g, xdp_packets);

	struct xgress_packet pkt = {};
	int result = xgress_parse_packet(data, data_end, &pkt);
	if (result != XGRESS_PARSE_OK) {
		count_parse_failure(g, result);
		return XDP_PASS;
	}

	struct xgress_frontend_key key = {};
	__builtin_memcpy(key.addr, pkt.daddr, sizeof(key.addr));
	key.port = pkt.dport;
	key.proto = pkt.proto;
	key.flags = pkt.ipv6 ? XGRESS_FRONTEND_KEY_IPV6 : 0;
	struct xgress_frontend_value *frontend = xgress_lookup_frontend(&key);
	if (!frontend) {
		XGRESS_COUNT(g, xdp_not_ours);
		return XDP_PASS;
	}
	XGRESS_COUNT(g, xdp_matched);

	__u32 id = frontend->id;
	struct xgress_frontend_stats *stats = bpf_map_lookup_elem(&frontend_stats, &id);
	if (stats) {
		stats->packets++;
		stats->bytes += data_end - data;
		stats->syns += pkt.tcp_syn;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

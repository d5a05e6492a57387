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

/* The source in the ranges form (IPv6, or IPv4-mapped ::ffff:a.b.c.d),
 * built only for the frontends that have ranges. */
static __always_inline int ipv6_source_allowed(const struct xgress_frontend_value *frontend, const __u8 *saddr)
{
	if (!(frontend->flags & XGRESS_FRONTEND_SOURCE_RANGES))
		return 1;
	__u8 source[16];
	__builtin_memcpy(source, saddr, 16); /* in the packet, bounds checked by the parser */
	return xgress_source_allowed(frontend, source);
}

static __always_inline int ipv4_source_allowed(const struct xgress_frontend_value *frontend, __u32 saddr)
{
	if (!(frontend->flags & XGRESS_FRONTEND_SOURCE_RANGES))
		return 1;
	__u8 source[16] = {};
	source[10] = 0xff;
	source[11] = 0xff;
	__builtin_memcpy(&source[12], &saddr, 4);
	return xgress_source_allowed(frontend, source);
}

/* A packet that matched `frontend`: counted on it, dropped
 * when its source is outside the frontend's ranges (`source_allowed`, from
 * the helpers above, evaluated before the counters are looked up). `len_flags` is the frame
 * length << 8 | the TCP flags byte (0 for UDP): one value live across the
 * lookups instead of two, and no branch to reduce the flags to "is a SYN". */
/* In the TCP header's 14th byte. */
#define TCP_FLAG_BYTE_SYN 0x02
#define TCP_FLAG_BYTE_ACK 0x10

static __always_inline int matched_verdict(const struct xgress_frontend_value *frontend, __u64 len_flags,
					   int source_allowed)
{
	/* No global counter on the way through: xdp_matched is derived from
	 * the frontend counters (ABI 7), the global row is only looked up for
	 * a drop. */
	__u32 id = frontend->id;
	struct xgress_frontend_stats *stats = bpf_map_lookup_elem(&frontend_stats, &id);
	if (!source_allowed) {
		struct xgress_global_stats *g = xgress_global_stats();
		XGRESS_COUNT(g, xdp_source_denied);
		if (stats)
			stats->source_range_drops++;
		return XDP_DROP;
	}
	if (stats) {
		stats->packets++;
		stats->bytes += len_flags >> 8;
		/* SYN without ACK: a new connection. Most packets are not: no
		 * third store for them. */
		if ((len_flags & (TCP_FLAG_BYTE_SYN | TCP_FLAG_BYTE_ACK)) == TCP_FLAG_BYTE_SYN)
			stats->syns++;
	}
	return XDP_PASS;
}

/* No frontend matched. `to_node` > 0: the destination is a node address and
 * the port inside the NodePort range (an unallocated NodePort); else not
 * ours. */
static __always_inline int unmatched_verdict(__u32 port_flags_entry, int to_node)
{
	struct xgress_global_stats *g = xgress_global_stats();
	if (to_node > 0) {
		XGRESS_COUNT(g, xdp_nodeport_unallocated);
		if (port_flags_entry & XGRESS_PORT_DROP_UNALLOCATED) {
			XGRESS_COUNT(g, xdp_nodeport_dropped);
			return XDP_DROP;
		}
		return XDP_PASS;
	}
	XGRESS_COUNT(g, xdp_not_ours);
	return XDP_PASS;
}

/* Not ours: counted, passed. */
static __always_inline int not_ours_verdict(void)
{
	struct xgress_global_stats *g = xgress_global_stats();
	XGRESS_COUNT(g, xdp_not_ours);
	return XDP_PASS;
}

/* IPv4: `addrs` = destination << 32 | source (network order words: the two
 * addresses as one little-endian load), `w4` (port | proto << 16: the lookup
 * key's last word, see xgress_key_fill) and `len_flags` are packed before
 * the inlined map lookups. BPF keeps only four registers (r6-r9) across a
 * call and clang treats the verifier-inlined lookups as calls, so every
 * value live across one beyond four goes to the stack and back. Hence the
 * port_flags entry is kept as its pointer alone (its flags are read again
 * where needed, an L1-hot load), the protocol's shift is derived again after
 * the VIP lookup, and each outcome returns where it is known instead of
 * carrying a "to node?" value to a shared tail. (clang still stores the
 * addresses once and reloads the destination for the VIP hash; passing
 * source and destination apart avoided the reload and measured the same.)
 * `known_proto` is IPPROTO_TCP from the fast path, whose inlined copy then
 * picks the TCP bits and NodePort copy at compile time, and 0 from the
 * general parser (the protocol is w4's third byte). See the IPv4 lookups in
 * frontend_lookup.h. */
static __always_inline int classify_ipv4(__u64 addrs, __u32 w4, __u64 len_flags, const __u8 known_proto)
{
	/* Packed here, not where the callers' loads are: without the barrier
	 * the compiler sinks the packing past the lookups and keeps the parts
	 * live (and spilled) instead. */
	asm volatile("" : "+r"(addrs), "+r"(w4), "+r"(len_flags));
	const struct xgress_port_flags *entry = xgress_port_entry_of((__be16)w4);
	if (!entry) /* never: the address of a global array entry (dropped by the compiler) */
		return not_ours_verdict();
	struct xgress_frontend_value *frontend;
	if (xgress_port_kinds_in(entry->flags, known_proto ? known_proto : (__u8)(w4 >> 16)) & XGRESS_PORT_TCP_VIP) {
		frontend = xgress_lookup_vip_v4(addrs >> 32, w4);
		if (frontend)
			return matched_verdict(frontend, len_flags, ipv4_source_allowed(frontend, (__u32)addrs));
		/* Derive the protocol's shift from w4 again below instead of
		 * keeping it live across the lookup (a fifth register). */
		asm volatile("" : "+r"(w4), "+r"(entry));
	}
	const __u32 flags = entry->flags;
	const __be16 dport = (__be16)w4;
	const __u8 proto = known_proto ? known_proto : (__u8)(w4 >> 16);
	if (xgress_port_kinds_in(flags, proto) & XGRESS_PORT_TCP_NODEPORT) {
		if (!xgress_is_node_address_v4(addrs >> 32))
			return not_ours_verdict();
		frontend = xgress_lookup_nodeport(entry, dport, proto);
		if (frontend)
			return matched_verdict(frontend, len_flags, ipv4_source_allowed(frontend, (__u32)addrs));
		/* A node address, no frontend: unallocated if inside the range. */
		return unmatched_verdict(entry->flags, (entry->flags & XGRESS_PORT_NODEPORT_RANGE) ? 1 : 0);
	}
	/* Unallocated NodePort? The node-address check only for ports inside
	 * the range. */
	if (!(flags & XGRESS_PORT_NODEPORT_RANGE))
		return not_ours_verdict();
	return unmatched_verdict(flags, xgress_is_node_address_v4(addrs >> 32));
}

static __always_inline int classify_ipv6(const struct xgress_packet *pkt, __u64 len_flags)
{
	const struct xgress_port_flags *entry = xgress_port_entry_of(pkt->dport);
	const __u32 port_flags_entry = entry ? entry->flags : 0;
	const __u32 kinds = xgress_port_kinds_in(port_flags_entry, pkt->proto);
	struct xgress_frontend_key key XGRESS_KEY_ALIGN;
	const xgress_u32_alias *daddr = (const xgress_u32_alias *)pkt->daddr;
	xgress_key_fill(&key, daddr[0], daddr[1], daddr[2], daddr[3], pkt->dport, pkt->proto,
			XGRESS_FRONTEND_KEY_IPV6);
	int to_node = -1;
	struct xgress_frontend_value *frontend = 0;
	if (kinds)
		frontend = xgress_lookup_frontend(&key, entry, kinds, &to_node);
	if (frontend)
		return matched_verdict(frontend, len_flags, ipv6_source_allowed(frontend, pkt->saddr));
	if (!(port_flags_entry & XGRESS_PORT_NODEPORT_RANGE))
		to_node = 0;
	else if (to_node < 0)
		to_node = xgress_is_node_address(&key);
	return unmatched_verdict(port_flags_entry, to_node);
}

/* Ethernet + IPv4 without options + TCP, no VLAN tag, not a non-first
 * fragment: most of what a node receives, and every packet of a served
 * TCP frontend on an untagged link. Checked with one bounds check and a few
 * loads; anything else takes the general parser, which gives the same
 * answer for these packets. */
#define FAST_IPV4_TCP_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct tcphdr))

SEC("xdp")
int xgress_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const __u64 len = data_end - data;

	if (data + FAST_IPV4_TCP_LEN <= data_end) {
		/* Three checks on two little-endian words (unaligned packet loads
		 * are fine on this JIT): bytes 12-14 = ethertype 0x0800 and
		 * version/IHL 0x45; bytes 20-23 = fragment offset 0 (the flags'
		 * DF/MF bits ignored) and protocol TCP (byte 22, the TTL, is
		 * masked out). */
		const __u32 eth_ip = *(const xgress_u32_alias *)((const __u8 *)data + 12);
		const __u32 frag_proto = *(const xgress_u32_alias *)((const __u8 *)data + 20);
		if ((eth_ip & 0x00ffffff) == 0x00450008 && (frag_proto & 0xff00ff1f) == (__u32)IPPROTO_TCP << 24) {
			const struct tcphdr *tcp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
			/* The flags byte (CWR ECE URG ACK PSH RST SYN FIN). */
			const __u8 tcp_flags = ((const __u8 *)tcp)[13];
			/* Source (bytes 26-29) and destination (30-33) as one load:
			 * destination << 32 | source. */
			const __u64 addrs = *(const __u64 __attribute__((may_alias)) *)((const __u8 *)data + 26);
			return classify_ipv4(addrs, (__u32)tcp->dest | (__u32)IPPROTO_TCP << 16, len << 8 | tcp_flags,
					     IPPROTO_TCP);
		}
	}

	struct xgress_packet pkt XGRESS_KEY_ALIGN = {};
	int result = xgress_parse_packet(data, data_end, &pkt);
	if (result != XGRESS_PARSE_OK) {
		count_parse_failure(xgress_global_stats(), result);
		return XDP_PASS;
	}
	const __u64 len_flags = len << 8 | (pkt.tcp_syn ? TCP_FLAG_BYTE_SYN : 0);
	if (pkt.ipv6)
		return classify_ipv6(&pkt, len_flags);
	__u32 daddr, saddr;
	__builtin_memcpy(&daddr, pkt.daddr, 4);
	__builtin_memcpy(&saddr, pkt.saddr, 4);
	return classify_ipv4((__u64)daddr << 32 | saddr, (__u32)pkt.dport | (__u32)pkt.proto << 16, len_flags, 0);
}

char LICENSE[] SEC("license") = "GPL";

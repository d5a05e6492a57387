/* Bounds-checked packet parsing for XDP: Ethernet with up to two VLAN tags,
 * IPv4 (options honoured through IHL), IPv6 with its extension headers walked
 * up to XGRESS_MAX_IPV6_EXT_HEADERS, and the TCP/UDP destination port.
 * Non-first fragments (IPv4 offset != 0, IPv6 fragment header offset != 0)
 * carry no L4 header and are reported as such, never guessed at. Every read is checked against data_end first,
 * as the verifier demands and as truncated frames require. */
#ifndef XGRESS_BPF_LIB_PARSING_H
#define XGRESS_BPF_LIB_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define XGRESS_MAX_VLAN_TAGS 2

enum xgress_parse_result {
	XGRESS_PARSE_OK = 0,
	XGRESS_PARSE_NON_IP,
	XGRESS_PARSE_TRUNCATED,
	XGRESS_PARSE_FRAGMENT,
	XGRESS_PARSE_OTHER_L4,
	XGRESS_PARSE_TOO_DEEP, /* IPv6 extension chain longer than we walk: counted as unparsed */
};

/* What the classifier needs from a packet. */
struct xgress_packet {
	__u8 daddr[16]; /* IPv4 in [0..3] */
	/* The source address inside the packet (4 bytes for IPv4, 16 for IPv6,
	 * bounds already checked): only a frontend with source ranges reads
	 * it, so parsing does not copy it for every packet. */
	const __u8 *saddr;
	__be16 dport;
	__u8 proto;
	__u8 ipv6;
	__u8 tcp_syn; /* SYN set, ACK clear */
};

struct xgress_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

static __always_inline int xgress_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Parses the L4 header at `l4` (already known to be TCP or UDP). */
static __always_inline int xgress_parse_l4(void *l4, void *data_end, struct xgress_packet *pkt)
{
	if (pkt->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return XGRESS_PARSE_TRUNCATED;
		pkt->dport = tcp->dest;
		pkt->tcp_syn = tcp->syn && !tcp->ack;
		return XGRESS_PARSE_OK;
	}
	if (pkt->proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return XGRESS_PARSE_TRUNCATED;
		pkt->dport = udp->dest;
		return XGRESS_PARSE_OK;
	}
	return XGRESS_PARSE_OTHER_L4;
}

static __always_inline int xgress_parse_ipv4(void *l3, void *data_end, struct xgress_packet *pkt)
{
	struct iphdr *ip = l3;
	if ((void *)(ip + 1) > data_end)
		return XGRESS_PARSE_TRUNCATED;
	if (ip->version != 4 || ip->ihl < 5)
		return XGRESS_PARSE_TRUNCATED;
	/* A non-first fragment carries no L4 header to classify on. */
	if (ip->frag_off & bpf_htons(0x1fff))
		return XGRESS_PARSE_FRAGMENT;
	pkt->proto = ip->protocol;
	pkt->ipv6 = 0;
	__builtin_memcpy(pkt->daddr, &ip->daddr, 4);
	pkt->saddr = (const __u8 *)&ip->saddr;
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP)
		return XGRESS_PARSE_OTHER_L4;
	return xgress_parse_l4((void *)ip + ip->ihl * 4, data_end, pkt);
}

/* IPv6 extension headers we step over (RFC 8200 order); anything else ends
 * the walk and is the upper-layer protocol. */
#define XGRESS_IPPROTO_HOPOPTS 0
#define XGRESS_IPPROTO_ROUTING 43
#define XGRESS_IPPROTO_FRAGMENT 44
#define XGRESS_IPPROTO_AH 51
#define XGRESS_IPPROTO_DSTOPTS 60

struct xgress_ipv6_ext_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
	__be16 frag_off; /* fragment header only: offset (13 bits, in 8-byte units) + flags */
};

static __always_inline int xgress_parse_ipv6(void *l3, void *data_end, struct xgress_packet *pkt)
{
	struct ipv6hdr *ip6 = l3;
	if ((void *)(ip6 + 1) > data_end)
		return XGRESS_PARSE_TRUNCATED;
	if (ip6->version != 6)
		return XGRESS_PARSE_TRUNCATED;
	pkt->ipv6 = 1;
	__builtin_memcpy(pkt->daddr, &ip6->daddr, 16);
	pkt->saddr = (const __u8 *)&ip6->saddr;

	__u8 next = ip6->nexthdr;
	void *cursor = ip6 + 1;
#pragma unroll
	for (int i = 0; i < XGRESS_MAX_IPV6_EXT_HEADERS; i++) {
		if (next != XGRESS_IPPROTO_HOPOPTS && next != XGRESS_IPPROTO_ROUTING &&
		    next != XGRESS_IPPROTO_FRAGMENT && next != XGRESS_IPPROTO_AH &&
		    next != XGRESS_IPPROTO_DSTOPTS)
			break;
		struct xgress_ipv6_ext_hdr *ext = cursor;
		if ((void *)(ext + 1) > data_end)
			return XGRESS_PARSE_TRUNCATED;
		__u32 len;
		if (next == XGRESS_IPPROTO_FRAGMENT) {
			if (ext->frag_off & bpf_htons(0xfff8))
				return XGRESS_PARSE_FRAGMENT;
			len = 8;
		} else if (next == XGRESS_IPPROTO_AH) {
			len = ((__u32)ext->hdrlen + 2) * 4;
		} else {
			len = ((__u32)ext->hdrlen + 1) * 8;
		}
		next = ext->nexthdr;
		cursor += len;
	}
	pkt->proto = next;
	if (next == XGRESS_IPPROTO_HOPOPTS || next == XGRESS_IPPROTO_ROUTING ||
	    next == XGRESS_IPPROTO_FRAGMENT || next == XGRESS_IPPROTO_AH || next == XGRESS_IPPROTO_DSTOPTS)
		return XGRESS_PARSE_TOO_DEEP; /* more headers than we walk: not classified */
	if (pkt->proto != IPPROTO_TCP && pkt->proto != IPPROTO_UDP)
		return XGRESS_PARSE_OTHER_L4;
	return xgress_parse_l4(cursor, data_end, pkt);
}

static __always_inline int xgress_parse_packet(void *data, void *data_end, struct xgress_packet *pkt)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XGRESS_PARSE_TRUNCATED;

	/* One 16-bit load: struct ethhdr is packed, so eth->h_proto compiles to
	 * two byte loads and a shift (the field itself is 2-byte aligned). */
	__be16 proto = *(const __be16 *)((const __u8 *)data + 12);
	void *cursor = eth + 1;
#pragma unroll
	for (int i = 0; i < XGRESS_MAX_VLAN_TAGS; i++) {
		if (!xgress_is_vlan(proto))
			break;
		struct xgress_vlan_hdr *vlan = cursor;
		if ((void *)(vlan + 1) > data_end)
			return XGRESS_PARSE_TRUNCATED;
		proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	}

	if (proto == bpf_htons(ETH_P_IP))
		return xgress_parse_ipv4(cursor, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return xgress_parse_ipv6(cursor, data_end, pkt);
	return XGRESS_PARSE_NON_IP;
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* sk_lookup steering: a new TCP connection (or UDP datagram) to one of our
 * frontends (a VIP or a node address on a NodePort), IPv4 or IPv6, is handed
 * to the proxy's socket in the frontend's SOCKMAP slot. Runs for connections
 * from other hosts and from the node itself alike (sk_lookup sits in the
 * receive path of every packet that reaches a local socket lookup). A source
 * outside the frontend's source ranges is not steered (the kernel's normal
 * lookup then refuses it); XDP already dropped such packets from the wire, this
 * covers the paths XDP does not see (loopback, locally originated). No NAT: the proxy sees the original
 * destination through getsockname(). When the slot is empty (proxy not yet
 * connected) the program steps aside and the kernel's normal lookup decides. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/socket.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/frontend_lookup.h"
#include "lib/maps.h"
#include "lib/stats.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

SEC("sk_lookup")
int xgress_sk_lookup(struct bpf_sk_lookup *ctx)
{
	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return SK_PASS;
	/* Runs for every connection and datagram to a local socket: a port no
	 * frontend uses returns after one array read. */
	const struct xgress_port_flags *entry = xgress_port_entry_of(bpf_htons((__u16)ctx->local_port));
	const __u32 kinds = xgress_port_kinds_in(entry ? entry->flags : 0, (__u8)ctx->protocol);
	if (!kinds)
		return SK_PASS;

	/* Each context field is read in its own branch behind a compiler barrier:
	 * otherwise clang merges the two branches' loads into one load through a
	 * computed context pointer, which the verifier rejects ("dereference of
	 * modified ctx ptr"). */
	struct xgress_frontend_key key XGRESS_KEY_ALIGN = {};
	__u8 key_flags = 0;
	__u32 source[4] = {};
	if (ctx->family == AF_INET) {
		__u32 local = ctx->local_ip4;
		__u32 remote = ctx->remote_ip4;
		asm volatile("" : "+r"(local), "+r"(remote));
		__builtin_memcpy(key.addr, &local, 4);
		source[2] = bpf_htonl(0xffff); /* IPv4-mapped, as source_ranges stores it */
		source[3] = remote;
	} else if (ctx->family == AF_INET6) {
		__u32 l0 = ctx->local_ip6[0], l1 = ctx->local_ip6[1], l2 = ctx->local_ip6[2],
		      l3 = ctx->local_ip6[3];
		__u32 r0 = ctx->remote_ip6[0], r1 = ctx->remote_ip6[1], r2 = ctx->remote_ip6[2],
		      r3 = ctx->remote_ip6[3];
		asm volatile("" : "+r"(l0), "+r"(l1), "+r"(l2), "+r"(l3));
		asm volatile("" : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3));
		__u32 local[4] = {l0, l1, l2, l3};
		__builtin_memcpy(key.addr, local, 16);
		key_flags = XGRESS_FRONTEND_KEY_IPV6;
		source[0] = r0;
		source[1] = r1;
		source[2] = r2;
		source[3] = r3;
	} else {
		return SK_PASS;
	}
	/* Port, protocol and flags in one word store (see xgress_key_fill). */
	((xgress_u32_alias *)&key)[4] =
		(__u32)bpf_htons((__u16)ctx->local_port) | (__u32)(__u8)ctx->protocol << 16 | (__u32)key_flags << 24;

	int to_node = -1;
	struct xgress_frontend_value *frontend = xgress_lookup_frontend(&key, entry, kinds, &to_node);
	if (!frontend)
		return SK_PASS;

	struct xgress_global_stats *g = xgress_global_stats();
	if (!xgress_source_allowed(frontend, (const __u8 *)source)) {
		XGRESS_COUNT(g, sk_lookup_source_denied);
		return SK_PASS;
	}
	__u32 slot = frontend->listener_slot;
	struct bpf_sock *sk = bpf_map_lookup_elem(&listeners, &slot);
	if (!sk) {
		XGRESS_COUNT(g, sk_lookup_no_listener);
		return SK_PASS;
	}
	long err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err)
		XGRESS_COUNT(g, sk_lookup_assign_failed);
	else
		XGRESS_COUNT(g, sk_lookup_assigned);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";

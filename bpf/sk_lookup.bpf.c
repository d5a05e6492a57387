// SPDX-License-Identifier: GPL-2.0
/* sk_lookup steering: a new TCP connection to one of our frontends (a VIP or
 * a node address on a NodePort) is handed to the proxy's listening socket in
 * the frontend's SOCKMAP slot. No NAT: the proxy sees the original
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
	if (ctx->protocol != IPPROTO_TCP)
		return SK_PASS;

	struct xgress_frontend_key key = {};
	if (ctx->family == AF_INET) {
		__u32 addr = ctx->local_ip4;
		__builtin_memcpy(key.addr, &addr, 4);
	} else if (ctx->family == AF_INET6) {
		__u32 addr[4] = {ctx->local_ip6[0], ctx->local_ip6[1], ctx->local_ip6[2],
				 ctx->local_ip6[3]};
		__builtin_memcpy(key.addr, addr, 16);
		key.flags = XGRESS_FRONTEND_KEY_IPV6;
	} else {
		return SK_PASS;
	}
	key.port = bpf_htons((__u16)ctx->local_port);
	key.proto = IPPROTO_TCP;

	struct xgress_frontend_value *frontend = xgress_lookup_frontend(&key);
	if (!frontend)
		return SK_PASS;

	struct xgress_global_stats *g = xgress_global_stats();
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

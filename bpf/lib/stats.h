/* Counter helpers. Both stats maps are per-CPU, so plain increments are
 * race-free and cost no atomic operation. */
#ifndef XGRESS_BPF_LIB_STATS_H
#define XGRESS_BPF_LIB_STATS_H

#include "maps.h"

static __always_inline struct xgress_global_stats *xgress_global_stats(void)
{
	__u32 key = XGRESS_GLOBAL_STATS_KEY;
	return bpf_map_lookup_elem(&global_stats, &key);
}

/* Usage: XGRESS_COUNT(g, xdp_not_ours) with g from xgress_global_stats(). */
#define XGRESS_COUNT(stats, field)        \
	do {                              \
		if (stats)                \
			(stats)->field++; \
	} while (0)

#endif

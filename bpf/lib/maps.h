/* Map definitions shared by every xgress BPF object. Each object that
 * includes this header declares the same maps; LIBBPF_PIN_BY_NAME makes
 * libbpf reuse the pins under the agent's pin root, so the XDP and sk_lookup
 * programs (and userspace) all see one instance of each map. Layouts come from
 * bpf_abi.h. */
#ifndef XGRESS_BPF_LIB_MAPS_H
#define XGRESS_BPF_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xgress/bpf_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XGRESS_MAX_FRONTENDS);
	__type(key, struct xgress_frontend_key);
	__type(value, struct xgress_frontend_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frontends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XGRESS_MAX_NODE_ADDRS);
	__type(key, struct xgress_node_addr_key);
	__type(value, struct xgress_node_addr_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} node_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGRESS_MAX_FRONTENDS);
	__type(key, __u32);
	__type(value, struct xgress_frontend_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frontend_stats SEC(".maps");

/* Userspace only (see bpf_abi.h): declared here so libbpf creates and pins
 * it with the others. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XGRESS_MAX_FRONTENDS);
	__type(key, __u32);
	__type(value, struct xgress_frontend_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frontend_stats_base SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XGRESS_MAX_FRONTENDS);
	__type(key, __u32);
	__type(value, struct xgress_frontend_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frontend_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xgress_global_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} global_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xgress_abi_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} abi_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xgress_settings);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} settings SEC(".maps");

/* LPM tries must be created without preallocation. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XGRESS_MAX_SOURCE_RANGES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xgress_source_range_key);
	__type(value, struct xgress_source_range_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} source_ranges SEC(".maps");

/* port_flags, vip_frontends (ABI 9) and node_addr_list (ABI 10): global
 * data, the one variable in
 * .bss (see xgress_tables in bpf_abi.h). libbpf makes .bss a one-entry,
 * mmap-able array map; the agent pins it as "tables" and has every object
 * reuse it. Nothing else may live in .bss: the objects' .bss maps must have
 * the same layout (the agent checks the size). */
struct xgress_tables xgress_tables;

/* Value size 8: userspace reads back socket cookies. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, XGRESS_MAX_LISTENERS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} listeners SEC(".maps");

#endif

#!/usr/bin/env bash
# Runs a command in the lab's node namespace (where the agent and proxy run), with
# LIBXDP_BPFFS pointing at the lab's bpffs, e.g.
#   tools/lab/node.sh build/tools/xgressctl/xgressctl --pin-root /run/xgress-lab-xgress/bpffs/xgress stats
set -euo pipefail
# shellcheck source=tools/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_init
[ $# -gt 0 ] || lab_die "usage: node.sh COMMAND [ARGS...]"
lab_netns_exists "$LAB_NS_NODE" || lab_die "lab '$LAB' is not up (no namespace $LAB_NS_NODE)"
exec ip netns exec "$LAB_NS_NODE" env LIBXDP_BPFFS="$LAB_BPFFS" "$@"

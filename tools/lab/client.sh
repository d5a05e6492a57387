#!/usr/bin/env bash
# Runs a command in the lab's client namespace (198.18.0.2), e.g.
#   tools/lab/client.sh curl -H 'Host: shop.example.com' http://198.18.0.1:30080/
set -euo pipefail
# shellcheck source=tools/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_init
[ $# -gt 0 ] || lab_die "usage: client.sh COMMAND [ARGS...]"
lab_netns_exists "$LAB_NS_CLIENT" || lab_die "lab '$LAB' is not up (no namespace $LAB_NS_CLIENT)"
exec ip netns exec "$LAB_NS_CLIENT" "$@"

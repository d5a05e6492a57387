#!/usr/bin/env bash
# Removes everything up.sh made for lab $XGRESS_LAB (default xgress): its processes
# (by pidfile only), the agent's BPF state (xgress-agent --cleanup), the bpffs mount,
# the namespaces (which takes their veths with them) and the state directory.
# Idempotent, and safe after a half-failed up.sh: every step checks what exists.
# Exits non-zero if something could not be removed, saying what.
set -uo pipefail
# shellcheck source=tools/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_require_root
lab_init

problems=0
problem() { lab_say "lab $LAB: $*"; problems=$((problems + 1)); }

# 1. Processes: the proxy first (it lets go of its sockets), then the agent, then pods.
if [ -d "$LAB_STATE_DIR" ]; then
  for pidfile in "$LAB_STATE_DIR/proxy.pid" "$LAB_STATE_DIR/agent.pid" "$LAB_STATE_DIR"/echo-*.pid; do
    [ -f "$pidfile" ] && lab_stop "$pidfile"
  done
fi

# 2. BPF: let the agent detach and unpin what it made, while the node namespace
#    (and so its interfaces) still exists.
if mountpoint -q "$LAB_BPFFS" 2>/dev/null; then
  agent_bin=$LAB_BUILD_DIR/agent/xgress-agent
  if [ -x "$agent_bin" ]; then
    cleanup=(env LIBXDP_BPFFS="$LAB_BPFFS" "$agent_bin" --cleanup --pin-root "$LAB_PIN_ROOT")
    if lab_netns_exists "$LAB_NS_NODE"; then
      cleanup=(ip netns exec "$LAB_NS_NODE" "${cleanup[@]}" --interfaces "$LAB_NODE_CLIENT_IF")
    fi
    # Its log only matters when it fails.
    if ! out=$("${cleanup[@]}" 2>&1); then
      lab_say "$out"
      lab_say "lab $LAB: warning: xgress-agent --cleanup failed (continuing; unmounting drops the pins)"
    fi
  else
    lab_say "lab $LAB: warning: $agent_bin missing; skipping --cleanup (unmounting drops the pins)"
  fi
  umount "$LAB_BPFFS" 2>/dev/null || umount -l "$LAB_BPFFS" || problem "cannot unmount $LAB_BPFFS"
fi

# 3. Namespaces. A process still inside one (not started by us: we only kill by
#    pidfile) would keep it alive after deletion, so name it.
for ns in $(lab_namespaces); do
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  [ -z "$pids" ] || problem "processes still in namespace $ns (not ours to kill): $pids"
  ip netns del "$ns" || problem "cannot delete namespace $ns"
done

# 4. State directory (logs, pidfiles, endpoints, control socket).
if [ -d "$LAB_STATE_DIR" ] && ! mountpoint -q "$LAB_BPFFS" 2>/dev/null; then
  rm -rf "$LAB_STATE_DIR" || problem "cannot remove $LAB_STATE_DIR"
fi

left=$(lab_namespaces | tr '\n' ' ')
[ -z "$left" ] || problem "namespaces remain: $left"
[ ! -e "$LAB_STATE_DIR" ] || problem "$LAB_STATE_DIR remains"
if [ "$problems" -ne 0 ]; then
  lab_say "lab $LAB: down finished with $problems problem(s)"
  exit 1
fi
lab_say "lab $LAB: down"

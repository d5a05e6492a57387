# shellcheck shell=bash disable=SC2034  # sourced: the LAB_* names are used by the scripts
# Shared by up.sh, down.sh, client.sh and node.sh: the lab's names, paths and the
# few helpers they all need. Source it, then call lab_init.
#
# Naming (see /work/notes/common.md, "Shared facts for the lab"):
#   namespaces  ${LAB}-client, ${LAB}-node, ${LAB}-pod<N>
#   state       /run/xgress-lab-${LAB}/ (logs, pidfiles, endpoints, control socket, bpffs)
# Veths are created directly inside the lab namespaces, so no lab link ever exists
# in the host namespace; the node-side pod veths still carry a tag derived from LAB
# so that two labs' links can never be confused in output or in a leak check.

LAB_NODE_ADDR=198.18.0.1
LAB_CLIENT_ADDR=198.18.0.2
LAB_PREFIX_LEN=24
# The client<->node link is dual-stack: IPv6 alongside (pods stay IPv4-only).
LAB_NODE_ADDR6=fd00:198:18::1
LAB_CLIENT_ADDR6=fd00:198:18::2
LAB_PREFIX_LEN6=64
LAB_POD_GATEWAY=169.254.1.1
LAB_NODE_PORT=30080
# IPv6 clients need a dual-stack proxy listener (an AF_INET6 socket bound to
# [::], not v6-only): sk_lookup cannot hand an IPv6 connection to an AF_INET
# socket. XGRESS_LAB_PROXY_LISTEN='[::]:10080' gives one.
LAB_PROXY_LISTEN=${XGRESS_LAB_PROXY_LISTEN:-127.0.0.1:10080}
LAB_NODE_CLIENT_IF=eth-client

lab_say() { printf '%s\n' "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

lab_require_root() {
  [ "$(id -u)" -eq 0 ] || lab_die "must run as root (network namespaces, bpffs)"
}

# Sets every LAB_* name for the lab named by $XGRESS_LAB (default xgress).
lab_init() {
  LAB=${XGRESS_LAB:-xgress}
  # Short and plain: it becomes part of namespace names, paths and a link-name tag.
  [[ "$LAB" =~ ^[a-z0-9][a-z0-9-]{0,19}$ ]] ||
    lab_die "XGRESS_LAB='$LAB' is invalid: use 1-20 chars of [a-z0-9-], starting with a letter or digit"
  LAB_REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  LAB_BUILD_DIR=${XGRESS_BUILD_DIR:-$LAB_REPO_DIR/build}
  LAB_NS_CLIENT=$LAB-client
  LAB_NS_NODE=$LAB-node
  LAB_NS_POD_PREFIX=$LAB-pod
  LAB_STATE_DIR=/run/xgress-lab-$LAB
  LAB_BPFFS=$LAB_STATE_DIR/bpffs
  LAB_PIN_ROOT=$LAB_BPFFS/xgress
  LAB_CONTROL_SOCKET=$LAB_STATE_DIR/control.sock
  LAB_ENDPOINTS=$LAB_STATE_DIR/endpoints.tsv
  # 5 hex digits of the name's checksum: node-side pod veths are xg<tag>p<N> (<= 15 chars).
  LAB_TAG=$(printf '%05x' $(( $(printf '%s' "$LAB" | cksum | cut -d' ' -f1) % 1048576 )))
}

lab_pod_veth() { printf 'xg%sp%s' "$LAB_TAG" "$1"; }

# Path of a built binary: agent, proxy, echo or ctl.
lab_bin() {
  local path
  case $1 in
    agent) path=$LAB_BUILD_DIR/agent/xgress-agent ;;
    proxy) path=$LAB_BUILD_DIR/proxy/xgress-proxy ;;
    echo) path=$LAB_BUILD_DIR/tools/echo/xgress-echo ;;
    ctl) path=$LAB_BUILD_DIR/tools/xgressctl/xgressctl ;;
    *) lab_die "unknown binary '$1'" ;;
  esac
  [ -x "$path" ] || lab_die "$path not found: build first (cmake --build ${LAB_BUILD_DIR}) or set XGRESS_BUILD_DIR"
  printf '%s\n' "$path"
}

lab_netns_exists() { [ -e "/run/netns/$1" ]; }

# The lab's namespaces that exist now (exact names only, so lab "a" never matches "a-b").
lab_namespaces() {
  ip netns list 2>/dev/null | awk '{print $1}' |
    grep -E "^${LAB}-(client|node|pod[0-9]+)\$" || true
}

# lab_start NAME NETNS CMD...: runs CMD in NETNS in the background with its log at
# $LAB_STATE_DIR/NAME.log and its pid in NAME.pid. `ip netns exec` and `env` exec
# the command, so $! is the daemon's own pid.
lab_start() {
  local name=$1 ns=$2
  shift 2
  ip netns exec "$ns" "$@" </dev/null >"$LAB_STATE_DIR/$name.log" 2>&1 &
  echo $! >"$LAB_STATE_DIR/$name.pid"
}

# The pid in a pidfile, if that process is alive and still runs the binary the
# pidfile's name says (agent.pid -> xgress-agent, echo-3.pid -> xgress-echo):
# a recycled pid is never signalled.
lab_pid_of() {
  local pidfile=$1 pid exe expected
  [ -f "$pidfile" ] || return 1
  pid=$(head -n1 "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  expected=xgress-$(basename "$pidfile" .pid | sed 's/-.*//')
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [[ "$(basename "$exe")" == "$expected"* ]] || return 1
  printf '%s\n' "$pid"
}

# True while a process runs. A zombie counts as gone: daemons started by up.sh are
# re-parented when it exits, and their new parent may reap them late.
lab_running() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Stops the process of a pidfile: TERM, up to 5 s grace, then KILL.
lab_stop() {
  local pidfile=$1 pid i
  if pid=$(lab_pid_of "$pidfile"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      lab_running "$pid" || break
      sleep 0.1
    done
    if lab_running "$pid"; then
      lab_say "lab: $(basename "$pidfile" .pid) (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.1
    fi
  fi
  rm -f "$pidfile"
}

# Prints the last lines of every lab log (for failure messages).
lab_tail_logs() {
  local log
  for log in "$LAB_STATE_DIR"/*.log; do
    [ -f "$log" ] || continue
    lab_say "----- tail of $log -----"
    tail -n "${1:-20}" "$log" >&2 || true
  done
}

# The manifests the demo and the integration test serve: examples/manifests/ when
# it holds files, else examples/ itself.
lab_examples_dir() {
  local dir=$LAB_REPO_DIR/examples
  if [ -d "$dir/manifests" ] && [ -n "$(ls -A "$dir/manifests")" ]; then dir=$dir/manifests; fi
  printf '%s\n' "$dir"
}

#!/usr/bin/env bash
# Brings up the lab for a manifests directory:
#
#   ${LAB}-client 198.18.0.2 ──veth── 198.18.0.1 ${LAB}-node (agent + proxy, ip_forward)
#                 fd00:198:18::2       fd00:198:18::1  (IPv6 on the same link)
#                                        │ 169.254.1.1 ──veth── <pod addr>/32 ${LAB}-pod<N>
#                                        │                       (xgress-echo on every port)
#                                        └ ... one pod namespace per endpoint address
#
# usage: up.sh [--backends-only] MANIFESTS_DIR
#   --backends-only  build the namespaces and echo backends but start neither agent
#                    nor proxy (e.g. to put another proxy in front of the same pods)
# env:   XGRESS_LAB (default xgress), XGRESS_BUILD_DIR (default <repo>/build),
#        XGRESS_LAB_TIMEOUT seconds to wait for the lab to serve (default 30),
#        XGRESS_LAB_PROXY_WORKERS (passed as --workers when set),
#        XGRESS_LAB_PROXY_LISTEN (default 127.0.0.1:10080; '[::]:10080' serves IPv6
#        clients too), XGRESS_LAB_AGENT_ARGS (extra agent flags, word-split),
#        XGRESS_LAB_PROXY_ARGS (extra proxy flags, word-split, e.g. --balance round_robin),
#        XGRESS_LAB_ENDPOINTS_FILE development only: endpoints in the
#        --dump-endpoints format instead of asking the agent.
# On success prints the node address (only that) on stdout; progress goes to stderr.
# On failure leaves everything in place for inspection: run down.sh to remove it.
set -euo pipefail
# shellcheck source=tools/lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { lab_die "usage: up.sh [--backends-only] MANIFESTS_DIR"; }
backends_only=0
manifests=
while [ $# -gt 0 ]; do
  case $1 in
    --backends-only) backends_only=1 ;;
    -h | --help) sed -n '2,22p' "$0" >&2; exit 0 ;;
    -*) usage ;;
    *) [ -z "$manifests" ] || usage; manifests=$1 ;;
  esac
  shift
done
[ -n "$manifests" ] || usage
[ -d "$manifests" ] || lab_die "manifests directory '$manifests' does not exist"
manifests=$(cd "$manifests" && pwd)

lab_require_root
lab_init
timeout_s=${XGRESS_LAB_TIMEOUT:-30}

fail() {
  lab_say "lab: up.sh failed: $*"
  lab_tail_logs 20
  lab_say "lab: state left for inspection in $LAB_STATE_DIR; remove everything with: XGRESS_LAB=$LAB $(dirname "$0")/down.sh"
  exit 1
}
if [ -e "$LAB_STATE_DIR" ] || [ -n "$(lab_namespaces)" ]; then
  lab_die "lab '$LAB' already exists (state dir or namespaces present); run XGRESS_LAB=$LAB $(dirname "$0")/down.sh first"
fi
echo_bin=$(lab_bin echo)
if [ "$backends_only" -eq 0 ] || [ -z "${XGRESS_LAB_ENDPOINTS_FILE:-}" ]; then agent_bin=$(lab_bin agent); fi
if [ "$backends_only" -eq 0 ]; then proxy_bin=$(lab_bin proxy); fi

mkdir -p "$LAB_STATE_DIR"
# From here on a failure leaves state behind: say where, and show the logs.
set -E
trap 'fail "command failed at line $LINENO: $BASH_COMMAND"' ERR
lab_say "lab $LAB: state in $LAB_STATE_DIR"

# --- endpoints: address namespace pod service port, one line per (address, port) ---
if [ -n "${XGRESS_LAB_ENDPOINTS_FILE:-}" ]; then
  lab_say "lab $LAB: DEVELOPMENT: endpoints from $XGRESS_LAB_ENDPOINTS_FILE instead of the agent"
  cp "$XGRESS_LAB_ENDPOINTS_FILE" "$LAB_ENDPOINTS"
else
  "$agent_bin" --manifests "$manifests" --dump-endpoints >"$LAB_STATE_DIR/dump-endpoints.out" \
    2>"$LAB_STATE_DIR/dump-endpoints.log" ||
    fail "xgress-agent --manifests $manifests --dump-endpoints failed"
  # Keep the endpoint lines (5 tab-separated fields) only, in case a log line
  # lands on stdout, and say so: the contract wants logs on stderr.
  awk -F'\t' 'NF == 5' "$LAB_STATE_DIR/dump-endpoints.out" >"$LAB_ENDPOINTS"
  other=$(awk -F'\t' 'NF != 5 && NF > 0' "$LAB_STATE_DIR/dump-endpoints.out" | wc -l)
  [ "$other" -eq 0 ] ||
    lab_say "lab $LAB: warning: ignored $other non-endpoint line(s) on the stdout of --dump-endpoints (see $LAB_STATE_DIR/dump-endpoints.out)"
fi
declare -a pod_addrs=()          # distinct addresses in order of appearance
declare -A pod_index=() pod_name=() pod_ns=() pod_listen=() seen_port=()
while IFS=$'\t' read -r addr ns pod service port extra; do
  [ -n "$addr" ] || continue
  [[ "$addr" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ && "$port" =~ ^[0-9]+$ && -n "$service" && -z "$extra" ]] ||
    fail "bad endpoint line in $LAB_ENDPOINTS: '$addr $ns $pod $service $port $extra' (IPv4 endpoints only)"
  if [ -z "${pod_index[$addr]:-}" ]; then
    pod_index[$addr]=$(( ${#pod_addrs[@]} + 1 ))
    pod_addrs+=("$addr")
    pod_name[$addr]=$pod
    pod_ns[$addr]=$ns
  fi
  if [ -n "${seen_port[$addr:$port]:-}" ]; then
    # Two Services selecting the same pod port: one listener answers for the first.
    lab_say "lab $LAB: $addr:$port already serves ${seen_port[$addr:$port]}; not also $service"
    continue
  fi
  seen_port[$addr:$port]=$service
  pod_listen[$addr]+=" --listen $addr:$port=$service"
done <"$LAB_ENDPOINTS"
[ ${#pod_addrs[@]} -gt 0 ] || fail "no endpoints found in $manifests"

# --- client <-> node ---
ip netns add "$LAB_NS_CLIENT"
ip netns add "$LAB_NS_NODE"
# Created inside the namespaces directly: no lab link ever appears in the host namespace.
ip -n "$LAB_NS_NODE" link add "$LAB_NODE_CLIENT_IF" type veth peer name eth0 netns "$LAB_NS_CLIENT"
ip -n "$LAB_NS_NODE" addr add "$LAB_NODE_ADDR/$LAB_PREFIX_LEN" dev "$LAB_NODE_CLIENT_IF"
ip -n "$LAB_NS_CLIENT" addr add "$LAB_CLIENT_ADDR/$LAB_PREFIX_LEN" dev eth0
for ns in "$LAB_NS_CLIENT" "$LAB_NS_NODE"; do ip -n "$ns" link set lo up; done
ip -n "$LAB_NS_NODE" link set "$LAB_NODE_CLIENT_IF" up
ip -n "$LAB_NS_CLIENT" link set eth0 up
ip -n "$LAB_NS_CLIENT" route add default via "$LAB_NODE_ADDR"
# nodad: usable at once, no duplicate address detection wait.
ip -n "$LAB_NS_NODE" addr add "$LAB_NODE_ADDR6/$LAB_PREFIX_LEN6" dev "$LAB_NODE_CLIENT_IF" nodad
ip -n "$LAB_NS_CLIENT" addr add "$LAB_CLIENT_ADDR6/$LAB_PREFIX_LEN6" dev eth0 nodad
ip -n "$LAB_NS_CLIENT" -6 route add default via "$LAB_NODE_ADDR6"
ip netns exec "$LAB_NS_NODE" sysctl -q -w net.ipv4.ip_forward=1

# --- pods: address/32 on eth0, everything via 169.254.1.1 (the node end) ---
for addr in "${pod_addrs[@]}"; do
  n=${pod_index[$addr]}
  pod_netns=$LAB_NS_POD_PREFIX$n
  veth=$(lab_pod_veth "$n")
  ip netns add "$pod_netns"
  ip -n "$LAB_NS_NODE" link add "$veth" type veth peer name eth0 netns "$pod_netns"
  ip -n "$pod_netns" link set lo up
  ip -n "$pod_netns" addr add "$addr/32" dev eth0
  ip -n "$pod_netns" link set eth0 up
  ip -n "$pod_netns" route add "$LAB_POD_GATEWAY" dev eth0 scope link
  ip -n "$pod_netns" route add default via "$LAB_POD_GATEWAY" dev eth0
  ip -n "$LAB_NS_NODE" addr add "$LAB_POD_GATEWAY/32" dev "$veth"
  ip -n "$LAB_NS_NODE" link set "$veth" up
  ip -n "$LAB_NS_NODE" route add "$addr/32" dev "$veth"
  # shellcheck disable=SC2086  # pod_listen holds several "--listen X" words on purpose
  lab_start "echo-$n" "$pod_netns" "$echo_bin" --pod "${pod_name[$addr]}" --namespace "${pod_ns[$addr]}" \
    ${pod_listen[$addr]}
  ports=${pod_listen[$addr]// --listen / }
  lab_say "lab $LAB: $pod_netns  ${pod_ns[$addr]}/${pod_name[$addr]}  ports:$ports"
done

# Polls until CMD succeeds or the timeout passes; fails early if a lab daemon died.
wait_for() {
  local what=$1 deadline=$((SECONDS + timeout_s)) pidfile
  shift
  until "$@"; do
    for pidfile in "$LAB_STATE_DIR"/*.pid; do
      [ -f "$pidfile" ] || continue
      lab_pid_of "$pidfile" >/dev/null || fail "$(basename "$pidfile" .pid) exited while waiting for $what"
    done
    [ $SECONDS -lt $deadline ] || fail "timed out after ${timeout_s}s waiting for $what"
    sleep 0.2
  done
}
# Any HTTP status (even 404/503) means something answered on that address.
http_answers() {
  local code
  code=$(ip netns exec "$1" curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$2/" 2>/dev/null) || true
  [ -n "$code" ] && [ "$code" != 000 ]
}

for key in "${!seen_port[@]}"; do
  wait_for "the echo backend at $key" http_answers "$LAB_NS_NODE" "$key"
done
lab_say "lab $LAB: ${#pod_addrs[@]} pod(s) answering"

if [ "$backends_only" -eq 0 ]; then
  mkdir -p "$LAB_BPFFS"
  mount -t bpf bpffs "$LAB_BPFFS"
  lab_start agent "$LAB_NS_NODE" env LIBXDP_BPFFS="$LAB_BPFFS" "$agent_bin" \
    --manifests "$manifests" --pin-root "$LAB_PIN_ROOT" --control-socket "$LAB_CONTROL_SOCKET" \
    --publish-service xgress-system/xgress --interfaces "$LAB_NODE_CLIENT_IF" --log-level info \
    ${XGRESS_LAB_AGENT_ARGS:-}
  proxy_args=(--listen "$LAB_PROXY_LISTEN" --control-socket "$LAB_CONTROL_SOCKET")
  [ -z "${XGRESS_LAB_PROXY_WORKERS:-}" ] || proxy_args+=(--workers "$XGRESS_LAB_PROXY_WORKERS")
  # shellcheck disable=SC2206  # word-split on purpose, as XGRESS_LAB_AGENT_ARGS
  proxy_args+=(${XGRESS_LAB_PROXY_ARGS:-})
  lab_start proxy "$LAB_NS_NODE" "$proxy_bin" "${proxy_args[@]}"
  wait_for "the client to reach $LAB_NODE_ADDR:$LAB_NODE_PORT" \
    http_answers "$LAB_NS_CLIENT" "$LAB_NODE_ADDR:$LAB_NODE_PORT"
  lab_say "lab $LAB: up; the client reaches $LAB_NODE_ADDR:$LAB_NODE_PORT (try: XGRESS_LAB=$LAB tools/lab/client.sh curl -H 'Host: ...' http://$LAB_NODE_ADDR:$LAB_NODE_PORT/)"
else
  lab_say "lab $LAB: up with backends only (no agent, no proxy)"
fi
printf '%s\n' "$LAB_NODE_ADDR"

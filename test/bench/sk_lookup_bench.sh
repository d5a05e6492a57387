#!/usr/bin/env bash
# New TCP connections per second to one accept-and-close server, reached
#   steer     through xgress's sk_lookup steering on NodePort 30080 (no NAT),
#   redirect  through an iptables nat PREROUTING REDIRECT rule (port 20080),
#   dnat      through an iptables nat PREROUTING DNAT rule (port 20081),
# the last two being what kube-proxy does. Not a test: prints figures and
# ratios (target, issue 3: steer / redirect >= 1.0).
#
#   sudo test/bench/sk_lookup_bench.sh --build BUILD_DIR           # 5 rounds x 5 s
#   sudo test/bench/sk_lookup_bench.sh --build BUILD_DIR --quick   # 3 rounds x 2 s
#   options: --seconds S --rounds N --concurrency C --client-cpu C --server-cpu C
#
# Layout: namespaces xgh-bpf-<pid>-cli and -node joined by a veth (client
# 198.18.0.2-4, one source address per contender; node 198.18.0.1). In the
# node namespace one process
# (build/test/bench/bench_dataplane up --listener-port 10080) attaches xgress's
# XDP and sk_lookup programs through the agent's Dataplane, programs NodePort
# 30080 -> listener slot 0, binds 0.0.0.0:10080, puts that socket in slot 0 and
# accepts-and-closes, pinned to the server CPU. The same socket serves every
# contender. The client (build/test/bench/connect_rate_client, pinned to the
# client CPU) keeps --concurrency connects in flight and counts connections the
# server accepted and closed. The nat rule exists only during its own runs and
# its table is deleted afterwards, so conntrack's hooks do not tax the other
# contenders. XDP and sk_lookup stay attached throughout: the NAT contenders
# pay XDP's fast path (unused port: two array reads) and sk_lookup's (one
# array read) per SYN, as they would on a node running xgress. Contenders
# rotate order each round; each round's idle CPU before and steal during are
# shown.
set -euo pipefail

BUILD=build SECONDS_RUN=5 ROUNDS=5 CONCURRENCY=32 CLIENT_CPU=0 SERVER_CPU=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --quick) SECONDS_RUN=2 ROUNDS=3; shift ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CLIENT=$BUILD/test/bench/connect_rate_client
DATAPLANE=$BUILD/test/bench/bench_dataplane
for bin in "$CLIENT" "$DATAPLANE"; do
  [ -x "$bin" ] || { echo "missing $bin (build the test/bench targets)" >&2; exit 1; }
done
command -v iptables >/dev/null && command -v nft >/dev/null ||
  { echo "needs iptables and nft (tools/install-deps.sh)" >&2; exit 1; }

TAG=xgh-bpf-$$
CLI=$TAG-cli NODE=$TAG-node
IF_CLI=xgsc$$ IF_NODE=xgsn$$
STATE=/run/$TAG BPFFS=/run/$TAG/bpffs
PIN=$BPFFS/xgress
NODE_IP=198.18.0.1 SERVER_PID=

in_node() { ip netns exec "$NODE" "$@"; }

cleanup() {
  set +e
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  if [ -d "$PIN" ]; then
    in_node env LIBXDP_BPFFS="$BPFFS" "$DATAPLANE" down --pin-root "$PIN" --interface "$IF_NODE" >/dev/null 2>&1
  fi
  ip netns del "$CLI" 2>/dev/null
  ip netns del "$NODE" 2>/dev/null
  mountpoint -q "$BPFFS" && umount "$BPFFS"
  rm -rf "$STATE"
}
trap cleanup EXIT INT TERM

mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
ip netns add "$CLI"
ip netns add "$NODE"
ip link add "$IF_CLI" netns "$CLI" type veth peer name "$IF_NODE" netns "$NODE"
ip -n "$CLI" addr add 198.18.0.2/24 dev "$IF_CLI"
# One client source address per contender: REDIRECT and DNAT lead to the same
# server port, so with a shared source their conntrack entries and TIME_WAIT
# sockets collide (a clashing DNAT reply tuple drops the SYN: 1 s retries).
ip -n "$CLI" addr add 198.18.0.3/24 dev "$IF_CLI"
ip -n "$CLI" addr add 198.18.0.4/24 dev "$IF_CLI"
ip -n "$NODE" addr add $NODE_IP/24 dev "$IF_NODE"
for ns in "$CLI" "$NODE"; do ip -n "$ns" link set lo up; done
ip -n "$CLI" link set "$IF_CLI" up
ip -n "$NODE" link set "$IF_NODE" up
# accept-and-close at high rates leaves many server-side TIME_WAITs and
# client ports cycling fast: give both room.
ip netns exec "$CLI" sysctl -qw net.ipv4.ip_local_port_range="10000 60999"
in_node sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096

# Not through in_node: a backgrounded shell function is a subshell, and $! would
# name it rather than the server (ip netns exec, env and taskset all exec).
ip netns exec "$NODE" env LIBXDP_BPFFS="$BPFFS" taskset -c "$SERVER_CPU" "$DATAPLANE" up --pin-root "$PIN" \
  --interface "$IF_NODE" --node-address $NODE_IP --node-port 30080 \
  --listener-port 10080 --listener-address 0.0.0.0 >"$STATE/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q '^listening' "$STATE/server.log" && break; sleep 0.1; done
grep -q '^listening' "$STATE/server.log" || { cat "$STATE/server.log" >&2; exit 1; }

assigned() { in_node "$DATAPLANE" count --pin-root "$PIN" | awk '$1 == "sk_lookup_assigned" { print $2 }'; }
stat_cpu() { awk '/^cpu / { print $5 + $6, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
nat_up() {
  case "$1" in
    redirect) in_node iptables -t nat -A PREROUTING -d $NODE_IP/32 -p tcp --dport 20080 -j REDIRECT --to-ports 10080 ;;
    dnat) in_node iptables -t nat -A PREROUTING -d $NODE_IP/32 -p tcp --dport 20081 -j DNAT --to-destination $NODE_IP:10080 ;;
  esac
}
nat_down() {
  case "$1" in
    redirect | dnat) in_node iptables -t nat -F; in_node nft delete table ip nat 2>/dev/null || true ;;
  esac
}
source_of() {
  case "$1" in steer) echo 198.18.0.2 ;; redirect) echo 198.18.0.3 ;; dnat) echo 198.18.0.4 ;; esac
}
target_of() {
  case "$1" in steer) echo $NODE_IP:30080 ;; redirect) echo $NODE_IP:20080 ;; dnat) echo $NODE_IP:20081 ;; esac
}

RESULTS=$(mktemp /tmp/sk_lookup_bench.XXXXXX)
run_one() {
  local who=$1 round=$2 a0 a1 s0 s1 out
  nat_up "$who"
  s0=$(stat_cpu); sleep 0.5; s1=$(stat_cpu)
  local idle; idle=$(echo "$s0 $s1" | awk '{ d = $6 - $3; printf "%.0f", (d > 0 ? 100 * ($4 - $1) / d : 0) }')
  a0=$(assigned)
  out=$(ip netns exec "$CLI" taskset -c "$CLIENT_CPU" "$CLIENT" --target "$(target_of "$who")" --source "$(source_of "$who")" \
        --seconds "$SECONDS_RUN" --concurrency "$CONCURRENCY")
  a1=$(assigned); s1=$(stat_cpu)
  nat_down "$who"
  echo "$who $round $out $((a1 - a0)) $idle $s0 $s1" | awk -v results="$RESULTS" '{
    # who round connections N failures F seconds S rate R steered idle s0(3) s1(3)
    who = $1; rate = $10; steered = $11; idle = $12; steal = $17 - $14
    printf "%-9s round %d  %8.0f conn/s  (%d connections, %d failures, %d steered by sk_lookup)  idle-before %d%%  steal %d ticks%s\n",
      who, $2, rate, $4, $6, steered, idle, steal, idle < 85 ? "  BUSY" : ""
    printf "%s %d %f\n", who, $2, rate >> results
  }'
}

echo "sk_lookup_bench: $ROUNDS rounds x $SECONDS_RUN s, concurrency $CONCURRENCY, client cpu$CLIENT_CPU," \
     "server cpu$SERVER_CPU; kernel $(uname -r)"
contenders=(steer redirect dnat)
for ((round = 1; round <= ROUNDS; round++)); do
  for ((i = 0; i < ${#contenders[@]}; i++)); do
    run_one "${contenders[$(((i + round - 1) % ${#contenders[@]}))]}" "$round"
  done
done

echo
awk '
  { rate[$1, $2] = $3; vals[$1] = vals[$1] " " $3; if ($2 > rounds) rounds = $2 }
  function median(s,    a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "median conn/s: steer %.0f   redirect %.0f   dnat %.0f\n", median(vals["steer"]), median(vals["redirect"]), median(vals["dnat"])
    for (r = 1; r <= rounds; r++) {
      if (rate["redirect", r] > 0) pr = pr " " rate["steer", r] / rate["redirect", r]
      if (rate["dnat", r] > 0) pd = pd " " rate["steer", r] / rate["dnat", r]
    }
    n = split(pr, a, " "); lo = 1e9; hi = 0; for (i = 1; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
    printf "steer / redirect = %.3f (median of per-round ratios; range %.3f-%.3f)   target >= 1.0\n", median(pr), lo, hi
    n = split(pd, a, " "); lo = 1e9; hi = 0; for (i = 1; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
    printf "steer / dnat     = %.3f (median of per-round ratios; range %.3f-%.3f)\n", median(pd), lo, hi
  }' "$RESULTS"
rm -f "$RESULTS"

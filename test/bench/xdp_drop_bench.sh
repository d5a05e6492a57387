#!/usr/bin/env bash
# Receiver CPU per dropped packet: xgress's XDP drop of an unallocated NodePort
# vs an nftables netdev-ingress drop rule vs an iptables raw PREROUTING drop,
# all fed the same fixed offered load by the same sender over the same veth.
# Not a test: prints figures and ratios (targets, issue 3: xgress <= 0.5x
# nftables and <= 0.35x iptables).
#
#   sudo test/bench/xdp_drop_bench.sh --build BUILD_DIR            # 5 rounds x 16M frames
#   sudo test/bench/xdp_drop_bench.sh --build BUILD_DIR --quick    # 2 rounds x 8M frames
#   options: --frames N (offered per run) --rate PPS (0 = sender's full speed,
#            the default) --rounds N --batch N (frames per sender call)
#            --sender-cpu C --receiver-cpu C
#
# Offered load: every contender is offered the same number of frames at the
# same rate. The sender cannot pace finely (each BPF_PROG_RUN call costs ~25 ms
# of setup here, so calls must be large), so by default it sends as fast as it
# can (7-10 Mpps); the veth's 256-frame ring then drops, cheaply and before the
# receiver's filter, whatever the receiver cannot absorb. The figure compared is
# the receiver's CPU per frame its filter actually dropped (the filter's own
# counter), and the share of offered frames that reached the filter is shown.
#
# Layout (see /work/shared/benchmarking.md): two namespaces joined by a veth;
# the sender (build/test/bench/live_frames_sender: BPF_PROG_RUN with
# BPF_F_TEST_XDP_LIVE_FRAMES returning XDP_TX, valid IPv4/TCP checksums) runs
# on the sender CPU; the node side of the veth uses threaded NAPI, its NAPI
# thread pinned to the receiver CPU. All receive work (XDP, skb allocation,
# netfilter) runs in that thread, so its CPU time (/proc/PID/schedstat, ns)
# divided by the frames the filter counted is the receiver cost per packet.
# The receiver CPU's system+irq+softirq time from /proc/stat is printed too as
# a cross-check (it includes anything else that ran there).
#
# Contenders, each matching destination 198.18.0.1 TCP port 30999:
#   xdp       xgress's own XDP program, attached and programmed through the
#             agent's Dataplane (build/test/bench/bench_dataplane): 30999 is
#             an unallocated NodePort (NodePort 30080 is the one frontend)
#   nft       table netdev, chain hook ingress, "ip daddr . tcp dport ... drop"
#   iptables  -t raw -A PREROUTING -d ... -p tcp --dport ... -j DROP
#   floor     (reference, not a contender) the cheapest XDP program that reads
#             the packet: loads one byte of the TCP port and drops. Touching
#             the frame at all costs a cache-line transfer from the sender's
#             CPU, so this is the least any classifier can cost here.
# Rounds alternate the contenders. Everything lives in namespaces named
# xgh-bpf-<pid>-*, removed on exit.
set -euo pipefail

BUILD=build RATE=0 FRAMES=16000000 ROUNDS=5 BATCH=4000000 SENDER_CPU=0 RECEIVER_CPU=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --quick) FRAMES=8000000 ROUNDS=2; shift ;;
    --rate) RATE=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --sender-cpu) SENDER_CPU=$2; shift 2 ;;
    --receiver-cpu) RECEIVER_CPU=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
SENDER=$BUILD/test/bench/live_frames_sender
DATAPLANE=$BUILD/test/bench/bench_dataplane
for bin in "$SENDER" "$DATAPLANE"; do
  [ -x "$bin" ] || { echo "missing $bin (build the test/bench targets)" >&2; exit 1; }
done
command -v nft >/dev/null && command -v iptables >/dev/null ||
  { echo "needs nft and iptables (tools/install-deps.sh)" >&2; exit 1; }

TAG=xgh-bpf-$$
SND=$TAG-snd NODE=$TAG-node
IF_SND=xgbs$$ IF_NODE=xgbn$$
STATE=/run/$TAG BPFFS=/run/$TAG/bpffs
PIN=$BPFFS/xgress
NODE_IP=198.18.0.1 PORT=30999

in_node() { ip netns exec "$NODE" "$@"; }

cleanup() {
  set +e
  if [ -d "$PIN" ]; then
    in_node env LIBXDP_BPFFS="$BPFFS" "$DATAPLANE" down --pin-root "$PIN" --interface "$IF_NODE" >/dev/null 2>&1
  fi
  ip netns del "$SND" 2>/dev/null
  ip netns del "$NODE" 2>/dev/null
  mountpoint -q "$BPFFS" && umount "$BPFFS"
  rm -rf "$STATE"
}
trap cleanup EXIT INT TERM

mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
ip netns add "$SND"
ip netns add "$NODE"
ip link add "$IF_SND" netns "$SND" type veth peer name "$IF_NODE" netns "$NODE"
ip -n "$SND" addr add 198.18.0.2/24 dev "$IF_SND"
ip -n "$NODE" addr add $NODE_IP/24 dev "$IF_NODE"
ip -n "$SND" link set "$IF_SND" up
ip -n "$NODE" link set "$IF_NODE" up
ip -n "$NODE" link set lo up
# Threaded NAPI on the receiving side: a kernel thread we can pin and time.
# GRO on makes veth keep NAPI (and so accept XDP_TX frames) with no XDP program.
in_node ethtool -K "$IF_NODE" gro on >/dev/null 2>&1 || true
in_node sh -c "echo 1 > /sys/class/net/$IF_NODE/threaded"
NODE_MAC=$(in_node cat "/sys/class/net/$IF_NODE/address")

napi_pid() { ps -eo pid=,comm= | awk -v n="napi/$IF_NODE" 'index($2, n) == 1 { print $1; exit }'; }
thread_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
# system + irq + softirq jiffies, idle jiffies, steal jiffies of one CPU
cpu_fields() { awk -v c="cpu$1" '$1 == c { print $4 + $7 + $8, $5, $9 }' /proc/stat; }
idle_pct() {  # idle % of both CPUs over 0.5 s: was the machine quiet before the run?
  local a b
  a=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep 0.5
  b=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  echo "$a $b" | awk '{ d = $4 - $2; printf "%.0f", (d > 0 ? 100 * ($3 - $1) / d : 0) }'
}

filter_up() {
  case "$1" in
    xdp)
      in_node env LIBXDP_BPFFS="$BPFFS" "$DATAPLANE" up --pin-root "$PIN" --interface "$IF_NODE" \
        --node-address $NODE_IP --node-port 30080 >/dev/null 2>&1 ;;
    nft)
      in_node nft -f - <<EOF
table netdev xgb {
  chain in {
    type filter hook ingress device "$IF_NODE" priority 0;
    ip daddr $NODE_IP tcp dport $PORT counter drop
  }
}
EOF
      ;;
    iptables)
      in_node iptables -t raw -A PREROUTING -d $NODE_IP/32 -p tcp --dport $PORT -j DROP ;;
    floor)
      in_node "$DATAPLANE" floor --interface "$IF_NODE" ;;
  esac
}
filter_count() {
  case "$1" in
    xdp) in_node "$DATAPLANE" count --pin-root "$PIN" | awk '$1 == "xdp_nodeport_dropped" { print $2 }' ;;
    nft) in_node nft list chain netdev xgb in | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' ;;
    iptables) in_node iptables -t raw -L PREROUTING -v -x -n | awk '$3 == "DROP" { print $1 }' ;;
    floor) in_node ethtool -S "$IF_NODE" | awk '/rx_queue_0_xdp_drops/ { print $2 }' ;;
  esac
}
filter_down() {
  case "$1" in
    xdp) in_node env LIBXDP_BPFFS="$BPFFS" "$DATAPLANE" down --pin-root "$PIN" --interface "$IF_NODE" >/dev/null 2>&1 ;;
    nft) in_node nft delete table netdev xgb ;;
    iptables) in_node iptables -t raw -F PREROUTING ;;
    floor) in_node "$DATAPLANE" floor --interface "$IF_NODE" --off ;;
  esac
}

RESULTS=$(mktemp /tmp/xdp_drop_bench.XXXXXX)
run_one() {  # contender round
  local who=$1 round=$2
  filter_up "$who"
  local pid; pid=$(napi_pid)
  [ -n "$pid" ] || { echo "no NAPI thread for $IF_NODE" >&2; exit 1; }
  taskset -pc "$RECEIVER_CPU" "$pid" >/dev/null
  local idle; idle=$(idle_pct)
  local t0 c0 n0 t1 c1 n1 out
  t0=$(thread_ns "$pid"); c0=$(cpu_fields "$RECEIVER_CPU"); n0=$(filter_count "$who")
  out=$(ip netns exec "$SND" taskset -c "$SENDER_CPU" "$SENDER" --interface "$IF_SND" --dst-mac "$NODE_MAC" \
        --dst $NODE_IP --dport $PORT --rate "$RATE" --frames "$FRAMES" --seconds 120 --batch "$BATCH")
  sleep 0.2  # let the receiver drain its ring
  t1=$(thread_ns "$pid"); c1=$(cpu_fields "$RECEIVER_CPU"); n1=$(filter_count "$who")
  filter_down "$who"
  local offered; offered=$(echo "$out" | awk '{ print $2 }')
  echo "$who $round $offered $((n1 - n0)) $((t1 - t0)) $c0 $c1 $idle" |
    awk -v hz="$(getconf CLK_TCK)" -v results="$RESULTS" '{
      who = $1; round = $2; offered = $3; n = $4; ns = $5
      sys = ($9 - $6) * 1e9 / hz; steal = ($11 - $8); idle_before = $12
      printf "%-9s round %d  offered %9d  filter dropped %9d (%5.1f%%)  napi %7.1f ns/pkt  cpu%s sys+si %7.1f ns/pkt  steal %d ticks  idle-before %d%%%s\n",
        who, round, offered, n, offered ? 100 * n / offered : 0, n ? ns / n : 0, "'"$RECEIVER_CPU"'",
        n ? sys / n : 0, steal, idle_before, idle_before < 85 ? "  BUSY" : ""
      printf "%s %f %f\n", who, n ? ns / n : 0, n ? sys / n : 0 >> results
    }'
}

echo "xdp_drop_bench: $FRAMES frames per run at rate $RATE pps (0 = full speed), $ROUNDS rounds, batch $BATCH;" \
     "sender cpu$SENDER_CPU, receiver NAPI cpu$RECEIVER_CPU; kernel $(uname -r)"
contenders=(xdp nft iptables floor)
for ((round = 1; round <= ROUNDS; round++)); do
  # rotate the order each round so drift does not favour one contender
  for ((i = 0; i < ${#contenders[@]}; i++)); do
    run_one "${contenders[$(((i + round - 1) % ${#contenders[@]}))]}" "$round"
  done
done

echo
echo "median over rounds (receiver NAPI thread CPU per dropped packet):"
awk '
  { vals[$1] = vals[$1] " " $2; sysv[$1] = sysv[$1] " " $3 }
  function median(s,    a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    x = median(vals["xdp"]); f = median(vals["nft"]); p = median(vals["iptables"]); r = median(vals["floor"])
    printf "  xgress XDP drop        %7.1f ns/pkt  (cpu sys+si %7.1f)\n", x, median(sysv["xdp"])
    printf "  nftables netdev drop   %7.1f ns/pkt  (cpu sys+si %7.1f)\n", f, median(sysv["nft"])
    printf "  iptables raw drop      %7.1f ns/pkt  (cpu sys+si %7.1f)\n", p, median(sysv["iptables"])
    printf "  floor (read + drop)    %7.1f ns/pkt  (cpu sys+si %7.1f)\n", r, median(sysv["floor"])
    if (f > 0) printf "  xgress / nftables  = %.3f   (target <= 0.5)   floor / nftables = %.3f\n", x / f, r / f
    if (p > 0) printf "  xgress / iptables  = %.3f   (target <= 0.35)  floor / iptables = %.3f\n", x / p, r / p
  }' "$RESULTS"
rm -f "$RESULTS"

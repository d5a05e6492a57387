#!/usr/bin/env bash
# Receiver CPU per dropped packet: xgress's XDP drop of an unallocated NodePort
# vs an nftables netdev-ingress drop rule vs an iptables raw PREROUTING drop,
# all fed the same fixed offered load by the same sender over the same veth.
# Not a test: prints figures and ratios (targets, issue 3: xgress <= 0.5x
# nftables and <= 0.35x iptables).
#
#   sudo test/bench/xdp_drop_bench.sh --build BUILD_DIR            # 5 rounds x 2M frames at 400 kpps
#   sudo test/bench/xdp_drop_bench.sh --build BUILD_DIR --quick    # 2 rounds x 1M frames
#   options: --rate PPS (fixed offered rate, default 400000; 0 = the sender's
#            full speed, the old artefact-prone mode) --frames N (per run)
#            --rounds N --burst N (frames per token-bucket slot, default 128)
#            --sender-cpu C --receiver-cpu C --no-rt
#            --contenders "xdp nft iptables floor" (which run, in this order)
#            --xdp-variant LABEL=BENCH_DATAPLANE (repeatable): one more xgress
#              contender, xdp:LABEL, put up by another build's bench_dataplane
#              (which embeds that build's XDP object and ABI): the A/B of two
#              versions of the program, alternated in the same rounds; the
#              summary adds each variant's per-round ratio to `xdp`
#            --pace spin|drop: how the sender waits between bursts (default
#              spin: inside its program, so every frame it builds is sent;
#              drop: the old way, dropping the frames built meanwhile, which
#              loads the page_pool lock the receiver returns frames through:
#              see live_frames_sender.cpp)  --sender BIN: another sender binary
#            --pool-batch N: the sender's live-frames batch_size, which is also
#              its page_pool's size (default 256, the kernel's maximum; the
#              kernel's own default, 64, is smaller than a burst in flight, so
#              the receiver's returns overflowed the pool and every frame cost
#              a page free + allocation: see live_frames_sender.cpp)
#            --perf DIR: sample the NAPI thread (perf cpu-clock, 4 kHz) during
#              each run into DIR/<contender>.<round>.data and print the top
#              symbols of the last round per contender (where the ns go)
#
# Offered load: every contender gets the same fixed rate, paced inside the
# sender's own XDP program (a token bucket on bpf_ktime_get_ns(): XDP_TX when a
# burst is due; between bursts the program waits for the clock, so every frame
# built is sent and the sender does not load the page_pool the receiver
# returns frames into. Until this change it returned XDP_DROP meanwhile, and
# together with a page_pool smaller than a burst in flight that put ~55-60 %
# of every contender's receiver time into page_pool locking and page frees:
# floor 598 -> 126 ns, nft 966 -> 342, iptables 995 -> 460, xgress 625 -> 141,
# one busy host, see test/bench/README.md). The
# rate sits below the slowest contender's capacity (iptables tops out near
# 1 Mpps), so the receiver's 256-frame veth ring never overflows: each run
# checks that (the sender veth's tx_queue_0_xdp_xmit_errors, i.e. frames the
# peer's ring refused) and flags a run that lost more than 0.1 %. At full speed
# (the old method) the ring overflowed and the sender returned the excess into
# the same page_pool ring the receiver returns into, and ~68 % of the
# receiver's time went to that spinlock: an artefact, not the filter.
# Bursts of --burst frames (like a NIC's interrupt coalescing) leave the NAPI
# thread asleep between bursts; its wake-up is paid per burst by every
# contender alike, and shows in the floor figure.
#
# The NAPI thread (and the sender) run SCHED_FIFO (--no-rt: not), so the
# compiles of other users of the machine cannot delay the receiver into
# overflowing its ring; a NIC's softirq preempts them the same way.
#
# Layout (see /work/shared/benchmarking.md): two namespaces joined by a veth;
# the sender (build/test/bench/live_frames_sender: BPF_PROG_RUN with
# BPF_F_TEST_XDP_LIVE_FRAMES returning XDP_TX, valid IPv4/TCP checksums) runs
# on the sender CPU; the node side of the veth uses threaded NAPI, its NAPI
# thread pinned to the receiver CPU. All receive work (XDP, skb allocation,
# netfilter) runs in that thread, so its CPU time (/proc/PID/schedstat, ns)
# plus the receiver CPU's irq + softirq time (/proc/stat; whatever ran in
# softirq context there rather than in the thread), divided by the frames the
# filter counted (its own counter), is the receiver cost per packet.
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

BUILD=build RATE=400000 FRAMES=2000000 ROUNDS=5 BURST=128 BATCH=5000000 SENDER_CPU=0 RECEIVER_CPU=1 RT=1
CONTENDERS="xdp nft iptables floor" VARIANTS=() PERF_DIR="" PACE=spin SENDER="" POOL_BATCH=256
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --quick) FRAMES=1000000 ROUNDS=2; shift ;;
    --burst) BURST=$2; shift 2 ;;
    --no-rt) RT=0; shift ;;
    --rate) RATE=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --sender-cpu) SENDER_CPU=$2; shift 2 ;;
    --receiver-cpu) RECEIVER_CPU=$2; shift 2 ;;
    --contenders) CONTENDERS=$2; shift 2 ;;
    --xdp-variant) VARIANTS+=("$2"); shift 2 ;;
    --perf) PERF_DIR=$2; shift 2 ;;
    --pace) PACE=$2; shift 2 ;;
    --sender) SENDER=$2; shift 2 ;;
    --pool-batch) POOL_BATCH=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
SENDER=${SENDER:-$BUILD/test/bench/live_frames_sender}
DATAPLANE=$BUILD/test/bench/bench_dataplane
for bin in "$SENDER" "$DATAPLANE"; do
  [ -x "$bin" ] || { echo "missing $bin (build the test/bench targets)" >&2; exit 1; }
done
# xdp:LABEL contenders: bench_dataplane binary per label
declare -A VARIANT_BIN=()
for v in "${VARIANTS[@]}"; do
  label=${v%%=*} bin=${v#*=}
  [ -x "$bin" ] || { echo "--xdp-variant $v: $bin is not executable" >&2; exit 1; }
  VARIANT_BIN[$label]=$bin
  CONTENDERS="$CONTENDERS xdp:$label"
done
if [ -n "$PERF_DIR" ]; then
  command -v perf >/dev/null || { echo "--perf needs perf" >&2; exit 1; }
  mkdir -p "$PERF_DIR"
fi
# the bench_dataplane that puts up (and counts, and takes down) contender $1
dataplane_of() { case "$1" in xdp:*) echo "${VARIANT_BIN[${1#xdp:}]}" ;; *) echo "$DATAPLANE" ;; esac; }
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
  [ -n "${PERF_PID:-}" ] && kill "$PERF_PID" 2>/dev/null
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
# irq + softirq jiffies, idle jiffies, steal jiffies of one CPU
cpu_fields() { awk -v c="cpu$1" '$1 == c { print $7 + $8, $5, $9 }' /proc/stat; }
# frames the receiving veth's ring refused (counted on the sending side)
ring_overflows() { ip netns exec "$SND" ethtool -S "$IF_SND" | awk '$1 == "tx_queue_0_xdp_xmit_errors:" { print $2 }'; }
idle_pct() {  # idle % of both CPUs over 0.5 s: was the machine quiet before the run?
  local a b
  a=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep 0.5
  b=$(awk '/^cpu /{ print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  echo "$a $b" | awk '{ d = $4 - $2; printf "%.0f", (d > 0 ? 100 * ($3 - $1) / d : 0) }'
}

filter_up() {
  case "$1" in
    xdp|xdp:*)
      in_node env LIBXDP_BPFFS="$BPFFS" "$(dataplane_of "$1")" up --pin-root "$PIN" --interface "$IF_NODE" \
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
    xdp|xdp:*) in_node "$(dataplane_of "$1")" count --pin-root "$PIN" | awk '$1 == "xdp_nodeport_dropped" { print $2 }' ;;
    nft) in_node nft list chain netdev xgb in | awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }' ;;
    iptables) in_node iptables -t raw -L PREROUTING -v -x -n | awk '$3 == "DROP" { print $1 }' ;;
    floor) in_node ethtool -S "$IF_NODE" | awk '/rx_queue_0_xdp_drops/ { print $2 }' ;;
  esac
}
filter_down() {
  case "$1" in
    xdp|xdp:*) in_node env LIBXDP_BPFFS="$BPFFS" "$(dataplane_of "$1")" down --pin-root "$PIN" --interface "$IF_NODE" >/dev/null 2>&1 ;;
    nft) in_node nft delete table netdev xgb ;;
    iptables) in_node iptables -t raw -F PREROUTING ;;
    floor) in_node "$DATAPLANE" floor --interface "$IF_NODE" --off ;;
  esac
}

RESULTS=$(mktemp /tmp/xdp_drop_bench.XXXXXX)
SEND_PREFIX=()
[ "$RT" = 1 ] && SEND_PREFIX=(chrt -f 50)
run_one() {  # contender round
  local who=$1 round=$2
  filter_up "$who"
  local pid; pid=$(napi_pid)
  [ -n "$pid" ] || { echo "no NAPI thread for $IF_NODE" >&2; exit 1; }
  taskset -pc "$RECEIVER_CPU" "$pid" >/dev/null
  [ "$RT" = 1 ] && chrt -f -p 50 "$pid"
  local idle; idle=$(idle_pct)
  local t0 c0 n0 o0 t1 c1 n1 o1 out
  t0=$(thread_ns "$pid"); c0=$(cpu_fields "$RECEIVER_CPU"); n0=$(filter_count "$who"); o0=$(ring_overflows)
  if [ -n "$PERF_DIR" ]; then
    perf record -q -e cpu-clock -F 4000 -t "$pid" -o "$PERF_DIR/${who/:/_}.$round.data" >/dev/null 2>&1 &
    PERF_PID=$!
    sleep 0.3
  fi
  out=$(ip netns exec "$SND" "${SEND_PREFIX[@]}" taskset -c "$SENDER_CPU" "$SENDER" --interface "$IF_SND" \
        --dst-mac "$NODE_MAC" --dst $NODE_IP --dport $PORT --rate "$RATE" --burst "$BURST" --pace "$PACE" --pool-batch "$POOL_BATCH" --frames "$FRAMES" \
        --seconds 120 --batch "$BATCH")
  sleep 0.2  # let the receiver drain its ring
  if [ -n "$PERF_DIR" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; PERF_PID=""; fi
  t1=$(thread_ns "$pid"); c1=$(cpu_fields "$RECEIVER_CPU"); n1=$(filter_count "$who"); o1=$(ring_overflows)
  filter_down "$who"
  local offered rate; offered=$(echo "$out" | awk '{ print $2 }'); rate=$(echo "$out" | awk '{ print $6 }')
  echo "$who $round $offered $rate $((n1 - n0)) $((t1 - t0)) $((o1 - o0)) $c0 $c1 $idle" |
    awk -v hz="$(getconf CLK_TCK)" -v results="$RESULTS" -v cpu="$RECEIVER_CPU" '{
      who = $1; round = $2; offered = $3; rate = $4; n = $5; ns = $6; lost = $7
      si = ($11 - $8) * 1e9 / hz; steal = ($13 - $10); idle_before = $14
      flag = (offered && lost > offered / 1000) ? "  RING-OVERFLOW" : ""
      if (idle_before < 85) flag = flag "  BUSY"
      printf "%-9s round %d  offered %8d at %7.0f pps  ring overflow %6d  filter dropped %8d  napi %6.1f + cpu%s si %5.1f = %6.1f ns/pkt  steal %d ticks  idle-before %d%%%s\n",
        who, round, offered, rate, lost, n, n ? ns / n : 0, cpu, n ? si / n : 0, n ? (ns + si) / n : 0,
        steal, idle_before, flag
      printf "%s %d %f %f %f %d\n", who, round, n ? (ns + si) / n : 0, n ? ns / n : 0, rate, lost >> results
    }'
}

echo "xdp_drop_bench: $FRAMES frames per run at a fixed $RATE pps (0 = full speed) in bursts of $BURST (sender waits: $PACE, page_pool $POOL_BATCH)," \
     "$ROUNDS rounds; sender cpu$SENDER_CPU, receiver NAPI cpu$RECEIVER_CPU (SCHED_FIFO: $RT); kernel $(uname -r)"
read -r -a contenders <<<"$CONTENDERS"
echo "contenders: ${contenders[*]}$( [ ${#VARIANT_BIN[@]} -gt 0 ] && for l in "${!VARIANT_BIN[@]}"; do printf '; xdp:%s = %s' "$l" "${VARIANT_BIN[$l]}"; done )"
for ((round = 1; round <= ROUNDS; round++)); do
  # rotate the order each round so drift does not favour one contender
  for ((i = 0; i < ${#contenders[@]}; i++)); do
    run_one "${contenders[$(((i + round - 1) % ${#contenders[@]}))]}" "$round"
  done
done

echo
echo "over $ROUNDS rounds at $RATE pps offered: median [min-max] of receiver CPU (NAPI thread + softirq) per dropped packet"
echo "(ratios: median of per-round ratios, each round's contenders ran back to back; trust them over ratios of medians on a busy host):"
awk -v list="${contenders[*]}" '
  { tot[$1] = tot[$1] " " $3; napi[$1] = napi[$1] " " $4; rate[$1] = rate[$1] " " $5; lost[$1] += $6
    per[$1, $2] = $3; rounds[$2] = 1 }
  function sorted(s, a,    n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n
  }
  function median(s,    a, n) { n = sorted(s, a); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function spread(s, fmt,    a, n) { n = sorted(s, a); return sprintf("[" fmt "-" fmt "]", a[1], a[n]) }
  function ratio(x, y,    r, s) {  # per-round ratios (same round = interleaved pair): median [min-max]
    s = ""; for (r in rounds) if (per[y, r] > 0) s = s " " per[x, r] / per[y, r]
    return sprintf("%.3f  (per-round %s)", median(s), spread(s, "%.3f"))
  }
  function above(x, y, f,    r, s) {  # per-round (x - floor) / (y - floor)
    s = ""; for (r in rounds) if (per[y, r] > per[f, r]) s = s " " (per[x, r] - per[f, r]) / (per[y, r] - per[f, r])
    return s == "" ? "n/a" : sprintf("%.3f  (per-round %s)", median(s), spread(s, "%.3f"))
  }
  END {
    label["xdp"] = "xgress XDP drop"; label["nft"] = "nftables netdev drop"
    label["iptables"] = "iptables raw drop"; label["floor"] = "floor (read + drop)"
    n = split(list, who, " ")
    for (i = 1; i <= n; i++) { w = who[i]; if (!(w in label)) label[w] = "xgress " w
      printf "  %-22s %7.1f ns/pkt %-16s (NAPI thread alone %6.1f)  offered %7.0f pps  ring overflow %d frames\n",
        label[w], median(tot[w]), spread(tot[w], "%.1f"), median(napi[w]), median(rate[w]), lost[w] }
    for (i = 1; i <= n; i++) { w = who[i]; if (w != "xdp" && w !~ /^xdp:/) continue
      if ("nft" in tot) printf "  %-9s / nftables  = %s   target <= 0.5\n", w, ratio(w, "nft")
      if ("iptables" in tot) printf "  %-9s / iptables  = %s   target <= 0.35\n", w, ratio(w, "iptables")
      if (w != "xdp" && ("xdp" in tot)) printf "  %-9s / xdp       = %s   (A/B: < 1 = this variant costs less)\n", w, ratio(w, "xdp")
      if (("floor" in tot) && ("nft" in tot)) printf "  %-9s above the floor / nft above the floor = %s\n", w, above(w, "nft", "floor")
      if (("floor" in tot) && ("iptables" in tot)) printf "  %-9s above the floor / iptables above the floor = %s\n", w, above(w, "iptables", "floor")
      if ("floor" in tot) printf "  %-9s above the floor: %.1f ns/pkt (medians)\n", w, median(tot[w]) - median(tot["floor"])
    }
    if (("floor" in tot) && ("nft" in tot)) printf "  floor / nftables   = %s\n", ratio("floor", "nft")
    if (("floor" in tot) && ("iptables" in tot)) printf "  floor / iptables   = %s\n", ratio("floor", "iptables")
    print "  (floor = the cheapest XDP program that reads the frame: per-burst NAPI wake-up + frame transfer +"
    print "   XDP_DROP, paid by every contender; a run with RING-OVERFLOW offered more than the receiver took,"
    print "   one marked BUSY started with < 85 % idle CPU)"
  }' "$RESULTS"
if [ -n "$PERF_DIR" ]; then
  echo
  echo "perf (cpu-clock samples of the NAPI thread, last round; the sampling itself adds a little time):"
  for w in "${contenders[@]}"; do
    f="$PERF_DIR/${w/:/_}.$ROUNDS.data"
    [ -f "$f" ] || continue
    echo "  --- $w ($f)"
    perf report -i "$f" --stdio --sort sym 2>/dev/null | grep -v '^#' | grep -v '^$' | head -14 | sed 's/^/    /'
  done
fi
rm -f "$RESULTS"

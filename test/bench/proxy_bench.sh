#!/usr/bin/env bash
# proxy_bench.sh — xgress-proxy vs nginx vs HAProxy as HTTP/1.1 keep-alive
# reverse proxies in front of the same nginx backend. Prints requests/s,
# p50/p99 latency and the ratios xgress/nginx and xgress/haproxy (median of
# the per-round ratios, min–max spread). A benchmark, not a test: it asserts
# nothing about timing. Needs root (it creates a private network namespace).
#
#   sudo test/bench/proxy_bench.sh [--build DIR] [--quick] [--duration S]
#        [--rounds N] [--conns "64 256"] [--bodies "small 16k"]
#        [--load-cpu 0] [--proxy-cpu 1] [--work] [--work-only]
#        [--latency] [--latency-only] [--latency-duration S]
#        [--xgress-args "ARGS"] [--contenders "xgress nginx haproxy"]
#        [--keep-callgrind DIR] [--work-body small|16k] [--work-rounds N] [--no-callgrind]
#        [--variant "NAME=BINARY [ARGS]"]... [--layout loopback|lab]
#
# --keep-callgrind copies the work phase's callgrind outputs to DIR
# (callgrind.NAME.N[.*]) for `callgrind_annotate --inclusive=no FILE`.
#
# --xgress-args adds flags to every xgress-proxy run (e.g. "--access-log
# /tmp/a.log" to price the access log); --contenders limits which proxies are
# measured (e.g. "xgress" for a quick before/after of an xgress change).
#
# --variant adds another xgress-proxy contender NAME (repeatable), run from
# BINARY with ARGS on top of --xgress-args, alternated with the others in
# every round: an A/B of an old binary or of a flag in the same window, e.g.
#   --variant "old=/tmp/xgress-proxy.old" --variant "rb2048=build/proxy/xgress-proxy --recv-buffers 2048"
# The summary adds each variant's req/s, its ratio to nginx and to xgress.
#
# Every xgress contender runs with its own admin listener; after each run the
# script reads /metrics and prints how many receives ended for lack of a
# receive buffer (xgress_proxy_recv_enobufs_total, per run and per request),
# how often the held-buffer cap forced a copy and the held high-water mark
# since start (nothing when the binary has no such metric).
#
# Layout (see /work/shared/benchmarking.md), --layout loopback (default):
# everything runs on loopback in a namespace this script creates. wrk -t1 is
# pinned to --load-cpu (default 0); the proxy under test AND the backend
# nginx are pinned to --proxy-cpu (default 1).
# --layout lab is the issue's lab topology: client namespace -> node
# namespace (the proxies) -> pod namespace (the backend), joined by veth
# pairs; the proxy under test alone on --proxy-cpu, wrk and the backend on
# --load-cpu. Contenders run alternately A B C A B C … for --rounds rounds
# after a warm-up. /proc/stat idle and steal are recorded around every run;
# runs whose CPUs were not idle just before they started are marked busy and
# left out of the "clean" ratios.
#
# Every run line and the summary also show where the CPU went during the run
# (a window from 5 % to 95 % of it, /proc/stat): busy % (user+nice+system+
# irq+softirq) and steal % of the load CPU and of the proxy CPU, the bench's
# own processes' CPU % on each (wrk, backend, contender: utime+stime) and the
# contender's own CPU %; busy far above the bench's share = other work. A CPU at busy+steal
# >= 95 % is saturated: in --layout lab, a saturated load CPU with the proxy
# CPU below that means wrk + backend, not the proxy, set the figure.
#
# --work adds a work-per-request phase: callgrind instructions per proxied
# request (xgress vs nginx vs haproxy, fixed request count with h2load, by
# the difference of two counts so start-up and shutdown cancel out), and
# syscalls / io_uring_enter calls per request with perf tracepoints.
# --work-body small|16k picks the response those requests fetch (default
# small); 16k shows what relaying a body costs. --work-rounds N repeats the
# perf part N times, contenders alternated, and prints medians (CPU per
# request is the figure an A/B of kernel work needs); --no-callgrind skips
# the callgrind part. The perf part also prints TCP segments per request by
# socket role (client->proxy, proxy->backend, backend->proxy, proxy->client;
# `ss -ti` segs_out / data_segs_out), the pure ACKs among them, so a change
# in segmenting or ACKing shows as counts, not as noisy time.
#
# --latency adds a fixed-rate phase: nginx's maximum is measured first (wrk,
# 64 connections, small body), then each contender gets 50 % and 80 % of that
# rate for --latency-duration seconds (default 30) from `h2load --h1 --rps`
# over 64 connections; p50/p99/p99.9 come from h2load's per-request log.
# Open-loop at the same offered rate, so a slower proxy shows up as latency,
# not as fewer requests.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="${XGRESS_BUILD_DIR:-$repo/build}"
duration=10
rounds=5
warmup=2
conns="64 256"
bodies="small 16k"
load_cpu=0
proxy_cpu=1
busy_idle=85        # % idle per CPU in the 0.5 s before a run, below = busy
do_bench=1
do_work=0
work_n1=${XGRESS_BENCH_WORK_N1:-3000}
work_n2=${XGRESS_BENCH_WORK_N2:-15000}
work_body=small
work_rounds=1
do_callgrind=1
do_latency=0
latency_duration=30

variants=()
layout=loopback
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --quick) duration=3; rounds=3; warmup=1; shift ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --bodies) bodies=$2; shift 2 ;;
        --load-cpu) load_cpu=$2; shift 2 ;;
        --proxy-cpu) proxy_cpu=$2; shift 2 ;;
        --busy-idle) busy_idle=$2; shift 2 ;;
        --work) do_work=1; shift ;;
        --work-only) do_work=1; do_bench=0; shift ;;
        --latency) do_latency=1; shift ;;
        --latency-only) do_latency=1; do_bench=0; shift ;;
        --latency-duration) latency_duration=$2; shift 2 ;;
        --xgress-args) xgress_args=$2; shift 2 ;;
        --contenders) contenders_arg=$2; shift 2 ;;
        --keep-callgrind) keep_callgrind=$2; shift 2 ;;
        --work-body) work_body=$2; shift 2 ;;
        --work-rounds) work_rounds=$2; shift 2 ;;
        --no-callgrind) do_callgrind=0; shift ;;
        --variant) variants+=("$2"); shift 2 ;;
        --layout) layout=$2; shift 2 ;;
        -h|--help) sed -n '2,73p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=test/bench/proxy_bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/proxy_bench_lib.sh"
[[ $layout == loopback || $layout == lab ]] || { echo "--layout: loopback or lab, not '$layout'" >&2; exit 2; }
bench_prepare proxy_bench.sh xgress-proxy wrk nginx haproxy ss taskset ip
[[ $layout == loopback ]] || bench_lab_layout "$load_cpu"

declare -A port=([xgress]=18080 [nginx]=18081 [haproxy]=18082)
# shellcheck disable=SC2206  # word-split on purpose
contenders=(${contenders_arg:-xgress nginx haproxy})
# shellcheck disable=SC2206
xgress_extra=(${xgress_args:-})
# xgress-proxy contenders: name -> binary and extra args; each has an admin port.
declare -A xbin=([xgress]=$proxy_bin) xargs_of=([xgress]="") admin_port=([xgress]=18180)
vi=0
for v in "${variants[@]}"; do
    vname=${v%%=*}; vrest=${v#*=}
    [[ $vname != "$v" && -n $vname && -z ${port[$vname]:-} ]] || { echo "bad --variant '$v'" >&2; exit 2; }
    read -r vbin vargs <<<"$vrest"
    [[ -x $vbin ]] || { echo "--variant $vname: $vbin is not executable" >&2; exit 2; }
    port[$vname]=$((18090 + vi)); admin_port[$vname]=$((18190 + vi)); vi=$((vi + 1))
    xbin[$vname]=$vbin; xargs_of[$vname]=${vargs:-}
    contenders+=("$vname")
done
is_xgress() { [[ -n ${xbin[$1]:-} ]]; }
# "enobufs cap_hits held_peak" from a contender's /metrics ("- - -" when absent).
recv_counters() {
    in_ns curl -s --max-time 2 "http://127.0.0.1:${admin_port[$1]}/metrics" 2>/dev/null | awk '
        /^xgress_proxy_recv_enobufs_total / { e=$2 } /^xgress_proxy_recv_held_cap_hits_total / { h=$2 }
        /^xgress_proxy_recv_buffers_held_peak / { p=$2 }
        END { printf "%s %s %s", (e == "" ? "-" : e), (h == "" ? "-" : h), (p == "" ? "-" : p) }'
}

# ---------------------------------------------------------------- backend
bench_backend_config

# ---------------------------------------------------------------- contenders
bench_proxy_configs

# Each command is exec'd by ip netns exec and taskset, so $! is the server.



# ESTABLISHED upstream connections (to the backend port) owned by a server.
upstream_established() {
    local name=$1 pattern
    pattern=$(pids_of "${ppid_of[$name]}" | sed 's/^/pid=/; s/$/,/' | paste -sd'|')
    in_ns ss -Htnp state established "( dport = :$backend_port )" | grep -cE "$pattern" || true
}
timewait_to_backend() {
    in_ns ss -Htn state time-wait "( dport = :$backend_port )" | wc -l
}


# wrk --latency output -> "rps p50_us p99_us errors requests"
parse_wrk() {
    awk '
        function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000;
                         if (v ~ /s$/) return (v+0)*1e6; return v+0 }
        /^ +50%/ { p50=us($2) } /^ +99%/ { p99=us($2) }
        /requests in/ { reqs=$1 }
        /Requests\/sec:/ { rps=$2 }
        /Socket errors:/ { gsub(",", ""); err+=$4+$6+$8+$10 }
        /Non-2xx/ { err+=$NF }
        END { printf "%s %.0f %.0f %d %s", rps+0, p50, p99, err, reqs+0 }'
}

path_of() { [[ $1 == small ]] && echo /small || echo /16k; }

# One measured run; appends a TSV row to results.
results="$tmp/results.tsv"
run_one() {
    local c=$1 body=$2 round=$3 name=$4 d=$5 record=$6
    local url s0 s1 s2 pre run tw0 tw1 est out rc0="- - -" rc1="- - -"
    url="http://$front_addr:${port[$name]}$(path_of "$body")"
    if is_xgress "$name"; then rc0=$(recv_counters "$name"); fi
    s0=$(stat_snap); sleep 0.5; s1=$(stat_snap)
    pre=$(stat_diff "$s0" "$s1")
    tw0=$(timewait_to_backend)
    in_client taskset -c "$load_cpu" wrk -t1 -c"$c" -d"${d}s" --latency "$url" >"$tmp/wrk.out" 2>&1 &
    local wrk_pid=$! t_start
    t_start=$(date +%s.%N)
    # CPU busy % over a window inside the run (5 %..95 % of it): connection
    # set-up and wrk's exit stay out, so a saturated CPU reads ~100 %. The
    # end is a deadline: on a busy machine the mid-run `ss` may take a while.
    local edge c0 c1 cpu q0 q1 own w0 w1 b0 b1 wrk_own be_own load_ours proxy_ours
    edge=$(echo "$d" | awk '{ e = $1 * 0.05; printf "%.2f", (e < 0.25 ? 0.25 : e) }')
    sleep "$edge"; c0=$(cpu_snap)
    q0=$(proc_snap "${ppid_of[$name]}"); w0=$(proc_snap "$wrk_pid"); b0=$(proc_snap "${ppid_of[backend]}")
    sleep "$(echo "$d $edge" | awk '{print $1/2 - $2}')"
    est=$(upstream_established "$name")
    sleep "$(echo "$t_start $d $edge $(date +%s.%N)" | awk '{ r = $1 + $2 - $3 - $4; print (r < 0 ? 0 : r) }')"
    c1=$(cpu_snap); w1=$(proc_snap "$wrk_pid")
    q1=$(proc_snap "${ppid_of[$name]}"); b1=$(proc_snap "${ppid_of[backend]}")
    cpu=$(cpu_busy "$c0" "$c1"); own=$(proc_busy "$q0" "$q1")
    wrk_own=$(proc_busy "$w0" "$w1"); be_own=$(proc_busy "$b0" "$b1")
    # The bench's own processes per CPU (each is pinned): wrk (+ backend in
    # the lab layout) on the load CPU, the proxy (+ backend on loopback) on
    # the proxy CPU. Busy well above this = other work shared the CPU.
    sum_pct() { if [[ $1 == - || $2 == - ]]; then echo -; else echo $(($1 + $2)); fi; }
    if [[ $backend_cpu == "$load_cpu" ]]; then load_ours=$(sum_pct "$wrk_own" "$be_own"); proxy_ours=$own
    else load_ours=$wrk_own; proxy_ours=$(sum_pct "$own" "$be_own"); fi
    wait "$wrk_pid" || true
    s2=$(stat_snap)
    run=$(stat_diff "$s1" "$s2")
    tw1=$(timewait_to_backend)
    if is_xgress "$name"; then rc1=$(recv_counters "$name"); fi
    out=$(parse_wrk <"$tmp/wrk.out")
    [[ $record == 1 ]] || return 0
    local rps p50 p99 err i0 i1 steal reqs enob=- caph=- recv_note="" lb ls pb ps
    read -r rps p50 p99 err reqs <<<"$out"
    read -r e0 h0 _ <<<"$rc0"; read -r e1 h1 p1 <<<"$rc1"
    if [[ $e0 != - && $e1 != - ]]; then
        enob=$((e1 - e0)); caph=$((h1 - h0))
        recv_note=$(awk -v e="$enob" -v h="$caph" -v q="$reqs" -v p="$p1" 'BEGIN {
            printf "  enobufs %d (%.3f/req) cap-copies %d held-peak %s", e, (q > 0 ? e / q : 0), h, p }')
    fi
    read -r i0 i1 _ <<<"$pre"
    read -r _ _ steal <<<"$run"
    read -r lb ls pb ps <<<"$cpu"
    local busy=0
    (( i0 < busy_idle || i1 < busy_idle )) && busy=1
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$c" "$body" "$round" "$name" "$(echo "$out" | tr ' ' '\t')" \
        "$i0" "$i1" "$steal" "$busy" "$est" "$((tw1 - tw0))" "$enob" "$caph" "$lb" "$ls" "$pb" "$ps" "$own" "$load_ours" "$proxy_ours" >>"$results"
    printf '  c=%-3s %-5s r%s %-7s %10s req/s p50 %6s us p99 %7s us  err %s  idle-before %s/%s%%  steal %s%%  cpu busy/steal/bench load %s/%s/%s%% proxy %s/%s/%s%% (proxy itself %s%%)  upstream-estab %s  tw+%s%s%s\n' \
        "$c" "$body" "$round" "$name" "$rps" "$p50" "$p99" "$err" "$i0" "$i1" "$steal" "$lb" "$ls" "$load_ours" "$pb" "$ps" "$proxy_ours" "$own" "$est" "$((tw1 - tw0))" \
        "$recv_note" "$([[ $busy == 1 ]] && echo '  BUSY')"
}

start_all() {
    start_backend
    local x
    for x in "${!xbin[@]}"; do
        # shellcheck disable=SC2086  # a variant's args are word-split on purpose
        start_pinned "$x" "${xbin[$x]}" --listen "$front_addr:${port[$x]}" --workers 1 \
            --admin "127.0.0.1:${admin_port[$x]}" \
            --snapshot-file "$tmp/xgress/snapshot.json" --log-level warn "${xgress_extra[@]}" ${xargs_of[$x]}
    done
    start_pinned nginx nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
    start_pinned haproxy haproxy -db -f "$tmp/haproxy/haproxy.cfg"
    for n in "${contenders[@]}"; do wait_port "${port[$n]}"; done
    for n in "${contenders[@]}"; do
        local code
        code=$(in_client curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://$front_addr:${port[$n]}/16k")
        [[ $code == "200 16384" ]] || { echo "$n: GET /16k gave '$code'" >&2; exit 1; }
    done
}

# ---------------------------------------------------------------- throughput
if [[ $do_bench == 1 ]]; then
    echo "# proxy_bench: $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $layout == lab ]]; then
        echo "# layout: lab: wrk -t1 in $ns_client + backend nginx in $ns_pod on cpu$load_cpu; proxy under test alone on cpu$proxy_cpu in $ns; veth pairs"
    else
        echo "# layout: wrk -t1 on cpu$load_cpu; proxy under test + backend nginx on cpu$proxy_cpu; loopback in netns $ns"
    fi
    echo "# ${duration}s runs, $rounds rounds (order: ${contenders[*]}), ${warmup}s warm-up per contender and scenario"
    echo "# nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(haproxy -v | head -1 | cut -d' ' -f1-3), xgress-proxy $proxy_bin"
    for v in "${variants[@]}"; do echo "# variant ${v%%=*}: xgress-proxy ${v#*=}"; done
    start_all
    : >"$results"
    for c in $conns; do
        for body in $bodies; do
            for n in "${contenders[@]}"; do run_one "$c" "$body" 0 "$n" "$warmup" 0; done
            for r in $(seq "$rounds"); do
                for n in "${contenders[@]}"; do run_one "$c" "$body" "$r" "$n" "$duration" 1; done
            done
        done
    done
    echo
    "$py" - "$results" "$load_cpu" "$proxy_cpu" "$layout" <<'EOF'
import sys, statistics as st
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
# c body round name rps p50 p99 err reqs idle0 idle1 steal busy estab tw
by = defaultdict(dict)
for r in rows:
    by[(int(r[0]), r[1], int(r[2]))][r[3]] = r
scen = sorted({(k[0], k[1]) for k in by}, key=lambda s: (s[0], s[1] != "small"))
# The contenders that ran (--contenders may leave some out); a missing one prints nan / -.
names = [n for n in ("xgress", "nginx", "haproxy") if any(n in r for r in by.values())]
def med(xs): return st.median(xs) if xs else float("nan")
def spread(xs): return f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"
print("conns body  | req/s xgress  nginx  haproxy | p50 us x/n/h      | p99 us x/n/h        "
      "| x/nginx med (min-max) | x/haproxy med (min-max) | clean | p99 x/n med | upstream estab x/n/h | errors")
for c, body in scen:
    rounds = [by[(c, body, r)] for r in sorted(k[2] for k in by if k[:2] == (c, body))]
    full = [r for r in rounds if all(n in r for n in names)]
    clean = [r for r in full if not any(r[n][12] == "1" for n in r)]
    use = clean if len(clean) >= 3 else full
    f = lambda r, n, i: float(r[n][i])
    ok = lambda r, n, i: "xgress" in r and n in r and f(r, n, i) > 0
    rn = [f(r, "xgress", 4) / f(r, "nginx", 4) for r in use if ok(r, "nginx", 4)]
    rh = [f(r, "xgress", 4) / f(r, "haproxy", 4) for r in use if ok(r, "haproxy", 4)]
    pn = [f(r, "xgress", 6) / f(r, "nginx", 6) for r in use if ok(r, "nginx", 6)]
    m = lambda n, i: med([f(r, n, i) for r in use if n in r])
    est = lambda n: str(max(int(r[n][13]) for r in full)) if n in names and full else "-"
    err = sum(int(r[n][7]) for r in full for n in r)
    print(f"{c:5d} {body:5s} | {m('xgress',4):12.0f} {m('nginx',4):6.0f} {m('haproxy',4):8.0f} | "
          f"{m('xgress',5):5.0f}/{m('nginx',5):5.0f}/{m('haproxy',5):5.0f} | "
          f"{m('xgress',6):6.0f}/{m('nginx',6):6.0f}/{m('haproxy',6):6.0f} | "
          f"{med(rn):5.2f} ({spread(rn)})  | {med(rh):5.2f} ({spread(rh)})      | "
          f"{len(clean)}/{len(full)}   | {med(pn):5.2f}       | {est('xgress')}/{est('nginx')}/{est('haproxy')}"
          f"              | {err}")
# Variants (--variant): any other xgress-proxy contender, compared per round.
variants = sorted({r[3] for r in rows} - {"xgress", "nginx", "haproxy"})
if variants:
    print("\nvariant  conns body  | req/s   | v/nginx med (min-max) | v/xgress med (min-max)")
for v in variants:
    for c, body in scen:
        rounds = [by[(c, body, r)] for r in sorted(k[2] for k in by if k[:2] == (c, body))]
        rr = [r for r in rounds if v in r]
        clean = [r for r in rr if not any(r[n][12] == "1" for n in r)]
        use = clean if len(clean) >= 3 else rr
        rate = lambda r, n: float(r[n][4])
        vn = [rate(r, v) / rate(r, "nginx") for r in use if "nginx" in r and rate(r, "nginx") > 0]
        vx = [rate(r, v) / rate(r, "xgress") for r in use if "xgress" in r and rate(r, "xgress") > 0]
        print(f"{v:8s} {c:5d} {body:5s} | {med([rate(r, v) for r in use]):7.0f} | "
              f"{med(vn):5.2f} ({spread(vn)})        | {med(vx):5.2f} ({spread(vx)})")
# Receive-buffer starvation per xgress contender (columns 15/16; "-" = metric absent).
recv = defaultdict(list)
for r in rows:
    if len(r) > 16 and r[15] != "-":
        reqs = float(r[8]) or 1.0
        recv[(r[3], int(r[0]), r[1])].append((int(r[15]) / reqs, int(r[16])))
if recv:
    print("\nreceive buffers: contender conns body | ENOBUFS per request med (min-max) | cap copies per run med")
    for (n, c, body), xs in sorted(recv.items()):
        e = [x[0] for x in xs]
        print(f"  {n:8s} {c:5d} {body:5s} | {med(e):.4f} ({min(e):.4f}-{max(e):.4f}) | {med([x[1] for x in xs]):.0f}")
# CPU busy during the runs (columns 17-20): which CPU saturates for whom.
cpu = defaultdict(list)
for r in rows:
    if len(r) > 23 and r[17] != "":
        cpu[(int(r[0]), r[1], r[3])].append(tuple(float(x) if x != "-" else float("nan") for x in r[17:24]))
if cpu:
    lc, pc, lay = sys.argv[2], sys.argv[3], sys.argv[4]
    load_what = "wrk + backend" if lay == "lab" else "wrk"
    proxy_what = "proxy" if lay == "lab" else "proxy + backend"
    print(f"\nCPU during runs (median %, busy = user+sys+irq+softirq; 5-95 % of each run): "
          f"load cpu{lc} = {load_what}, proxy cpu{pc} = {proxy_what}; bench = those processes' own")
    print("  (utime+stime; softirq they cause may be charged elsewhere); busy - bench >= 20 marks other work")
    print("  contender conns body  | load busy steal bench | proxy busy steal bench itself | saturated (busy+steal >= 95 %)")
    order = {"xgress": 0, "nginx": 1, "haproxy": 2}
    for (c, body, n) in sorted(cpu, key=lambda k: (k[0], k[1] != "small", order.get(k[2], 3), k[2])):
        xs = cpu[(c, body, n)]
        lb, ls, pb, ps, own, lo, po = (med([x[i] for x in xs if x[i] == x[i]]) for i in range(7))
        sat = [w + (f" (other work {b - o:.0f} %)" if b - o >= 20 else "")
               for w, t, b, o in ((f"load cpu{lc}", lb + ls, lb, lo), (f"proxy cpu{pc}", pb + ps, pb, po)) if t >= 95]
        print(f"  {n:9s} {c:5d} {body:5s} | {lb:9.0f} {ls:5.0f} {lo:5.0f} | {pb:10.0f} {ps:5.0f} {po:5.0f} {own:6.0f} | {' + '.join(sat) or 'neither'}")
steals = [float(r[11]) for r in rows]
print(f"\nsteal during runs: median {med(steals):.1f}% max {max(steals):.1f}%; "
      f"runs that started busy: {sum(r[12] == '1' for r in rows)}/{len(rows)}")
print("req/s and latencies are medians over the rounds used for the ratios (clean rounds if >= 3, else all);"
      " 'upstream estab' = max ESTABLISHED proxy->backend connections seen mid-run.")
EOF
    echo
    echo "TIME-WAIT to the backend grew by (per run, max): $(awk -F'\t' '{ if ($15 > m) m = $15 } END { print m+0 }' "$results")"
    cp "$results" "/tmp/proxy_bench_results.$$.tsv"
    echo "raw rows: /tmp/proxy_bench_results.$$.tsv"
fi

# ---------------------------------------------------------------- latency
if [[ $do_latency == 1 ]]; then
    command -v h2load >/dev/null || { echo "missing h2load (nghttp2-client)" >&2; exit 2; }
    if [[ $do_bench == 0 ]]; then start_all; fi
    lat_conns=64
    in_client taskset -c "$load_cpu" wrk -t1 -c"$lat_conns" -d5s "http://$front_addr:${port[nginx]}/small" >"$tmp/wrk.out" 2>&1
    nginx_max=$(parse_wrk <"$tmp/wrk.out" | cut -d' ' -f1)
    echo
    echo "# fixed-rate latency: h2load --h1 -c$lat_conns --rps per connection, ${latency_duration}s per run, small body;"
    echo "# nginx maximum (wrk -c$lat_conns, 5 s): $nginx_max req/s; order per rate: ${contenders[*]}"
    echo "rate        contender  offered/s  done/s   p50 us   p99 us  p99.9 us  non-2xx  steal%  idle-before cpu0/cpu1"
    for pct in 50 80; do
        per_conn=$(awk -v m="$nginx_max" -v p="$pct" -v c="$lat_conns" 'BEGIN { r = m * p / 100 / c; printf "%d", (r < 1 ? 1 : r) }')
        for n in "${contenders[@]}"; do
            log="$tmp/lat.$n.$pct.log"
            s0=$(stat_snap); sleep 0.5; s1=$(stat_snap)
            pre=$(stat_diff "$s0" "$s1")
            in_client taskset -c "$load_cpu" h2load --h1 -t1 -c"$lat_conns" --rps "$per_conn" -D "$latency_duration" \
                --log-file "$log" "http://$front_addr:${port[$n]}/small" >"$tmp/h2load.out" 2>&1 || true
            s2=$(stat_snap)
            run=$(stat_diff "$s1" "$s2")
            "$py" - "$log" "$pct" "$n" "$((per_conn * lat_conns))" "$latency_duration" "$pre" "$run" <<'EOF'
import sys
log, pct, name, offered, dur, pre, run = sys.argv[1:8]
lat, bad = [], 0
for line in open(log):
    f = line.split()
    if len(f) < 3: continue
    lat.append(int(f[2]))
    if not f[1].startswith("2"): bad += 1
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else 0
i0, i1, _ = pre.split(); steal = run.split()[2]
print(f"{pct:>3}% nginx  {name:9s} {int(offered):9d} {len(lat)/float(dur):7.0f} {q(.5):8d} {q(.99):8d} {q(.999):9d} {bad:8d} {steal:>7s}  {i0}/{i1}")
EOF
        done
    done
fi

[[ $do_work == 1 ]] || exit 0

# ---------------------------------------------------------------- work/request
# TCP segments per request by socket role, from `ss -ti` counters (segs_out,
# data_segs_out) of every established socket before and after the perf
# window: a pure ACK (segs - data) costs an skb, a transmit and, on loopback
# or veth, the peer's receive processing on the sender's CPU. Requests = the
# data segments the proxy sent to the backend (one small GET head each).
seg_snap() {
    local n
    for n in $(printf '%s\n' "$ns" "$ns_client" "$ns_pod" | sort -u); do
        ip netns exec "$n" ss -tinH state established | awk '
            /^[^ \t]/ { k = ""; for (i = 1; i <= NF; i++) if ($i ~ /:[0-9]+$/) k = k " " $i; next }
            { so = 0; dso = 0
              for (i = 1; i <= NF; i++) { split($i, a, ":"); if (a[1] == "segs_out") so = a[2]; if (a[1] == "data_segs_out") dso = a[2] }
              if (k != "") print k, so, dso; k = "" }'
    done
}
seg_report() {
    "$py" - "$2" "$3" "${port[$1]}" "$backend_port" "$1" <<'EOF'
import sys
from collections import defaultdict
def rd(f):
    d = {}
    for l in open(f):
        p = l.split()
        if len(p) == 4: d[(p[0], p[1])] = (int(p[2]), int(p[3]))
    return d
a, b = rd(sys.argv[1]), rd(sys.argv[2])
fport, bport, name = sys.argv[3], sys.argv[4], sys.argv[5]
g = defaultdict(lambda: [0, 0])
for (loc, peer), (so, dso) in b.items():
    so0, dso0 = a.get((loc, peer), (0, 0))
    lp, pp = loc.rsplit(":", 1)[1], peer.rsplit(":", 1)[1]
    role = ("proxy->client" if lp == fport else "client->proxy" if pp == fport else
            "backend->proxy" if lp == bport else "proxy->backend" if pp == bport else None)
    if role: g[role][0] += so - so0; g[role][1] += dso - dso0
reqs = g["proxy->backend"][1]
if reqs <= 0:
    print(f"  {name:7s} TCP segments: no requests seen"); sys.exit()
parts = [f"{r} {g[r][0] / reqs:.2f} ({(g[r][0] - g[r][1]) / reqs:.2f} pure ACK)"
         for r in ("client->proxy", "proxy->backend", "backend->proxy", "proxy->client") if r in g]
print(f"  {name:7s} TCP segments/request: " + "; ".join(parts))
EOF
}
# Syscalls per request: perf tracepoints on the running servers during a wrk run.
if [[ $do_bench == 0 ]]; then start_all; fi
echo
echo "# CPU time and syscalls per request (perf task-clock + tracepoints on the proxy only, wrk -c64 $work_body body, ${duration}s, $work_rounds round(s))"
work_rows="$tmp/work.tsv"
: >"$work_rows"
for wr in $(seq "$work_rounds"); do
for n in "${contenders[@]}"; do
    plist=$(pids_of "${ppid_of[$n]}" | paste -sd,)
    in_client taskset -c "$load_cpu" wrk -t1 -c64 -d"$((duration + 2))s" "http://$front_addr:${port[$n]}$(path_of "$work_body")" >"$tmp/wrk.out" 2>&1 &
    wrk_pid=$!
    sleep 1   # perf counts a window inside wrk's run; requests = wrk's rate x window
    seg_snap >"$tmp/seg0"
    perf stat -x, -e task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_io_uring_enter -p "$plist" \
        -o "$tmp/perf.out" -- sleep "$duration" 2>/dev/null || true
    seg_snap >"$tmp/seg1"
    wait "$wrk_pid" || true
    seg_report "$n" "$tmp/seg0" "$tmp/seg1"
    rps=$(parse_wrk <"$tmp/wrk.out" | cut -d' ' -f1)
    reqs=$(awk -v r="$rps" -v d="$duration" 'BEGIN { print r * d }')
    all=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$tmp/perf.out")
    uring=$(awk -F, '/sys_enter_io_uring_enter/ { print $1 }' "$tmp/perf.out")
    cpu_ms=$(awk -F, '/task-clock/ { print $1 }' "$tmp/perf.out")
    # perf counted over `duration` seconds; wrk's request total spans ~the same window.
    awk -v n="$n" -v a="$all" -v u="$uring" -v q="$reqs" -v rps="$rps" -v ms="$cpu_ms" -v rows="$work_rows" -v wr="$wr" 'BEGIN {
        printf "  r%s %-7s %8.0f req/s  CPU %.2f us/req (user+kernel)  syscalls/req %.2f  io_uring_enter/req %.3f\n",
               wr, n, rps, ms*1000/q, a/q, u/q
        printf "%s\t%f\t%f\t%f\n", n, ms*1000/q, a/q, u/q >> rows }'
done
done
if [[ $work_rounds -gt 1 ]]; then
    "$py" - "$work_rows" <<'EOF'
import sys, statistics as st
from collections import defaultdict
rows = defaultdict(list)
for l in open(sys.argv[1]):
    f = l.split("\t")
    rows[f[0]].append(tuple(float(x) for x in f[1:4]))
print("  median over rounds: contender | CPU us/req (min-max) | syscalls/req | io_uring_enter/req")
for n, xs in rows.items():
    c = [x[0] for x in xs]
    print(f"    {n:8s} | {st.median(c):6.2f} ({min(c):.2f}-{max(c):.2f}) | {st.median(x[1] for x in xs):5.2f} | {st.median(x[2] for x in xs):.3f}")
EOF
fi

# Instructions per request: each proxy under callgrind alone (same backend),
# h2load sending exactly N requests over 64 keep-alive connections; the
# difference between N2 and N1 requests cancels start-up and shutdown.
if [[ $do_callgrind == 1 ]] && command -v valgrind >/dev/null && command -v h2load >/dev/null; then
    echo
    echo "# user-space instructions per proxied request (callgrind, h2load --h1 -c64, (I(N2)-I(N1))/(N2-N1), N1=$work_n1 N2=$work_n2, $work_body body)"
    # Stop the contenders: each gets re-run alone under valgrind.
    for n in "${contenders[@]}"; do kill "${ppid_of[$n]}"; wait "${ppid_of[$n]}" 2>/dev/null || true; done
    sed 's/^daemon off;/daemon off;\nmaster_process off;/' "$tmp/nginx/nginx.conf" >"$tmp/nginx/single.conf"
    declare -A cmd=(
        [xgress]="$proxy_bin --listen $front_addr:${port[xgress]} --workers 1 --snapshot-file $tmp/xgress/snapshot.json --log-level warn ${xgress_extra[*]}"
        [nginx]="nginx -p $tmp/nginx/ -e $tmp/nginx/error.log -c $tmp/nginx/single.conf"
        [haproxy]="haproxy -db -f $tmp/haproxy/haproxy.cfg"
    )
    for v in "${!xbin[@]}"; do
        [[ $v == xgress ]] || cmd[$v]="${xbin[$v]} --listen $front_addr:${port[$v]} --workers 1 --snapshot-file $tmp/xgress/snapshot.json --log-level warn ${xgress_extra[*]} ${xargs_of[$v]}"
    done
    # Stops a process under callgrind within a bounded time. xgress-proxy may
    # not exit on SIGTERM under valgrind (valgrind keeps its big lock across
    # the worker's io_uring_enter, so the main thread's sigwait never runs),
    # so the counts are dumped first (callgrind_control -d: vgdb reaches a
    # thread blocked in a syscall), then TERM, then KILL after 10 s.
    stop_under_callgrind() {
        local vg=$1 out=$2
        if command -v callgrind_control >/dev/null; then
            timeout 30 callgrind_control -d "$vg" >"$tmp/cgctl.out" 2>&1 || echo "  (callgrind_control -d failed: $(tail -n 1 "$tmp/cgctl.out"))"
        fi
        kill -TERM "$vg" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$vg" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$vg" 2>/dev/null; then
            echo "  (pid $vg still running 10 s after SIGTERM under valgrind: SIGKILL; counts from the dump)"
            kill -KILL "$vg" 2>/dev/null || true
        fi
        wait "$vg" 2>/dev/null || true
        ls "$out" "$out".* >/dev/null 2>&1 || echo "  (no callgrind output for pid $vg)"
    }
    declare -A ipr=()
    for n in "${contenders[@]}"; do
        declare -a tot=()
        for count in "$work_n1" "$work_n2"; do
            out="$tmp/callgrind.$n.$count"
            # shellcheck disable=SC2086
            ip netns exec "$ns" taskset -c "$proxy_cpu" valgrind --tool=callgrind --callgrind-out-file="$out" \
                ${cmd[$n]} >"$tmp/vg.$n.out" 2>&1 &
            vg=$!; pids+=("$vg")
            # Serving (routes applied), not just listening: up to 60 s under valgrind.
            code=000
            for _ in $(seq 120); do
                code=$(in_client curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$front_addr:${port[$n]}/small" || true)
                [[ $code == 200 ]] && break
                kill -0 "$vg" 2>/dev/null || break
                sleep 0.5
            done
            if [[ $code != 200 ]]; then
                echo "  $n: not serving under callgrind (last status $code); see below"
                tail -n 12 "$tmp/vg.$n.out" | sed 's/^/    | /'
                kill -TERM "$vg" 2>/dev/null || true; wait "$vg" 2>/dev/null || true
                tot=(); break
            fi
            in_client taskset -c "$load_cpu" h2load --h1 -t1 -c64 -n "$count" \
                "http://$front_addr:${port[$n]}$(path_of "$work_body")" >"$tmp/h2load.out" 2>&1 || true
            ok=$(awk '/^requests:/ { print $8 }' "$tmp/h2load.out")
            stop_under_callgrind "$vg" "$out"
            # Every part (the dump and, after a clean exit, the rest) adds up to the whole run.
            total=$(for f in "$out" "$out".*; do
                        [ -s "$f" ] && awk '/^(summary|totals):/ { print $2; exit }' "$f"
                    done | awk '{ s += $1 } END { print s + 0 }')
            tot+=("$total")
            if [[ -n ${keep_callgrind:-} ]]; then
                mkdir -p "$keep_callgrind" && cp "$out" "$out".* "$keep_callgrind"/ 2>/dev/null || true
            fi
            echo "  $n N=$count succeeded=$ok instructions=$total"
        done
        if [[ ${#tot[@]} == 2 ]]; then ipr[$n]=$(( (tot[1] - tot[0]) / (work_n2 - work_n1) )); else ipr[$n]=0; fi
    done
    echo "  instructions/request (0 = not measured): xgress ${ipr[xgress]:-0}  nginx ${ipr[nginx]:-0}  haproxy ${ipr[haproxy]:-0}"
    awk -v x="${ipr[xgress]:-0}" -v n="${ipr[nginx]:-0}" -v h="${ipr[haproxy]:-0}" \
        'BEGIN { if (x > 0 && n > 0 && h > 0) printf "  ratio xgress/nginx %.2f  xgress/haproxy %.2f\n", x/n, x/h }'
fi

#!/usr/bin/env bash
# contention_bench.sh — how xgress-proxy, nginx and HAProxy fare when their
# CPU is shared with a CPU hog. A benchmark, not a test: it asserts nothing.
# Needs root (private network namespace).
#
#   sudo test/bench/contention_bench.sh [--build DIR] [--quick] [--duration S]
#        [--rounds N] [--conns "64"] [--bodies "small"] [--hogs "none same setsid"]
#        [--load-cpu 0] [--proxy-cpu 1] [--backend-cpu N] [--contenders "xgress nginx haproxy"]
#        [--xgress-args "ARGS"] [--variant "NAME=BINARY [ARGS]"]...
#        [--slice "NAME=US"]...
#
# Layout: the contender (configured exactly as proxy_bench.sh configures it,
# proxy_bench_lib.sh) is pinned to --proxy-cpu (1); wrk -t1 and the backend
# nginx are pinned to --load-cpu (0). For each run a hog (a shell busy loop,
# started by this script and killed by its pid afterwards) is pinned to the
# contender's CPU (--backend-cpu 1 puts the backend beside the contender and
# the hog, as in proxy_bench/tls_bench's layout):
#   none    no hog (the quiet reference in the same layout)
#   same    the hog in this script's session, i.e. the contender's autogroup
#   setsid  the hog in a session of its own (setsid), i.e. another autogroup,
#           the way another user's or helper's compile competes
# Contenders alternate A B C A B C … within each hog mode.
#
# Per run it prints requests/s and, from /proc/PID/task/TID/schedstat and
# status (every thread of every process of the contender, nginx's workers
# included), the contender's CPU time and run-queue wait per request, its
# share of the elapsed time, the hog's share, contender/(contender+hog),
# voluntary and involuntary context switches per request, and /proc/stat idle
# before the run and steal during it. The summary gives medians per hog mode
# and contender and the per-round ratios xgress/nginx and xgress/haproxy,
# plus each --variant against xgress (e.g. ring modes:
#   --variant "coop=build/proxy/xgress-proxy --ring-mode coop-taskrun").
# --slice NAME=US asks the scheduler for a US-microsecond slice (EEVDF's
# sched_attr.sched_runtime for SCHED_OTHER, 6.12+; default slice 1.4 ms here)
# for every thread of contender NAME, set from outside with sched_setattr
# after start: e.g. --variant "x200=BIN" --slice "x200=200" is the same
# binary with a short slice, alternated with plain xgress.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="${XGRESS_BUILD_DIR:-$repo/build}"
duration=5
rounds=3
warmup=1
conns=64
bodies=small
hogs="none same setsid"
load_cpu=0
proxy_cpu=1
busy_idle=85
variants=()
slices=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --quick) duration=3; rounds=2; shift ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --bodies) bodies=$2; shift 2 ;;
        --hogs) hogs=$2; shift 2 ;;
        --load-cpu) load_cpu=$2; shift 2 ;;
        --proxy-cpu) proxy_cpu=$2; shift 2 ;;
        --backend-cpu) backend_cpu_arg=$2; shift 2 ;;
        --busy-idle) busy_idle=$2; shift 2 ;;
        --xgress-args) xgress_args=$2; shift 2 ;;
        --contenders) contenders_arg=$2; shift 2 ;;
        --variant) variants+=("$2"); shift 2 ;;
        --slice) slices+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
for h in $hogs; do
    [[ $h == none || $h == same || $h == setsid ]] || { echo "--hogs: none, same or setsid, not '$h'" >&2; exit 2; }
done

# shellcheck source=test/bench/proxy_bench_lib.sh
source "$here/proxy_bench_lib.sh"
bench_prepare contention_bench.sh xgress-proxy-cont wrk nginx haproxy taskset setsid ip
backend_cpu=${backend_cpu_arg:-$load_cpu}   # default: the contender's CPU holds only the contender and the hog

declare -A port=([xgress]=18080 [nginx]=18081 [haproxy]=18082)
# shellcheck disable=SC2206  # word-split on purpose
contenders=(${contenders_arg:-xgress nginx haproxy})
# shellcheck disable=SC2206
xgress_extra=(${xgress_args:-})
declare -A xbin=([xgress]=$proxy_bin) xargs_of=([xgress]="")
vi=0
for v in "${variants[@]}"; do
    vname=${v%%=*}; vrest=${v#*=}
    [[ $vname != "$v" && -n $vname && -z ${port[$vname]:-} ]] || { echo "bad --variant '$v'" >&2; exit 2; }
    read -r vbin vargs <<<"$vrest"
    [[ -x $vbin ]] || { echo "--variant $vname: $vbin is not executable" >&2; exit 2; }
    port[$vname]=$((18090 + vi)); vi=$((vi + 1))
    xbin[$vname]=$vbin; xargs_of[$vname]=${vargs:-}
    contenders+=("$vname")
done

bench_backend_config
bench_proxy_configs

start_all() {
    start_backend
    local x n code
    for x in "${!xbin[@]}"; do
        # shellcheck disable=SC2086  # a variant's args are word-split on purpose
        start_pinned "$x" "${xbin[$x]}" --listen "$front_addr:${port[$x]}" --workers 1 --admin "" \
            --snapshot-file "$tmp/xgress/snapshot.json" --log-level warn "${xgress_extra[@]}" ${xargs_of[$x]}
    done
    start_pinned nginx nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
    start_pinned haproxy haproxy -db -f "$tmp/haproxy/haproxy.cfg"
    for n in "${contenders[@]}"; do wait_port "${port[$n]}"; done
    for n in "${contenders[@]}"; do
        code=$(in_client curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://$front_addr:${port[$n]}/16k")
        [[ $code == "200 16384" ]] || { echo "$n: GET /16k gave '$code'" >&2; exit 1; }
    done
    local sl
    for sl in "${slices[@]}"; do
        n=${sl%%=*}
        [[ -n ${ppid_of[$n]:-} ]] || { echo "--slice: no contender '$n'" >&2; exit 2; }
        # shellcheck disable=SC2046
        set_slice "${sl#*=}" $(for p in $(pids_of "${ppid_of[$n]}"); do ls /proc/"$p"/task; done)
        echo "# $n: slice $(awk '/^se.slice/ { print $3 / 1000 }' /proc/"${ppid_of[$n]}"/sched) us (sched_setattr, all threads)"
    done
}
# set_slice US TID...: SCHED_OTHER with sched_runtime = US (EEVDF's slice request).
set_slice() {
    "$py" - "$@" <<'EOF2'
import ctypes, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
us = int(sys.argv[1])
for tid in sys.argv[2:]:
    # struct sched_attr (56 bytes): size, policy, flags, nice, priority, runtime, deadline, period, util_min, util_max
    attr = ctypes.create_string_buffer(struct.pack("IIQiIQQQII", 56, 0, 0, 0, 0, us * 1000, 0, 0, 0, 0), 56)
    if libc.syscall(314, int(tid), attr, 0) != 0:  # SYS_sched_setattr, x86_64
        raise OSError(ctypes.get_errno(), f"sched_setattr {tid}")
EOF2
}

# The hog: a shell busy loop on the contender's CPU. It writes its own pid
# (setsid may fork), which is the only pid it is ever killed by.
hog_pid=""
start_hog() {
    local mode=$1 pidfile="$tmp/hog.pid"
    rm -f "$pidfile"
    # shellcheck disable=SC2016  # $$ and $1 expand in the hog's shell, not here
    local -a cmd=(bash -c 'echo $$ >"$1"; exec taskset -c "$2" bash -c "while :; do :; done"' hog "$pidfile" "$proxy_cpu")
    if [[ $mode == setsid ]]; then setsid "${cmd[@]}" </dev/null >/dev/null 2>&1 &
    else "${cmd[@]}" </dev/null >/dev/null 2>&1 &
    fi
    for _ in $(seq 100); do [[ -s $pidfile ]] && break; sleep 0.01; done
    hog_pid=$(cat "$pidfile")
    pids+=("$hog_pid")
}
stop_hog() {
    [[ -n $hog_pid ]] || return 0
    kill "$hog_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$hog_pid" 2>/dev/null || break; sleep 0.02; done
    kill -9 "$hog_pid" 2>/dev/null || true
    hog_pid=""
}

# One line per thread: ROLE TID COMM RUN_NS WAIT_NS SLICES VOLUNTARY NONVOLUNTARY.
sched_snap() {
    local role=$1 p t vcs nvcs
    shift
    for p in "$@"; do
        for t in /proc/"$p"/task/*; do
            [[ -r $t/schedstat ]] || continue
            vcs=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status" 2>/dev/null || echo 0)
            nvcs=$(awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "$t/status" 2>/dev/null || echo 0)
            echo "$role ${t##*/} $(tr ' ' '_' <"$t/comm" 2>/dev/null) $(cat "$t/schedstat" 2>/dev/null) ${vcs:-0} ${nvcs:-0}"
        done
    done
}
snap_all() {
    local name=$1
    # shellcheck disable=SC2046
    sched_snap contender $(pids_of "${ppid_of[$name]}")
    [[ -z $hog_pid ]] || sched_snap hog "$hog_pid"
    # shellcheck disable=SC2046
    sched_snap backend $(pids_of "${ppid_of[backend]}")
}

autogroup_of() { sed 's/ nice.*//' /proc/"$1"/autogroup 2>/dev/null || echo '?'; }

parse_wrk() {
    awk '/requests in/ { reqs=$1 } /Requests\/sec:/ { rps=$2 }
         /Socket errors:/ { gsub(",", ""); err+=$4+$6+$8+$10 } /Non-2xx/ { err+=$NF }
         END { printf "%s %d %s", rps+0, err, reqs+0 }'
}
path_of() { [[ $1 == small ]] && echo /small || echo /16k; }

results="$tmp/results.tsv"
threads="$tmp/threads.tsv"
run_one() {
    local hog=$1 c=$2 body=$3 round=$4 name=$5 d=$6 record=$7
    local url s0 s1 s2 pre run t0 t1 ag_c ag_h="-" i0 i1 steal rps err reqs busy=0
    url="http://$front_addr:${port[$name]}$(path_of "$body")"
    s0=$(stat_snap); sleep 0.5; s1=$(stat_snap)
    pre=$(stat_diff "$s0" "$s1")
    [[ $hog == none ]] || start_hog "$hog"
    sleep 0.2
    snap_all "$name" >"$tmp/sched.0"
    t0=$(date +%s%N)
    in_client taskset -c "$load_cpu" wrk -t1 -c"$c" -d"${d}s" "$url" >"$tmp/wrk.out" 2>&1 || true
    t1=$(date +%s%N)
    snap_all "$name" >"$tmp/sched.1"
    s2=$(stat_snap)
    ag_c=$(autogroup_of "${ppid_of[$name]}")
    [[ -z $hog_pid ]] || ag_h=$(autogroup_of "$hog_pid")
    stop_hog
    [[ $record == 1 ]] || return 0
    run=$(stat_diff "$s1" "$s2")
    read -r i0 i1 _ <<<"$pre"
    read -r _ _ steal <<<"$run"
    (( i0 < busy_idle || i1 < busy_idle )) && busy=1
    read -r rps err reqs <<<"$(parse_wrk <"$tmp/wrk.out")"
    "$py" - "$tmp/sched.0" "$tmp/sched.1" "$results" "$threads" "$hog" "$c" "$body" "$round" "$name" \
        "$rps" "$err" "$reqs" "$((t1 - t0))" "$i0" "$i1" "$steal" "$busy" "$ag_c" "$ag_h" <<'EOF'
import sys
(f0, f1, results, threads, hog, c, body, rnd, name, rps, err, reqs, elapsed,
 i0, i1, steal, busy, ag_c, ag_h) = sys.argv[1:20]
def load(f):
    d = {}
    for line in open(f):
        p = line.split()
        if len(p) == 8: d[(p[0], p[1])] = (p[2], *map(int, p[3:]))
    return d
a, b = load(f0), load(f1)
tot = {"contender": [0] * 5, "hog": [0] * 5, "backend": [0] * 5}
rows = []
for k, v in b.items():
    base = a.get(k, (v[0], 0, 0, 0, 0, 0))
    dv = [x - y for x, y in zip(v[1:], base[1:])]
    tot[k[0]] = [x + y for x, y in zip(tot[k[0]], dv)]
    if k[0] == "contender" and dv[0] > 0: rows.append((k[1], v[0], dv))
el = int(elapsed) / 1e9
q = max(float(reqs), 1.0)
ct, ht = tot["contender"], tot["hog"]
share = ct[0] / 1e9 / el
hshare = ht[0] / 1e9 / el
vs_hog = ct[0] / (ct[0] + ht[0]) if ht[0] > 0 else float("nan")
with open(results, "a") as out:
    out.write("\t".join(map(str, [hog, c, body, rnd, name, rps, err, reqs, f"{el:.3f}",
        ct[0], ct[1], ct[3], ct[4], ht[0], ht[1], tot["backend"][0], i0, i1, steal, busy, ag_c, ag_h])) + "\n")
with open(threads, "a") as out:
    for tid, comm, dv in rows:
        out.write("\t".join(map(str, [hog, c, body, rnd, name, tid, comm, *dv])) + "\n")
print(f"  hog={hog:6s} c={c:<3s} {body:5s} r{rnd} {name:8s} {float(rps):8.0f} req/s  "
      f"cpu {ct[0]/1e3/q:5.1f} us/req wait {ct[1]/1e3/q:5.1f} us/req  share {100*share:4.1f}% hog {100*hshare:4.1f}% "
      f"c/(c+hog) {vs_hog:5.2f}  cs/req vol {ct[3]/q:.3f} invol {ct[4]/q:.3f}  "
      f"idle-before {i0}/{i1}% steal {steal}%  autogroup {ag_c} hog {ag_h}"
      f"{'  ERR ' + err if int(err) else ''}{'  BUSY' if busy == '1' else ''}")
busiest = sorted(rows, key=lambda r: -r[2][0])[:2]
for tid, comm, dv in busiest:
    print(f"      thread {comm}/{tid}: run {dv[0]/1e6:7.1f} ms wait {dv[1]/1e6:7.1f} ms slices {dv[2]} "
          f"(avg {dv[0]/1e3/max(dv[2],1):.0f} us) vol {dv[3]} invol {dv[4]}")
EOF
}

echo "# contention_bench: $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, loadavg $(cut -d' ' -f1-3 /proc/loadavg)," \
    "autogroup $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo '?')"
echo "# layout: contender on cpu$proxy_cpu (+ the hog); wrk -t1 on cpu$load_cpu; backend nginx on cpu$backend_cpu; loopback in netns $ns"
echo "# ${duration}s runs, $rounds rounds per hog mode (order: ${contenders[*]}), hogs: $hogs"
echo "# nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(haproxy -v | head -1 | cut -d' ' -f1-3), xgress-proxy $proxy_bin ${xgress_extra[*]}"
for v in "${variants[@]}"; do echo "# variant ${v%%=*}: xgress-proxy ${v#*=}"; done
[[ $(uname -m) == x86_64 || ${#slices[@]} -eq 0 ]] || { echo "--slice: syscall number only known for x86_64" >&2; exit 2; }
start_all
: >"$results"; : >"$threads"
for hog in $hogs; do
    for c in $conns; do
        for body in $bodies; do
            for n in "${contenders[@]}"; do run_one "$hog" "$c" "$body" 0 "$n" "$warmup" 0; done
            for r in $(seq "$rounds"); do
                for n in "${contenders[@]}"; do run_one "$hog" "$c" "$body" "$r" "$n" "$duration" 1; done
            done
        done
    done
done
echo
"$py" - "$results" <<'EOF'
import sys, statistics as st
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
# hog c body round name rps err reqs elapsed crun cwait cvcs cnvcs hrun hwait brun i0 i1 steal busy agc agh
med = lambda xs: st.median(xs) if xs else float("nan")
spread = lambda xs: f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"
by = defaultdict(list)
rounds = defaultdict(dict)
for r in rows:
    by[(r[0], r[1], r[2], r[4])].append(r)
    rounds[(r[0], r[1], r[2], r[3])][r[4]] = r
print("hog    conns body  contender |  req/s | cpu us/req | wait us/req | share % | hog % | c/(c+hog) | vol cs/req | invol cs/req | backend us/req")
for k in sorted(by, key=lambda k: (k[0], int(k[1]), k[2])):
    rs = by[k]
    q = lambda r: max(float(r[7]), 1.0)
    el = lambda r: float(r[8])
    share = [float(r[9]) / 1e9 / el(r) * 100 for r in rs]
    hs = [float(r[13]) / 1e9 / el(r) * 100 for r in rs]
    cvh = [float(r[9]) / (float(r[9]) + float(r[13])) for r in rs if float(r[13]) > 0]
    print(f"{k[0]:6s} {k[1]:>5s} {k[2]:5s} {k[3]:9s} | {med([float(r[5]) for r in rs]):6.0f} | "
          f"{med([float(r[9]) / 1e3 / q(r) for r in rs]):10.1f} | {med([float(r[10]) / 1e3 / q(r) for r in rs]):11.1f} | "
          f"{med(share):7.1f} | {med(hs):5.1f} | {med(cvh):9.2f} | {med([float(r[11]) / q(r) for r in rs]):10.3f} | "
          f"{med([float(r[12]) / q(r) for r in rs]):12.3f} | {med([float(r[15]) / 1e3 / q(r) for r in rs]):.1f}")
print("\nper-round ratios (median, min-max): req/s and CPU share")
names = sorted({r[4] for r in rows})
scen = sorted({k[:3] for k in rounds}, key=lambda s: (s[0], int(s[1]), s[2]))
for s in scen:
    rr = [rounds[k] for k in rounds if k[:3] == s]
    for a, b in [("xgress", "nginx"), ("xgress", "haproxy")] + [(v, "xgress") for v in names if v not in ("xgress", "nginx", "haproxy")]:
        pairs = [(x[a], x[b]) for x in rr if a in x and b in x and float(x[b][5]) > 0]
        if not pairs: continue
        rps = [float(p[5]) / float(p2[5]) for p, p2 in pairs]
        sh = [(float(p[9]) / float(p[8])) / (float(p2[9]) / float(p2[8])) for p, p2 in pairs if float(p2[9]) > 0]
        print(f"  hog={s[0]:6s} c={s[1]:<3s} {s[2]:5s} {a}/{b}: req/s {med(rps):.2f} ({spread(rps)})  cpu share {med(sh):.2f} ({spread(sh)})")
steals = [float(r[18]) for r in rows]
print(f"\nsteal during runs: median {med(steals):.1f}% max {max(steals):.1f}%; runs that started busy: "
      f"{sum(r[19] == '1' for r in rows)}/{len(rows)}")
print("share % = the contender's CPU time (all its threads) / elapsed; hog % likewise; wait = time runnable on a run queue.")
EOF
cp "$results" "/tmp/contention_bench_results.$$.tsv"
cp "$threads" "/tmp/contention_bench_threads.$$.tsv"
echo "raw rows: /tmp/contention_bench_results.$$.tsv (per thread: /tmp/contention_bench_threads.$$.tsv)"

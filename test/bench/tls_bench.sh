#!/usr/bin/env bash
# tls_bench.sh — TLS termination: xgress-proxy vs nginx vs HAProxy, each
# terminating TLS and proxying to the same nginx backend. A benchmark, not a
# test: it asserts nothing about timing. Needs root (private network namespace).
#
#   sudo test/bench/tls_bench.sh [--build DIR] [--quick] [--duration S] [--rounds N]
#        [--conns "64"] [--bodies "small 16k"] [--load-cpu 0] [--proxy-cpu 1]
#        [--kinds "full resumed small 16k"] [--keys "ecdsa rsa"] [--xgress-b BIN]
#
#   --kinds / --keys run a subset (e.g. --kinds full --keys ecdsa: only the
#   full ECDSA handshakes; resumed and keep-alive phases run with ecdsa only).
#   --phases: after the rounds of full handshakes, one extra traced run per
#   contender (perf record of the server's syscalls and io_uring events;
#   not counted in the rates) prints the server's wall time per handshake
#   phase: ClientHello received -> first flight sent, and client Finished
#   received -> socket closed (medians and quartiles, microseconds). s_time is
#   one sequential client, so these two server phases sit on its critical
#   path: where rates differ while CPU per handshake does not, look here.
#   --xgress-b BIN adds a fourth contender, another xgress-proxy binary (e.g.
#   the previous commit's), alternated with the others in every round, and
#   prints new/old ratios: an A/B of a change in the same noisy window.
#
# Measures, per contender, in alternation A B C A B C … (--rounds rounds):
#   full handshakes/s    `openssl s_time -new` (TLS 1.3, X25519), ECDSA P-256
#                        and RSA 2048 certificates; handshake only, no request
#   resumed handshakes/s `openssl s_time -reuse -tls1_2` (session tickets;
#                        s_time cannot resume TLS 1.3: its tickets arrive after
#                        the handshake and it never reads them)
#   keep-alive req/s     wrk -t1 -c<conns> over HTTPS, small (100 B) and 16 KiB
#   server CPU per handshake (utime+stime of the server's processes from
#                        /proc, 10 ms ticks): a single s_time client is often
#                        the bottleneck, so handshakes per second of *server*
#                        CPU is the figure that compares the servers' cost;
#                        it is also set against `openssl speed` for the core:
#                        bound = 1 / (1/sign + 2/x25519) with sign = ECDSA
#                        P-256 (or RSA 2048) signs/s and x25519 = X25519
#                        derives/s (a handshake signs once and does two X25519
#                        scalar multiplications: key generation and derive);
#                        ratio = (1e6 / server us per handshake) / bound, for
#                        every contender. Server CPU includes the kernel's
#                        TCP accept/close and all syscalls, so no server
#                        reaches 1.0.
# Before the runs of each certificate it prints the TLS 1.3 suite each server
# picks from the clients' default offer: xgress prefers AES-128-GCM, nginx and
# HAProxy take the client's first (AES-256-GCM-SHA384), so the client's cost
# differs too where the client is the bottleneck.
# Layout (/work/shared/benchmarking.md): clients pinned to --load-cpu, the
# server under test and the backend to --proxy-cpu; loopback in a namespace.
# Equivalent configuration: one worker/thread each, access logs off, TLS 1.2 +
# 1.3, session tickets on (nginx/HAProxy generate their own ticket keys),
# upstream keep-alive. /proc/stat idle and steal are recorded around each run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build="${XGRESS_BUILD_DIR:-$repo/build}"
duration=8
rounds=5
conns="64"
bodies="small 16k"
load_cpu=0
proxy_cpu=1
kinds_wanted="full resumed small 16k"
keys="ecdsa rsa"
xgress_b=""
phases=0

while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --quick) duration=2; rounds=2; shift ;;
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --bodies) bodies=$2; shift 2 ;;
        --load-cpu) load_cpu=$2; shift 2 ;;
        --proxy-cpu) proxy_cpu=$2; shift 2 ;;
        --kinds) kinds_wanted=$2; shift 2 ;;
        --keys) keys=$2; shift 2 ;;
        --xgress-b) xgress_b=$2; shift 2 ;;
        --phases) phases=1; shift ;;
        -h|--help) sed -n '2,49p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

# shellcheck source=test/bench/proxy_bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/proxy_bench_lib.sh"
bench_prepare tls_bench.sh xgress-tls wrk nginx haproxy openssl ss taskset ip jq

declare -A port=([xgress]=18443 [nginx]=18444 [haproxy]=18445 [xgress-b]=18446)
contenders=(xgress nginx haproxy)
if [[ -n $xgress_b ]]; then
    [[ -x $xgress_b ]] || { echo "--xgress-b: $xgress_b is not an executable" >&2; exit 2; }
    contenders+=(xgress-b)
fi

# ---------------------------------------------------------------- certificates
mkdir -p "$tmp/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.example.com \
    -addext subjectAltName=DNS:bench.example.com -keyout "$tmp/certs/ecdsa.key" -out "$tmp/certs/ecdsa.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench.example.com \
    -addext subjectAltName=DNS:bench.example.com -keyout "$tmp/certs/rsa.key" -out "$tmp/certs/rsa.crt" 2>/dev/null
for k in ecdsa rsa; do cat "$tmp/certs/$k.crt" "$tmp/certs/$k.key" >"$tmp/certs/$k.pem"; done

# ---------------------------------------------------------------- backend
mkdir -p "$tmp/nginx/tmp" "$tmp/haproxy" "$tmp/xgress"
bench_backend_config

# configs KEY: the three contenders with certificate KEY (ecdsa | rsa).
configs() {
    local key=$1
    { nginx_common "$tmp/nginx"; echo "http {"; nginx_http_common "$tmp/nginx"; cat <<EOF
    upstream backend { server 127.0.0.1:$backend_port; keepalive 512; keepalive_requests 100000000; keepalive_timeout 300s; }
    server {
        listen 127.0.0.1:${port[nginx]} ssl backlog=4096;
        ssl_certificate $tmp/certs/$key.crt;
        ssl_certificate_key $tmp/certs/$key.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
EOF
    } >"$tmp/nginx/nginx.conf"
    cat >"$tmp/haproxy/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
frontend fe
    bind 127.0.0.1:${port[haproxy]} ssl crt $tmp/certs/$key.pem
    default_backend be
backend be
    server s1 127.0.0.1:$backend_port
EOF
    jq -n --rawfile c "$tmp/certs/$key.crt" --rawfile k "$tmp/certs/$key.key" --argjson p "$backend_port" '{
        version: 1,
        virtual_hosts: [{host: "", routes: [{path: "/", match: "prefix", backend: "bench/backend:80"}]}],
        backends: [{name: "bench/backend:80", endpoints: [{address: "127.0.0.1", port: $p}]}],
        certificates: [{name: "bench/tls", hosts: ["bench.example.com"], cert_pem: $c, key_pem: $k}],
        default_certificate: "bench/tls"}' >"$tmp/xgress/snapshot.json"
}

# utime+stime ticks of a server and its children (nginx's worker).
cpu_ticks() {
    local total=0 p
    for p in $(pids_of "$1"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}

start_contenders() {
    start_pinned xgress "$proxy_bin" --listen 127.0.0.1:18080 --listen-tls "127.0.0.1:${port[xgress]}" --workers 1 \
        --admin "" --snapshot-file "$tmp/xgress/snapshot.json" --log-level warn
    start_pinned nginx nginx -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf"
    start_pinned haproxy haproxy -db -f "$tmp/haproxy/haproxy.cfg"
    [[ -z $xgress_b ]] || start_pinned xgress-b "$xgress_b" --listen 127.0.0.1:18081 \
        --listen-tls "127.0.0.1:${port[xgress-b]}" --workers 1 --admin "" \
        --snapshot-file "$tmp/xgress/snapshot.json" --log-level warn
    for n in "${contenders[@]}"; do wait_port "${port[$n]}"; done
    for n in "${contenders[@]}"; do
        local code
        code=$(in_ns curl -sk -o /dev/null -w '%{http_code} %{size_download}' "https://127.0.0.1:${port[$n]}/16k")
        [[ $code == "200 16384" ]] || { echo "$n: GET /16k over TLS gave '$code'" >&2; tail "$tmp/$n.out" >&2; exit 1; }
    done
}
# What each server picks from the clients' default offer (s_time and wrk use
# OpenSSL's, AES-256-GCM-SHA384 first): the suite sets both sides' cost, so a
# rate that the client bounds also moves with it.
print_suites() {
    local n suites=()
    for n in "${contenders[@]}"; do
        suites+=("$n $(in_ns openssl s_client -connect "127.0.0.1:${port[$n]}" </dev/null 2>/dev/null |
            awk '/^New, / { print $NF; exit }')")
    done
    echo "# TLS 1.3 suite chosen from the default client offer: $(IFS=,; echo "${suites[*]}" | sed 's/,/, /g')"
}
stop_contenders() {
    local n
    for n in "${contenders[@]}"; do kill "${ppid_of[$n]}" 2>/dev/null || true; wait "${ppid_of[$n]}" 2>/dev/null || true; done
}

# trace_phases KEY: one traced s_time run per contender (--phases).
trace_phases() {
    local key=$1 name pidlist
    command -v perf >/dev/null || { echo "--phases: perf is missing" >&2; return 0; }
    echo "# server phases, $key (one traced ${duration}s run each, not in the rates; microseconds)"
    for name in "${contenders[@]}"; do
        pidlist=$(pids_of "${ppid_of[$name]}" | paste -sd,)
        in_ns taskset -c "$load_cpu" openssl s_time -connect "127.0.0.1:${port[$name]}" -new \
            -time "$duration" >"$tmp/s_time.out" 2>&1 &
        local client=$!
        sleep 0.5
        perf record -q -o "$tmp/phases.data" -p "$pidlist" -e raw_syscalls:sys_enter,raw_syscalls:sys_exit \
            -e io_uring:io_uring_complete,io_uring:io_uring_submit_req -e sched:sched_switch -- sleep "$((duration > 2 ? duration - 1 : 1))" \
            >/dev/null 2>&1 || true
        wait "$client" || true
        perf script -i "$tmp/phases.data" -F time,event,trace 2>/dev/null | "$py" -c "$phases_py" "$name"
    done
}
# Reads perf script lines; a receive is a read/recvfrom exit or an io_uring
# completion, a send a write/sendto entry or an io_uring SEND submission. The
# ClientHello of s_time is ~300 bytes and its Finished (with the CCS) 80.
phases_py='
import re, statistics as st, sys
ch = fin = None
hello, finish = [], []
off = 0  # ClientHello phases during which the server was switched out
switched = False
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+):\s+(\S+):\s*(.*)", line)
    if not m:
        continue
    t, ev, a = float(m.group(1)), m.group(2), m.group(3)
    if ev == "sched:sched_switch":
        switched = switched or ch is not None
        continue
    got = None
    if ev == "io_uring:io_uring_complete":
        got = int(re.search(r"result (-?\d+)", a).group(1))
    elif ev == "raw_syscalls:sys_exit" and a.split()[1] in ("0", "45"):
        got = int(a.split("=")[1])
    if got is not None:
        if 250 <= got <= 600:
            ch = t
            switched = False
        elif 60 <= got <= 120:
            fin = t
        continue
    sent = (ev == "io_uring:io_uring_submit_req" and "opcode SEND" in a) or \
           (ev == "raw_syscalls:sys_enter" and a.split()[1] in ("1", "44"))
    if sent and ch is not None:
        hello.append(t - ch)
        off += switched
        ch = None
    if ev == "raw_syscalls:sys_exit" and a.split()[1] == "3" and fin is not None:
        finish.append(t - fin)
        fin = None
def f(v):
    if len(v) < 4:
        return f"n={len(v)}"
    q = st.quantiles(v, n=4)
    return f"median {st.median(v)*1e6:5.0f} (p25 {q[0]*1e6:4.0f} p75 {q[2]*1e6:4.0f}, n={len(v)})"
print(f"  {sys.argv[1]:9s} ClientHello->flight {f(hello)}, switched out in {100 * off / max(len(hello), 1):.0f}%"
      f"   Finished->close {f(finish)}")
'

results="$tmp/results.tsv"
: >"$results"
# measure KIND KEY ROUND NAME: one run; appends "kind key round name rate server_us_per_op idle0 idle1 steal".
measure() {
    local kind=$1 key=$2 round=$3 name=$4 s0 s1 s2 t0 t1 rate ops pre run
    s0=$(stat_snap); sleep 0.3; s1=$(stat_snap); pre=$(stat_diff "$s0" "$s1")
    t0=$(cpu_ticks "${ppid_of[$name]}")
    case $kind in
        full|resumed)
            local flags=(-new)
            [[ $kind == resumed ]] && flags=(-reuse -tls1_2)
            in_ns taskset -c "$load_cpu" openssl s_time -connect "127.0.0.1:${port[$name]}" "${flags[@]}" \
                -time "$duration" >"$tmp/s_time.out" 2>&1 || true
            # "N connections in T real seconds"
            read -r ops rate < <(awk '/connections in [0-9.]+ real seconds/ { print $1, $1/$4 }' "$tmp/s_time.out" | tail -1)
            ;;
        small|16k)
            in_ns taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"${duration}s" "https://127.0.0.1:${port[$name]}/$kind" \
                >"$tmp/wrk.out" 2>&1 || true
            rate=$(awk '/Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
            ops=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
            ;;
    esac
    t1=$(cpu_ticks "${ppid_of[$name]}")
    s2=$(stat_snap); run=$(stat_diff "$s1" "$s2")
    local us_per_op
    us_per_op=$(awk -v t=$((t1 - t0)) -v o="${ops:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (o > 0) printf "%.1f", t * 1e6 / hz / o; else print 0 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$key" "$round" "$name" "${rate:-0}" "$us_per_op" "$pre $run" | tr ' ' '\t' >>"$results"
    printf '  %-7s %-5s r%s %-7s %10s /s  server CPU %7s us/op  idle-before %s%%  steal %s%%\n' \
        "$kind" "$key" "$round" "$name" "${rate:-0}" "$us_per_op" "$(echo "$pre" | cut -d' ' -f1-2 | tr ' ' /)" "$(echo "$run" | cut -d' ' -f3)"
}

echo "# tls_bench: $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) CPUs, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# layout: clients on cpu$load_cpu; server under test + backend nginx on cpu$proxy_cpu; loopback in netns $ns"
echo "# ${duration}s runs, $rounds rounds, order ${contenders[*]}; $(openssl version | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(haproxy -v | head -1 | cut -d' ' -f1-3)"
start_backend
for key in $keys; do
    kinds="full"
    [[ $key == ecdsa ]] && kinds="full resumed $bodies"
    kinds=$(for k in $kinds; do if [[ " $kinds_wanted " == *" $k "* ]]; then echo "$k"; fi; done)
    [[ -n $kinds ]] || continue
    configs "$key"
    start_contenders
    print_suites
    for kind in $kinds; do
        for n in "${contenders[@]}"; do measure "$kind" "$key" 0 "$n" >/dev/null; done  # warm-up
        for r in $(seq "$rounds"); do
            for n in "${contenders[@]}"; do measure "$kind" "$key" "$r" "$n"; done
        done
    done
    [[ $phases == 1 && " $kinds " == *" full "* ]] && trace_phases "$key"
    stop_contenders
done

echo
echo "# openssl speed on cpu$proxy_cpu (the crypto alone, one core)"
speed_ecdsa=$(taskset -c "$proxy_cpu" openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ { print $(NF-1) }')
speed_rsa=$(taskset -c "$proxy_cpu" openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $(NF-1) }')
speed_x25519=$(taskset -c "$proxy_cpu" openssl speed -seconds 2 ecdhx25519 2>/dev/null | awk '/X25519/ { print $NF }')
echo "  ECDSA P-256 sign/s $speed_ecdsa   RSA 2048 sign/s $speed_rsa   X25519 derive/s $speed_x25519"

echo
"$py" - "$results" "$speed_ecdsa" "$speed_rsa" "$speed_x25519" <<'EOF'
import sys, statistics as st
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
sign = {"ecdsa": float(sys.argv[2] or 0), "rsa": float(sys.argv[3] or 0)}
x25519 = float(sys.argv[4] or 0)
by = defaultdict(lambda: defaultdict(dict))  # (kind,key) -> round -> name -> row
for r in rows:
    if r[2] != "0":
        by[(r[0], r[1])][r[2]][r[3]] = r
med = lambda xs: st.median(xs) if xs else float("nan")
spread = lambda xs: f"{min(xs):.2f}-{max(xs):.2f}" if xs else "-"
label = {"full": "full handshakes/s", "resumed": "resumed handshakes/s (TLS 1.2 tickets)",
         "small": "keep-alive req/s 100 B", "16k": "keep-alive req/s 16 KiB"}
print("metric                                    cert  | rate x / nginx / haproxy    | x/nginx med (min-max) | x/haproxy med (min-max) | server us/op x/n/h    | ops per server-CPU-second x/n/h")
xg = {}
per_core_all = {}
for (kind, key), rounds in sorted(by.items(), key=lambda kv: (["full","resumed","small","16k"].index(kv[0][0]), kv[0][1])):
    full = [rd for rd in rounds.values() if all(n in rd for n in ("xgress", "nginx", "haproxy"))]
    f = lambda rd, n, i: float(rd[n][i])
    rate = {n: med([f(rd, n, 4) for rd in full]) for n in ("xgress", "nginx", "haproxy")}
    cpu = {n: med([f(rd, n, 5) for rd in full]) for n in ("xgress", "nginx", "haproxy")}
    rn = [f(rd, "xgress", 4) / f(rd, "nginx", 4) for rd in full if f(rd, "nginx", 4) > 0]
    rh = [f(rd, "xgress", 4) / f(rd, "haproxy", 4) for rd in full if f(rd, "haproxy", 4) > 0]
    per_core = {n: (1e6 / cpu[n] if cpu[n] > 0 else 0) for n in cpu}
    xg[(kind, key)] = (rate["xgress"], per_core["xgress"])
    per_core_all[(kind, key)] = per_core
    print(f"{label[kind]:41s} {key:5s} | {rate['xgress']:8.0f} {rate['nginx']:8.0f} {rate['haproxy']:8.0f} | "
          f"{med(rn):5.2f} ({spread(rn)})     | {med(rh):5.2f} ({spread(rh)})       | "
          f"{cpu['xgress']:6.0f}/{cpu['nginx']:5.0f}/{cpu['haproxy']:5.0f}   | "
          f"{per_core['xgress']:7.0f}/{per_core['nginx']:7.0f}/{per_core['haproxy']:7.0f}")
print()
if ("full", "ecdsa") in xg and ("resumed", "ecdsa") in xg:
    (fr, fc), (rr, rc) = xg[("full", "ecdsa")], xg[("resumed", "ecdsa")]
    print(f"xgress resumed/full (ECDSA): {rr / fr:.2f}x by rate, {rc / fc:.2f}x per server-CPU-second" if fr and fc else "")
for key in ("ecdsa", "rsa"):
    if ("full", key) in xg and sign[key] > 0:
        bound = 1 / (1 / sign[key] + (2 / x25519 if x25519 else 0))
        print(f"xgress full {key} handshakes per server-CPU-second {xg[('full', key)][1]:.0f} vs crypto-alone bound "
              f"{bound:.0f}/s (1 sign + 2 X25519 ops per handshake, openssl speed): {xg[('full', key)][1] / bound:.2f}")
        pc = per_core_all[("full", key)]
        print(f"  same figure for nginx {pc['nginx'] / bound:.2f}, haproxy {pc['haproxy'] / bound:.2f} "
              f"(same OpenSSL: what its handshake code costs beyond the three operations)")
# The client CPU is the bottleneck of the keep-alive runs (its idle is ~0 %
# while the server CPU idles): per server-CPU-second is the servers' own cost.
for (kind, key), pc in per_core_all.items():
    if pc["nginx"] > 0 and pc["haproxy"] > 0:
        print(f"{label[kind]} ({key}) per server-CPU-second: xgress/nginx {pc['xgress'] / pc['nginx']:.2f}, "
              f"xgress/haproxy {pc['xgress'] / pc['haproxy']:.2f}")
# --xgress-b: the second xgress binary against the first, round by round
# (same window, alternated), and against nginx.
for (kind, key), rounds in sorted(by.items()):
    pairs = [rd for rd in rounds.values() if "xgress" in rd and "xgress-b" in rd]
    if not pairs:
        continue
    v = lambda rd, n, i: float(rd[n][i])
    r = [v(rd, "xgress-b", 4) / v(rd, "xgress", 4) for rd in pairs if v(rd, "xgress", 4) > 0]
    c = [v(rd, "xgress", 5) / v(rd, "xgress-b", 5) for rd in pairs if v(rd, "xgress-b", 5) > 0]
    bn = [v(rd, "xgress-b", 4) / v(rd, "nginx", 4) for rd in pairs if "nginx" in rd and v(rd, "nginx", 4) > 0]
    an = [v(rd, "xgress", 4) / v(rd, "nginx", 4) for rd in pairs if "nginx" in rd and v(rd, "nginx", 4) > 0]
    print(f"A/B {label[kind]} ({key}): xgress-b/xgress rate {med(r):.3f} ({spread(r)}), "
          f"per server-CPU-second {med(c):.3f} ({spread(c)}); /nginx: xgress {med(an):.2f} ({spread(an)}), "
          f"xgress-b {med(bn):.2f} ({spread(bn)})")
steals = [float(r[8]) for r in rows if len(r) > 8]
busy = sum(1 for r in rows if len(r) > 7 and (float(r[6]) < 85 or float(r[7]) < 85))
print(f"steal during runs: median {med(steals):.1f}% max {max(steals) if steals else 0:.1f}%; runs that started busy (<85% idle): {busy}/{len(rows)}")
EOF
cp "$results" "/tmp/tls_bench_results.$$.tsv"
echo "raw rows: /tmp/tls_bench_results.$$.tsv"

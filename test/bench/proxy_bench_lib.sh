# Shared by proxy_bench.sh and tls_bench.sh (sourced after their option
# parsing): the private network namespace and its cleanup, the nginx backend,
# pinned start-up of contenders, and /proc/stat idle/steal bookkeeping.
# Expects: $build, $proxy_cpu. Sets: proxy_bin, py, ns, tmp, pids, ppid_of,
# backend_port, and the layout: ns_client / ns_pod (where the load generator
# and the backend run), front_addr / backend_addr (what clients and proxies
# connect to) and backend_cpu. By default everything is on loopback in $ns
# with the backend beside the proxy; bench_lab_layout changes that.

# bench_prepare SCRIPT NS_PREFIX TOOL...: root, binaries and tools present,
# then a fresh namespace with loopback up and a temp dir, both removed (with
# every process in $pids) on exit.
bench_prepare() {
    local script=$1 prefix=$2 tool
    shift 2
    proxy_bin="$build/proxy/xgress-proxy"
    [[ $EUID -eq 0 ]] || { echo "$script: needs root (netns)" >&2; exit 2; }
    [[ -x $proxy_bin ]] || { echo "missing $proxy_bin (build xgress-proxy, or pass --build)" >&2; exit 2; }
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
    done
    py=$(command -v /usr/bin/python3 || command -v python3)
    ns="$prefix-bench-$$"
    tmp=$(mktemp -d "/tmp/$prefix-bench.XXXXXX")
    chmod 755 "$tmp"
    pids=()
    declare -gA ppid_of=()
    backend_port=18000
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
    ns_client=$ns ns_pod=$ns front_addr=127.0.0.1 backend_addr=127.0.0.1 backend_cpu=$proxy_cpu
}

# The issue's lab topology: a client namespace and a pod namespace joined to
# $ns (the node) by veth pairs, client 198.18.0.2 -> node 198.18.0.1, node
# 10.244.0.1 -> pod 10.244.0.2; the backend runs beside the load generator on
# $1 (its CPU), so the proxy has a CPU of its own.
bench_lab_layout() {
    backend_cpu=$1
    ns_client="$ns-client" ns_pod="$ns-pod" front_addr=198.18.0.1 backend_addr=10.244.0.2
    ip netns add "$ns_client"
    ip netns add "$ns_pod"
    ip link add eth0 netns "$ns_client" type veth peer name eth-client netns "$ns"
    ip link add eth0 netns "$ns_pod" type veth peer name eth-pod netns "$ns"
    ip -n "$ns_client" addr add 198.18.0.2/24 dev eth0
    ip -n "$ns" addr add 198.18.0.1/24 dev eth-client
    ip -n "$ns" addr add 10.244.0.1/24 dev eth-pod
    ip -n "$ns_pod" addr add 10.244.0.2/24 dev eth0
    local n
    for n in "$ns_client" "$ns_pod"; do
        ip -n "$n" link set lo up
        ip -n "$n" link set eth0 up
    done
    ip -n "$ns" link set eth-client up
    ip -n "$ns" link set eth-pod up
}
bench_cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
    [[ ${ns_client:-$ns} == "$ns" ]] || ip netns del "$ns_client" 2>/dev/null || true
    [[ ${ns_pod:-$ns} == "$ns" ]] || ip netns del "$ns_pod" 2>/dev/null || true
    rm -rf "$tmp"
}
in_ns() { ip netns exec "$ns" "$@"; }
in_client() { ip netns exec "$ns_client" "$@"; }

# Temp paths and pid/error log under the prefix: nothing touches /var or /etc.
nginx_common() {
    local dir=$1
    cat <<EOF
user root;
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 8192;
events { worker_connections 4096; }
EOF
}
nginx_http_common() {
    local dir=$1
    cat <<EOF
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    default_type application/octet-stream;
EOF
}

# The static backend every contender proxies to: nginx serving /small (100 B)
# and /16k on $backend_addr:$backend_port (config only; start_backend starts it).
bench_backend_config() {
    mkdir -p "$tmp/backend/www" "$tmp/backend/tmp"
    head -c 100 /dev/zero | tr '\0' 'x' >"$tmp/backend/www/small"
    head -c 16384 /dev/zero | tr '\0' 'y' >"$tmp/backend/www/16k"
    {
        nginx_common "$tmp/backend"
        echo "http {"
        nginx_http_common "$tmp/backend"
        cat <<EOF
    sendfile on;
    server {
        listen $backend_addr:$backend_port backlog=4096;
        root $tmp/backend/www;
        location / { }
    }
}
EOF
    } >"$tmp/backend/nginx.conf"
}

# The plain-HTTP contenders in front of the backend, configured alike (one
# worker/thread, access log off, upstream keep-alive): nginx.conf, haproxy.cfg
# and the xgress snapshot under $tmp. Listens on $front_addr:${port[NAME]}
# (port: an associative array the caller declares). Used by proxy_bench.sh and
# contention_bench.sh.
bench_proxy_configs() {
    mkdir -p "$tmp/nginx/tmp" "$tmp/haproxy" "$tmp/xgress"
    {
        nginx_common "$tmp/nginx"
        echo "http {"
        nginx_http_common "$tmp/nginx"
        cat <<EOF
    upstream backend {
        server $backend_addr:$backend_port;
        keepalive 512;
        keepalive_requests 100000000;
        keepalive_timeout 300s;
    }
    server {
        listen $front_addr:${port[nginx]} backlog=4096;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } >"$tmp/nginx/nginx.conf"

    cat >"$tmp/haproxy/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
frontend fe
    bind $front_addr:${port[haproxy]} backlog 4096
    default_backend be
backend be
    server s1 $backend_addr:$backend_port
EOF

    cat >"$tmp/xgress/snapshot.json" <<EOF
{"version": 1,
 "virtual_hosts": [{"host": "", "routes": [{"path": "/", "match": "prefix", "backend": "bench/backend:80"}]}],
 "default_backend": "",
 "frontends": [],
 "backends": [{"name": "bench/backend:80", "endpoints": [{"address": "$backend_addr", "port": $backend_port}]}]}
EOF
}

start_pinned() {
    local name=$1; shift
    ip netns exec "$ns" taskset -c "$proxy_cpu" "$@" >"$tmp/$name.out" 2>&1 &
    pids+=($!)
    ppid_of[$name]=$!
}

# The backend nginx, in the pod namespace on backend_cpu; waits for it.
start_backend() {
    ip netns exec "$ns_pod" taskset -c "$backend_cpu" \
        nginx -p "$tmp/backend/" -e "$tmp/backend/error.log" -c "$tmp/backend/nginx.conf" >"$tmp/backend.out" 2>&1 &
    pids+=($!)
    ppid_of[backend]=$!
    wait_port "$backend_port" "$ns_pod"
}

wait_port() {
    local p=$1 where=${2:-$ns}
    for _ in $(seq 100); do
        ip netns exec "$where" ss -Htln "sport = :$p" | grep -q . && return 0
        sleep 0.05
    done
    echo "nothing listens on :$p; logs:" >&2; tail -n 20 "$tmp"/*.out >&2; exit 1
}

# Every pid of a server: the process and its descendants (nginx workers).
pids_of() {
    local p=$1 child
    echo "$p"
    for child in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids_of "$child"; done
}

# /proc/stat for cpu0 and cpu1: "idle total steal" each (idle includes iowait).
stat_snap() {
    awk '/^cpu[01] / { idle=$5+$6; t=0; for (i=2;i<=NF;i++) t+=$i; printf "%d %d %d ", idle, t, $9 }' /proc/stat
}
# idle% cpu0, idle% cpu1, steal% (both CPUs) between two snapshots.
stat_diff() {
    echo "$1 $2" | awk '{ d0=$8-$2; d1=$11-$5; if (d0<1) d0=1; if (d1<1) d1=1;
        printf "%.0f %.0f %.1f", 100*($7-$1)/d0, 100*($10-$4)/d1, 100*(($12-$6)+($9-$3))/(d0+d1) }'
}

# Per-CPU work during a measured window, for the load CPU ($load_cpu) and the
# proxy CPU ($proxy_cpu): which one is saturated tells whether the proxy or
# the load generator (+ backend, in the lab layout) limits the figure.
# cpu_snap: "busy total steal" for the load CPU then the proxy CPU, where busy
# = user+nice+system+irq+softirq jiffies (/proc/stat columns 2,3,4,7,8).
cpu_snap() {
    awk -v a="cpu$load_cpu" -v b="cpu$proxy_cpu" '
        $1 == a || $1 == b { t=0; for (i=2;i<=NF;i++) t+=$i; s[$1] = sprintf("%d %d %d", $2+$3+$4+$7+$8, t, $9) }
        END { printf "%s %s", s[a], s[b] }' /proc/stat
}
# cpu_busy SNAP0 SNAP1: "load_busy% load_steal% proxy_busy% proxy_steal%".
cpu_busy() {
    echo "$1 $2" | awk '{ dl=$8-$2; dp=$11-$5; if (dl<1) dl=1; if (dp<1) dp=1;
        printf "%.0f %.0f %.0f %.0f", 100*($7-$1)/dl, 100*($9-$3)/dl, 100*($10-$4)/dp, 100*($12-$6)/dp }'
}
# proc_snap PID...: "nanoseconds-now cpu-ticks" where cpu-ticks = utime+stime
# of those processes and their children (nginx workers): their own share of a
# CPU, apart from whatever else (other builds, other tasks) ran there.
proc_snap() {
    local p ticks=0 t seen=0
    for p in $(for t in "$@"; do pids_of "$t"; done); do
        t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || continue
        [[ -n $t ]] || continue
        ticks=$((ticks + t)); seen=1
    done
    [[ $seen == 1 ]] || ticks=-   # gone (exited before the snapshot)
    echo "$(date +%s%N) $ticks"
}
# proc_busy SNAP0 SNAP1: the process's CPU % over the window.
proc_busy() {
    echo "$1 $2" | awk -v hz="$(getconf CLK_TCK)" '{ w=($3-$1)/1e9; if (w<=0) w=1
        if ($2 == "-" || $4 == "-" || $4 < $2) print "-"; else printf "%.0f", 100*($4-$2)/hz/w }'
}

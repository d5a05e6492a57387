#!/usr/bin/env bash
# The xgress demo: installs dependencies, builds, brings up the network-namespace
# lab on examples/, sends requests from the client namespace through the node's
# NodePort 30080 and shows which Service and pod answered; then a second, short lab
# on examples/tls/ shows HTTPS (certificate by SNI, redirect of plain HTTP), and
# both labs are torn down.
#
# usage: tools/demo.sh [--keep]     (root)
#   --keep   leave the first lab running afterwards (remove it with tools/lab/down.sh)
# env:   XGRESS_LAB (default xgress), XGRESS_BUILD_DIR (default build)
# Exits non-zero, saying which expectation failed, if the demo does not behave.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
for arg in "$@"; do
  case $arg in
    --keep) keep=1 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: must run as root (packages, network namespaces, BPF)" >&2; exit 1; }

export XGRESS_LAB=${XGRESS_LAB:-xgress}
build_dir=${XGRESS_BUILD_DIR:-build}
mkdir -p "$build_dir"
XGRESS_BUILD_DIR=$(cd "$build_dir" && pwd)
export XGRESS_BUILD_DIR
# shellcheck source=tools/lab/lib.sh
source tools/lab/lib.sh
lab_init

# Colours only on a terminal, so logs stay plain.
if [ -t 1 ]; then bold=$'\033[1m' dim=$'\033[2m' red=$'\033[31m' green=$'\033[32m' off=$'\033[0m'
else bold='' dim='' red='' green='' off=''; fi
section() { printf "\n${bold}== %s ==${off}\n" "$*"; }
failures=()
check() {  # check DESCRIPTION COMMAND...: records a failed expectation
  local what=$1
  shift
  if "$@"; then return 0; fi
  failures+=("$what")
  printf '   %s✗ expected: %s%s\n' "$red" "$what" "$off"
  return 0  # keep going: every failed expectation is listed at the end
}

section "Dependencies"
./tools/install-deps.sh

section "Build ($XGRESS_BUILD_DIR)"
cmake -G Ninja -S . -B "$XGRESS_BUILD_DIR" >/dev/null
cmake --build "$XGRESS_BUILD_DIR"

teardown() {
  local rc=$?
  rm -f "${tmp:-}"
  [ -z "${tls_dir:-}" ] || rm -rf "$tls_dir"
  # The HTTPS lab is never kept: it only exists for its section.
  if [ -e "/run/xgress-lab-$tls_lab" ]; then XGRESS_LAB=$tls_lab tools/lab/down.sh || rc=1; fi
  if [ "$keep" -eq 1 ]; then
    section "Lab kept"
    echo "lab '$LAB' still running. Try:"
    echo "  XGRESS_LAB=$LAB tools/lab/client.sh curl -s -H 'Host: shop.example.com' http://$LAB_NODE_ADDR:$LAB_NODE_PORT/ | jq ."
    echo "remove it with: XGRESS_LAB=$LAB tools/lab/down.sh"
  else
    section "Teardown"
    tools/lab/down.sh || rc=1
  fi
  exit "$rc"
}
# The HTTPS section's lab (a second, independent set of namespaces).
tls_lab=${LAB:0:16}-tls
if [ -e "/run/xgress-lab-$tls_lab" ]; then
  echo "demo.sh: lab '$tls_lab' exists; remove it with XGRESS_LAB=$tls_lab tools/lab/down.sh" >&2
  exit 1
fi
if [ -e "$LAB_STATE_DIR" ] || [ -n "$(lab_namespaces)" ]; then
  echo "demo.sh: lab '$LAB' is already up (kept by an earlier --keep?); remove it with XGRESS_LAB=$LAB tools/lab/down.sh" >&2
  exit 1
fi
manifests=$(lab_examples_dir)
section "Lab '$LAB' on ${manifests#"$PWD"/}"
trap teardown EXIT
# The proxy's default endpoint choice is p2c (two random choices, fewer
# in-flight requests wins): with idle pods that looks random. The demo asks for
# round robin so that its per-pod counts are exact.
node=$(XGRESS_LAB_PROXY_ARGS="--balance round_robin" tools/lab/up.sh "$manifests")
echo "node address: $node   client: $LAB_CLIENT_ADDR   NodePort: $LAB_NODE_PORT"

tmp=$(mktemp)
# send HOST PATH: one request from the client; sets status, service and pod.
send() {
  status=$(tools/lab/client.sh curl -s -o "$tmp" -w '%{http_code}' --max-time 5 -H "Host: $1" \
    "http://$node:$LAB_NODE_PORT$2") || true
  service=$(jq -r '.service // "-"' "$tmp" 2>/dev/null || echo -)
  pod=$(jq -r '.pod // "-"' "$tmp" 2>/dev/null || echo -)
  printf '   %-20s %-14s %-6s %-8s %s\n' "$1" "$2" "$status" "$service" "$pod"
}
header() { printf '   %s%-20s %-14s %-6s %-8s %s%s\n' "$dim" HOST PATH STATUS SERVICE POD "$off"; }
is() { [ "$1" == "$2" ]; }

section "Routing: one request per Ingress rule"
header
for rule in "shop.example.com / web" "shop.example.com /api api" "shop.example.com /api/orders api" \
            "api.example.com / api"; do
  read -r host path want <<<"$rule"
  send "$host" "$path"
  check "$host$path answered 200 by service $want" is "$status $service" "200 $want"
done

# round_robin HOST PATH COUNT POD...: COUNT requests over one keep-alive
# connection (so one proxy worker and its rotation serve them all); each pod
# must answer exactly COUNT / number-of-pods of them, in turn.
round_robin() {
  local host=$1 path=$2 count=$3 i p body seen=() urls=()
  shift 3
  for ((i = 0; i < count; i++)); do urls+=("http://$node:$LAB_NODE_PORT$path"); done
  header
  # The echo's JSON body ends with a newline; curl then writes the status line.
  while IFS= read -r body && IFS= read -r status; do
    pod=$(jq -r '.pod // "-"' <<<"$body" 2>/dev/null || echo -)
    service=$(jq -r '.service // "-"' <<<"$body" 2>/dev/null || echo -)
    printf '   %-20s %-14s %-6s %-8s %s\n' "$host" "$path" "$status" "$service" "$pod"
    seen+=("$pod")
  done < <(tools/lab/client.sh curl -s --max-time 5 -H "Host: $host" -w '%{http_code}\n' "${urls[@]}" || true)
  check "$count answers to $host$path over one connection" is "${#seen[@]}" "$count"
  for p in "$@"; do
    check "$p answers $((count / $#)) of $count requests to $host$path" \
      is "$(printf '%s\n' "${seen[@]}" | grep -cx "$p")" "$((count / $#))"
  done
  printf '   %sper pod: %s%s\n' "$dim" "$(printf '%s\n' "${seen[@]}" | sort | uniq -c | awk '{printf "%s×%s  ", $2, $1}')" "$off"
}
section "Round robin (proxy --balance round_robin): shop.example.com / (Service web, 3 pods)"
round_robin shop.example.com / 6 web-0 web-1 web-2
section "Round robin (proxy --balance round_robin): api.example.com / (Service api, 2 pods)"
round_robin api.example.com / 4 api-0 api-1

section "Unknown host"
header
send unknown.example.com /
check "unknown.example.com answered 404" is "$status" 404

section "What the backend saw (headers added by the proxy)"
tools/lab/client.sh curl -s --max-time 5 -H 'Host: shop.example.com' "http://$node:$LAB_NODE_PORT/hello?from=demo" >"$tmp" || true
jq '{pod, service, path, host, headers}' "$tmp" 2>/dev/null | sed 's/^/   /' || sed 's/^/   /' "$tmp"
check "X-Forwarded-For is the client address" is "$(jq -r '.headers["x-forwarded-for"]' "$tmp" 2>/dev/null)" "$LAB_CLIENT_ADDR"

section "xgressctl stats (node namespace)"
if ctl=$(lab_bin ctl 2>/dev/null); then
  tools/lab/node.sh "$ctl" --pin-root "$LAB_PIN_ROOT" stats | sed 's/^/   /' ||
    check "xgressctl stats succeeds" false
else
  check "xgressctl is built" false
fi

section "HTTPS (SNI, redirect): a second lab on examples/tls"
# examples/tls plus a throw-away certificate Secret for shop.example.com;
# the publish Service's "https" port (NodePort 30443) is an HTTPS frontend.
tls_dir=$(mktemp -d)
cp examples/tls/*.yaml "$tls_dir/"
examples/tls/gen-secret.sh "$tls_dir/20-shop-tls.yaml"
awk '$1 == "tls.crt:" {print $2}' "$tls_dir/20-shop-tls.yaml" | base64 -d >"$tls_dir/shop.crt"
tls_node=$(XGRESS_LAB=$tls_lab tools/lab/up.sh "$tls_dir" 2>"$tls_dir/up.log") ||
  { cat "$tls_dir/up.log" >&2; check "the HTTPS lab comes up" false; }
tls_client() { XGRESS_LAB=$tls_lab tools/lab/client.sh "$@"; }
# cn SNI: the subject CN of the certificate the node serves for SNI.
cn() {
  tls_client openssl s_client -connect "$tls_node:30443" -servername "$1" </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}
if [ -n "$tls_node" ]; then
  printf '   %s%-48s %-6s %s%s\n' "$dim" REQUEST STATUS ANSWER "$off"
  status=$(tls_client curl -s -o "$tmp" -w '%{http_code}' --max-time 5 --cacert "$tls_dir/shop.crt" \
    --resolve "shop.example.com:30443:$tls_node" https://shop.example.com:30443/) || true
  answer=$(jq -r '"\(.service) \(.pod)  x-forwarded-proto: \(.headers["x-forwarded-proto"])"' "$tmp" 2>/dev/null || echo -)
  printf '   %-48s %-6s %s\n' "https://shop.example.com:30443/ (verified)" "$status" "$answer"
  check "https://shop.example.com:30443/ answered 200 by service shop" is "$status ${answer%% *}" "200 shop"
  read -r status location < <(tls_client curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' --max-time 5 \
    -H 'Host: shop.example.com' "http://$tls_node:$LAB_NODE_PORT/cart") || true
  printf '   %-48s %-6s %s\n' "http://shop.example.com:$LAB_NODE_PORT/cart" "$status" "Location: $location"
  check "plain HTTP to shop.example.com redirected (308) to https" is "$status $location" "308 https://shop.example.com/cart"
  # SNI -> the CN expected: the Secret's certificate, and for a miss the default
  # one (no defaultTLSSecret in examples/tls: the proxy's self-signed one).
  for pair in shop.example.com=shop.example.com other.example=xgress-default; do
    subject=$(cn "${pair%%=*}" || true)
    printf '   %-48s %-6s %s\n' "TLS handshake, SNI ${pair%%=*}" - "certificate CN=$subject"
    check "SNI ${pair%%=*} gets the certificate CN=${pair#*=}" is "$subject" "${pair#*=}"
  done
  printf '   %s(vault.example.com is ssl-passthrough: relayed undecrypted to its pod; see test/integration/tls_agent_lab_test.sh)%s\n' "$dim" "$off"
fi
XGRESS_LAB=$tls_lab tools/lab/down.sh 2>/dev/null || check "the HTTPS lab comes down" false
rm -rf "$tls_dir"
tls_dir=
rm -f "$tmp"

section "Result"
if [ ${#failures[@]} -ne 0 ]; then
  printf '%sdemo FAILED: %d expectation(s) not met:%s\n' "$red" "${#failures[@]}" "$off"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
printf '%sdemo OK: every expectation met%s\n' "$green" "$off"

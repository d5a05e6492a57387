#!/usr/bin/env bash
# The agent reconfigures a running lab from manifest edits while a request
# loop runs: add a path, scale endpoints up, switch one to terminating, scale
# down, remove a host. Every change must be visible from the client within
# 1 s, and the loop (shop.example.com, whose routing stays valid throughout)
# must see zero failed requests. Edits are atomic renames, as kubectl-style
# tools and ConfigMap updates do them.
# Needs root; exits 77 (CTest: skipped) without it. Env: XGRESS_BUILD_DIR.
set -uo pipefail
# shellcheck source=test/integration/lab_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab_test_lib.sh" agent_reconfigure_lab_test xgh7

work=$(mktemp -d)
manifests=$work/manifests
mkdir -p "$manifests"
loop_pid=
lab_up=0
on_exit() {
  [ -z "$loop_pid" ] || kill "$loop_pid" 2>/dev/null
  if [ "$lab_up" -eq 1 ]; then
    [ "$failures" -eq 0 ] || lab_tail_logs 40 2>&1
    "$lab_dir/down.sh"
  fi
  rm -rf "$work"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

examples=$(lab_examples_dir)
cp "$examples/00-namespaces.yaml" "$examples/10-xgress.yaml" "$examples/30-api.json" "$manifests/"

# web's EndpointSlice. web-3 exists from the start (so the lab gives it a pod
# namespace and an echo backend) but is not ready: scaling up flips it.
# write_web READY0 SERVING0 TERMINATING0 INCLUDE1 READY3
write_web() {
  local tmp=$work/web.tmp
  {
    cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-a, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: ["10.244.1.11"], conditions: {ready: $1, serving: $2, terminating: $3}, targetRef: {kind: Pod, name: web-0}}
YAML
    [ "$4" = yes ] && echo '  - {addresses: ["10.244.1.12"], conditions: {ready: true}, targetRef: {kind: Pod, name: web-1}}'
    cat <<YAML
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-b, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: ["10.244.1.13"], conditions: {ready: true}, targetRef: {kind: Pod, name: web-2}}
  - {addresses: ["10.244.1.14"], conditions: {ready: $5}, targetRef: {kind: Pod, name: web-3}}
YAML
  } >"$tmp"
  mv "$tmp" "$manifests/20-web.yaml"
}

# write_ingress WITH_NEW_PATH WITH_API_HOST
write_ingress() {
  local tmp=$work/ingress.tmp
  {
    cat <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: demo, namespace: demo}
spec:
  ingressClassName: xgress
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
YAML
    [ "$1" = yes ] && echo '          - {path: /new, pathType: Exact, backend: {service: {name: api, port: {number: 80}}}}'
    [ "$2" = yes ] && cat <<YAML
    - host: api.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
YAML
  } >"$tmp"
  mv "$tmp" "$manifests/40-ingress.yaml"
}

write_web true true false yes false
write_ingress no yes

echo "--- lab $LAB up on $manifests ---"
if ! node=$("$lab_dir/up.sh" "$manifests"); then
  fail "up.sh failed"
  lab_up=1
  exit 1
fi
lab_up=1

# Prints "STATUS SERVICE POD" for one request.
probe() {
  local out
  out=$(ip netns exec "$LAB_NS_CLIENT" curl -s --max-time 2 -w '\n%{http_code}' -H "Host: $1" \
    "http://$node:$LAB_NODE_PORT$2" 2>/dev/null) || true
  printf '%s %s\n' "${out##*$'\n'}" "$(jq -r '[.service, .pod] | join(" ")' <<<"${out%$'\n'*}" 2>/dev/null)"
}

# The request loop: shop.example.com/ must always answer 200 from web.
ip netns exec "$LAB_NS_CLIENT" bash -c '
  while :; do
    code=$(curl -s -o /dev/null --max-time 2 -w "%{http_code}" -H "Host: shop.example.com" "http://'"$node:$LAB_NODE_PORT"'/")
    echo "$code"
  done' >"$work/loop.log" 2>&1 &
loop_pid=$!

# wait_visible WHAT CMD...: CMD (a predicate) must hold within 1 s of the edit.
# Records the time it took.
wait_visible() {
  local what=$1; shift
  local start now elapsed
  start=$(date +%s%N)
  while :; do
    if "$@"; then
      now=$(date +%s%N)
      elapsed=$(( (now - start) / 1000000 ))
      if [ "$elapsed" -le 1000 ]; then pass "$what: visible after ${elapsed} ms"
      else fail "$what: visible only after ${elapsed} ms (limit 1000 ms)"; fi
      return
    fi
    now=$(date +%s%N)
    if [ $(( (now - start) / 1000000 )) -gt 3000 ]; then fail "$what: not visible after 3 s"; return; fi
  done
}

# pods_seen N: the set of web pods answering N requests (one curl, one
# keep-alive connection, so a check costs milliseconds, not N process starts).
pods_seen() {
  local urls=() i
  for ((i = 0; i < $1; i++)); do urls+=("http://$node:$LAB_NODE_PORT/"); done
  ip netns exec "$LAB_NS_CLIENT" curl -s --max-time 2 -H "Host: shop.example.com" "${urls[@]}" 2>/dev/null |
    jq -r .pod 2>/dev/null | sort -u | tr '\n' ' '
}
new_path_routes_to_api() { [ "$(probe shop.example.com /new | cut -d' ' -f1,2)" = "200 api" ]; }
web3_answers() { [[ " $(pods_seen 8) " == *" web-3 "* ]]; }
web0_gone() { [[ " $(pods_seen 8) " != *" web-0 "* ]]; }
web1_gone() { [[ " $(pods_seen 8) " != *" web-1 "* ]]; }
api_host_gone() { [ "$(probe api.example.com / | cut -d' ' -f1)" = 404 ]; }

sleep 0.5
[ "$(probe shop.example.com /new | cut -d' ' -f1,2)" = "200 web" ] && pass "before: /new goes to web" ||
  fail "before: /new should go to web"
[[ " $(pods_seen 12) " != *" web-3 "* ]] && pass "before: web-3 (not ready) gets no traffic" ||
  fail "before: web-3 answered while not ready"

echo "--- add a path ---"
write_ingress yes yes
wait_visible "add path /new -> api" new_path_routes_to_api

echo "--- scale up (web-3 ready) ---"
write_web true true false yes true
wait_visible "scale up: web-3 answers" web3_answers

echo "--- web-0 terminating ---"
write_web false true true yes true
wait_visible "terminating: web-0 gets no new requests" web0_gone

echo "--- scale down (web-1 removed) ---"
write_web false true true no true
wait_visible "scale down: web-1 gets no requests" web1_gone

echo "--- remove a host ---"
write_ingress yes no
wait_visible "remove host api.example.com: 404" api_host_gone

echo "--- a broken edit keeps the last good state ---"
printf 'kind: EndpointSlice\nmetadata: {name: web-b, namespace: demo\n' >"$work/broken.tmp"
mv "$work/broken.tmp" "$manifests/20-web.yaml"
sleep 0.3
seen=$(pods_seen 12)
[[ " $seen " == *" web-3 "* ]] && pass "broken file: web-3 still served ($seen)" || fail "broken file dropped endpoints: $seen"
grep -q "20-web.yaml: line" "$LAB_STATE_DIR/agent.log" && pass "broken file reported with its name and line" ||
  fail "agent log does not name the broken file"

kill "$loop_pid" 2>/dev/null
wait "$loop_pid" 2>/dev/null
loop_pid=
total=$(wc -l <"$work/loop.log")
bad=$(grep -c -v '^200$' "$work/loop.log")
if [ "$total" -gt 20 ] && [ "$bad" -eq 0 ]; then
  pass "request loop: $total requests, 0 failed"
else
  fail "request loop: $total requests, $bad failed: $(grep -v '^200$' "$work/loop.log" | sort | uniq -c | tr '\n' ' ')"
fi

if [ "$failures" -ne 0 ]; then echo "agent_reconfigure_lab_test: $failures check(s) FAILED"; exit 1; fi
echo "agent_reconfigure_lab_test: all checks passed"

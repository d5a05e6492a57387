#!/usr/bin/env bash
# Checks xgress-echo on loopback (no root needed): the JSON it answers with, body
# handling (Content-Length, chunked), keep-alive, HTTP/1.0, escaping, bad requests.
# usage: echo_backend_test.sh PATH/TO/xgress-echo
set -uo pipefail
echo_bin=${1:?usage: echo_backend_test.sh PATH/TO/xgress-echo}
work=$(mktemp -d)
pid=
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect NAME ACTUAL WANTED
expect() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }

# Start on a free port (the echo exits at once if the port is taken).
for _ in 1 2 3 4 5; do
  port=$((20000 + (RANDOM % 20000)))
  "$echo_bin" --pod web-0 --namespace demo --listen "127.0.0.1:$port=web" >"$work/echo.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q serving "$work/echo.log" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && grep -q serving "$work/echo.log" && break
  pid=
done
[ -n "$pid" ] || { echo "FAIL: xgress-echo did not start: $(cat "$work/echo.log")"; exit 1; }
base=http://127.0.0.1:$port

# Sends raw bytes on a new connection and prints everything the echo answers.
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  # shellcheck disable=SC2059  # $1 is the raw request, escapes included
  printf "$1" >&3
  timeout 2 cat <&3
  exec 3<&-
}

body=$(curl -s -H 'Host: shop.example.com' -H 'X-Test: a"b\c' "$base/some/path?x=1&y=2")
expect "GET answers valid JSON" "$(jq -e . <<<"$body" >/dev/null && echo ok)" ok
expect "pod reported" "$(jq -r .pod <<<"$body")" web-0
expect "namespace reported" "$(jq -r .namespace <<<"$body")" demo
expect "service of the listen port" "$(jq -r .service <<<"$body")" web
expect "port reported" "$(jq -r .port <<<"$body")" "$port"
expect "method reported" "$(jq -r .method <<<"$body")" GET
expect "path with query as received" "$(jq -r .path <<<"$body")" '/some/path?x=1&y=2'
expect "host reported" "$(jq -r .host <<<"$body")" shop.example.com
expect "proto reported" "$(jq -r .proto <<<"$body")" HTTP/1.1
expect "header names lower-cased, quote and backslash escaped" "$(jq -r '.headers["x-test"]' <<<"$body")" 'a"b\c'

head=$(curl -s -D - -o /dev/null "$base/")
expect "Content-Type application/json" "$(grep -i '^content-type:' <<<"$head" | tr -d '\r' | cut -d' ' -f2)" application/json
expect "Content-Length matches body" \
  "$(grep -i '^content-length:' <<<"$head" | tr -d '\r' | cut -d' ' -f2)" "$(curl -s "$base/" | wc -c)"

body=$(head -c 100000 /dev/zero | tr '\0' x | curl -s -X POST --data-binary @- "$base/upload")
expect "POST with Content-Length body" "$(jq -r '.method + " " + .headers["content-length"]' <<<"$body")" "POST 100000"
body=$(head -c 50000 /dev/zero | tr '\0' y | curl -s -X PUT -H 'Transfer-Encoding: chunked' --data-binary @- "$base/chunked")
expect "PUT with chunked body" "$(jq -r .path <<<"$body")" /chunked

verbose=$(curl -sv "$base/one" "$base/two" 2>&1)
expect "keep-alive: second request reuses the connection" "$(grep -c 'Re-using existing connection' <<<"$verbose")" 1
verbose=$(curl -sv --http1.0 "$base/old" 2>&1)
expect "HTTP/1.0 reported and closed" \
  "$(grep -o '"proto":"HTTP/1.0"' <<<"$verbose")|$(grep -ci '^< connection: close' <<<"$verbose")" '"proto":"HTTP/1.0"|1'

out=$(raw 'GET /p1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcPOST /p2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\nGET /p3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')
expect "pipelined requests with bodies, in order" "$(grep -o '"path":"[^"]*"' <<<"$out" | tr '\n' ' ')" '"path":"/p1" "path":"/p2" "path":"/p3" '

out=$(raw 'GET /e HTTP/1.1\r\nHost: h\r\nConnection: close\r\nX-Ctl: a\x01b\r\nX-Bad: \xff\xc3\xa9\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n')
json=$(tail -n1 <<<"$out")
expect "control byte escaped as \\u0001" "$(grep -o '"x-ctl":"[^"]*"' <<<"$json")" '"x-ctl":"a\u0001b"'
expect "invalid UTF-8 escaped, valid UTF-8 kept" "$(grep -o '"x-bad":"[^"]*"' <<<"$json")" '"x-bad":"\u00ffé"'
expect "repeated header joined" "$(jq -r '.headers["x-dup"]' <<<"$json")" "1, 2"

expect "space before colon is a 400" "$(raw 'GET / HTTP/1.1\r\nHost : h\r\n\r\n' | head -n1 | tr -d '\r')" "HTTP/1.1 400 Bad Request"
expect "unknown version is a 400" "$(raw 'GET / HTTP/2.0\r\nHost: h\r\n\r\n' | head -n1 | tr -d '\r')" "HTTP/1.1 400 Bad Request"
expect "bad chunk size is a 400" \
  "$(raw 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' | head -n1 | tr -d '\r')" "HTTP/1.1 400 Bad Request"
if kill -0 "$pid" 2>/dev/null; then pass "echo still running after bad requests"; else fail "echo died"; fi

if [ "$failures" -ne 0 ]; then echo "echo_backend_test: $failures check(s) FAILED"; exit 1; fi
echo "echo_backend_test: all checks passed"

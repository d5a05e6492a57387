#!/usr/bin/env bash
# HTTPS through the whole product, driven by the agent from examples/tls/
# (tls_lab_test.sh covers the proxy alone, from a hand-written snapshot):
# a copy of examples/tls plus a Secret made by gen-secret.sh is the manifests
# directory of a lab (tools/lab/up.sh: XDP + sk_lookup + agent + proxy), and
# real clients in the client namespace check that
#   - curl to https://shop.example.com on the https NodePort verifies the
#     Secret's certificate and reaches Service shop (spec.tls -> certificate,
#     publish Service port "https" -> https frontend);
#   - plain HTTP to the TLS host gets 308 to https:// (ssl-redirect default);
#   - an SNI miss gets the default certificate (no defaultTLSSecret in the
#     examples: the proxy's self-signed "xgress-default"), not shop's;
#   - the ssl-passthrough host reaches the pod's own TLS server (the lab's echo
#     in that pod is replaced by openssl s_server) with the pod's certificate;
#   - regenerating the Secret file in place (the agent watches the directory)
#     gives new handshakes the new certificate within 2 s, while a keep-alive
#     connection opened before keeps working.
# Needs root; exits 77 (CTest: skipped) without it. Env: XGRESS_BUILD_DIR.
set -uo pipefail
# shellcheck source=test/integration/lab_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lab_test_lib.sh" tls_agent_lab_test xgtlsa

work=$(mktemp -d)
manifests=$work/manifests
secret=$manifests/20-shop-tls.yaml
sserver_pid=
ka_pid=
lab_up=0
on_exit() {
  local pid
  for pid in $ka_pid $sserver_pid; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if [ "$lab_up" -eq 1 ]; then
    [ "$failures" -eq 0 ] || lab_tail_logs 40 2>&1
    "$lab_dir/down.sh"
  fi
  rm -rf "$work"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

mkdir -p "$manifests"
cp "$repo/examples/tls/"*.yaml "$manifests/"
"$repo/examples/tls/gen-secret.sh" "$secret" || { fail "gen-secret.sh failed"; exit 1; }
# cert_of SECRET_FILE OUT: the PEM certificate (tls.crt) of a Secret file.
cert_of() { awk '$1 == "tls.crt:" {print $2}' "$1" | base64 -d >"$2"; }
cert_of "$secret" "$work/shop.crt"

echo "--- lab $LAB up on a copy of examples/tls ---"
lab_up=1
if ! node=$("$lab_dir/up.sh" "$manifests"); then fail "up.sh failed"; exit 1; fi
https_port=30443

client() { ip netns exec "$LAB_NS_CLIENT" "$@"; }
# fingerprint SNI: SHA-256 fingerprint of the certificate served for SNI.
fingerprint() {
  client openssl s_client -connect "$node:$https_port" -servername "$1" </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
subject_cn() {
  client openssl s_client -connect "$node:$https_port" -servername "$1" </dev/null 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null | sed 's/.*CN *= *//'
}

echo "--- HTTPS NodePort $https_port: certificate from the Secret, routed to Service shop ---"
client curl -s --max-time 5 --resolve "shop.example.com:$https_port:$node" --cacert "$work/shop.crt" \
  "https://shop.example.com:$https_port/cart" -o "$work/body" -w '%{http_code}' >"$work/status" 2>"$work/curl.err"
got="$(cat "$work/status") $(jq -r '[.service, .pod, .headers["x-forwarded-proto"]] | join(" ")' "$work/body" 2>/dev/null)"
expect "curl --cacert <Secret's cert> https://shop.example.com:$https_port/cart" "$got" "200 shop shop-10.244.1.10 https"
[ -s "$work/curl.err" ] && echo "   curl: $(cat "$work/curl.err")"

echo "--- plain HTTP to the TLS host: ssl-redirect ---"
got=$(client curl -s --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: shop.example.com' \
  "http://$node:$LAB_NODE_PORT/cart?x=1")
expect "http://shop.example.com:$LAB_NODE_PORT/cart?x=1 redirected" "$got" "308 https://shop.example.com/cart?x=1"

echo "--- SNI miss: the default certificate ---"
expect "SNI shop.example.com gets shop's certificate" "$(subject_cn shop.example.com)" shop.example.com
expect "SNI other.example gets the default certificate" "$(subject_cn other.example)" xgress-default

echo "--- ssl-passthrough: vault.example.com relayed to the pod's own TLS server ---"
# The lab gave the vault pod (10.244.1.20) an echo on 8443; a passthrough
# backend terminates TLS itself, so swap in openssl s_server with its own
# certificate, which the proxy never sees.
vault_index=$(awk -F'\t' '!seen[$1]++ {n++; if ($1 == "10.244.1.20") print n}' "$LAB_ENDPOINTS")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=vault.example.com \
  -addext subjectAltName=DNS:vault.example.com -keyout "$work/vault.key" -out "$work/vault.crt" 2>/dev/null
lab_stop "$LAB_STATE_DIR/echo-$vault_index.pid"
ip netns exec "$LAB_NS_POD_PREFIX$vault_index" openssl s_server -accept 8443 -www \
  -cert "$work/vault.crt" -key "$work/vault.key" </dev/null >"$work/s_server.log" 2>&1 &
sserver_pid=$!
for _ in $(seq 50); do
  ip netns exec "$LAB_NS_NODE" bash -c 'exec 3<>/dev/tcp/10.244.1.20/8443' 2>/dev/null && break
  sleep 0.1
done
client curl -s --max-time 5 --resolve "vault.example.com:$https_port:$node" --cacert "$work/vault.crt" \
  "https://vault.example.com:$https_port/" -o "$work/vault.body" 2>"$work/vault.err"
if grep -q s_server "$work/vault.body"; then pass "vault.example.com reaches the pod's s_server, verified with its certificate"
else fail "passthrough: got '$(head -c 200 "$work/vault.body")' $(cat "$work/vault.err")"; fi
expect "passthrough serves the pod's certificate" "$(subject_cn vault.example.com)" vault.example.com

echo "--- rotation: regenerate the Secret file in place ---"
old_fp=$(fingerprint shop.example.com)
client python3 "$repo/test/integration/tls_keepalive_client.py" "$node" "$https_port" shop.example.com \
  "$work/shop.crt" "$work/rotated" "$work/shop2.crt" >"$work/keepalive.out" 2>&1 &
ka_pid=$!
for _ in $(seq 50); do grep -q '^first' "$work/keepalive.out" && break; sleep 0.1; done
"$repo/examples/tls/gen-secret.sh" "$secret"
start=$(date +%s%N)
cert_of "$secret" "$work/shop2.crt"
new_fp=$(openssl x509 -in "$work/shop2.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
seen=
while :; do
  seen=$(fingerprint shop.example.com)
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$seen" != "$new_fp" ] && [ "$elapsed" -lt 5000 ] || break
  sleep 0.05
done
[ "$old_fp" != "$new_fp" ] || fail "gen-secret.sh made the same certificate twice"
if [ "$seen" == "$new_fp" ] && [ "$elapsed" -le 2000 ]; then pass "new handshakes get the new certificate after ${elapsed} ms"
else fail "new certificate not served within 2 s (after ${elapsed} ms: '$seen', want '$new_fp')"; fi
touch "$work/rotated"
wait "$ka_pid"; ka_pid=
first=$(awk '/^first/ {print $2}' "$work/keepalive.out")
second=$(awk '/^second/ {print $2, $3}' "$work/keepalive.out")
fresh=$(awk '/^fresh/ {print $2}' "$work/keepalive.out")
expect "keep-alive connection: request before rotation" "$first" 200
expect "keep-alive connection: request after rotation on the same connection" "$second" "200 same-connection"
expect "fresh connection verifies against the regenerated certificate" "$fresh" 200
grep -q '^second\|^fresh' "$work/keepalive.out" || echo "   keepalive client: $(cat "$work/keepalive.out")"

echo "--- down ---"
kill "$sserver_pid" 2>/dev/null; wait "$sserver_pid" 2>/dev/null; sserver_pid=
[ "$failures" -eq 0 ] || lab_tail_logs 40 2>&1
if "$lab_dir/down.sh"; then pass "down.sh succeeds"; else fail "down.sh reported problems"; fi
lab_up=0
expect "no namespace left" "$(ip netns list | awk '{print $1}' | grep -c "^$LAB-")" 0

echo "$failures failure(s)"
[ "$failures" -eq 0 ]

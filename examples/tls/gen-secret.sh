#!/bin/sh
# Writes a kubernetes.io/tls Secret demo/shop-tls with a fresh self-signed
# certificate for shop.example.com to the file named by $1. Test data only.
set -eu
out=${1:?usage: gen-secret.sh OUTPUT.yaml}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=shop.example.com -addext subjectAltName=DNS:shop.example.com \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
{
  echo "apiVersion: v1"
  echo "kind: Secret"
  echo "type: kubernetes.io/tls"
  echo "metadata: {name: shop-tls, namespace: demo}"
  echo "data:"
  echo "  tls.crt: $(base64 -w0 "$dir/cert.pem")"
  echo "  tls.key: $(base64 -w0 "$dir/key.pem")"
} > "$out"

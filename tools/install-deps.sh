#!/usr/bin/env bash
# Installs every Debian package that building, the lab, the demo, the tests and
# the benchmarks need. Idempotent: packages already present are skipped, and
# `apt-get update` runs at most once per invocation (only when something is missing).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  clang llvm libclang-rt-14-dev
  clang-16 libclang-rt-16-dev   # fuzzers: clang 14 cannot compile libstdc++ 12 std::expected
  # kernel side
  libbpf-dev libxdp-dev xdp-tools bpftool linux-libc-dev
  # libraries
  liburing-dev libssl-dev openssl libyaml-cpp-dev libsimdjson-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libpcre2-dev                  # proxy: regex routes (use-regex), JIT-compiled
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # lab, demo and tests
  iproute2 procps curl ca-certificates util-linux kmod jq
  # benchmarks (side by side contenders and load generators)
  wrk nghttp2-client nginx-light haproxy valgrind
  nftables iptables ethtool     # XDP drop vs netfilter, sk_lookup vs DNAT (test/bench)
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

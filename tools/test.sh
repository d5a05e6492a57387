#!/usr/bin/env bash
# Installs dependencies, configures and builds everything (Ninja; build dir `build`,
# or $XGRESS_BUILD_DIR), then runs the whole test suite. Extra arguments go to
# ctest, e.g.   tools/test.sh -L unit      tools/test.sh -R lab_examples -V
# The integration tests need root (network namespaces, BPF); without it CTest
# reports them as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${XGRESS_BUILD_DIR:-build}
./tools/install-deps.sh
# Fuzzers (clang-16) build too, so ctest runs each one for a bounded 20 s.
cmake -G Ninja -S . -B "$build_dir" -DXGRESS_BUILD_FUZZERS=ON
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure "$@"

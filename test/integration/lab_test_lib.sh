# Sourced by the lab integration tests, first thing after `set -uo pipefail`:
#   source "$(dirname "${BASH_SOURCE[0]}")/lab_test_lib.sh" TEST_NAME LAB_PREFIX
# Sets repo and lab_dir, names the lab LAB_PREFIX-<pid> unless XGRESS_LAB is
# set, loads tools/lab/lib.sh (lab_init), skips without root (exit 77, which
# CTest reports as skipped) and defines the reporting every test uses:
# pass / fail (counted in $failures) / expect NAME GOT WANT.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab_dir=$repo/tools/lab
export XGRESS_LAB=${XGRESS_LAB:-$2-$$}
# shellcheck source=tools/lab/lib.sh
source "$lab_dir/lib.sh"
lab_init

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: $1 needs root"; exit 77; fi

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }

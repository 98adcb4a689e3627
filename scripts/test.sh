#!/usr/bin/env bash
# The project's one test command (README and CI): set-up, formatting, lints, then every
# test (unit, integration against the real Terraform CLI and emulator, doc tests).
#
# Usage: scripts/test.sh [ARGS...]   ARGS go to `cargo test` (e.g. `--test e2e`, or `--test e2e -- comwit::`)
#   SKIP_LINT=1 scripts/test.sh ...  skips rustfmt and clippy
#
# Benches are type-checked by clippy but not run: `cargo test --all-targets` would run the
# plugin_server benchmark in full (it has its own main); use scripts/bench.sh for that.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { echo "==> $*"; }
started=$SECONDS

step "scripts/setup.sh"
bash scripts/setup.sh
export TERRAFORM_BIN="$PWD/.tools/bin/terraform"

if [ "${SKIP_LINT:-0}" != 1 ]; then
  step "cargo fmt --all -- --check"
  cargo fmt --all -- --check
  step "cargo clippy --all-targets -- -D warnings"
  cargo clippy --all-targets -- -D warnings
fi

# The unit and emulator tests again, with the clock 400 days ahead (libfaketime): no test
# may depend on today's date. The test binaries and the emulator they start see the moved
# clock; outside tools (dig, psql, node) are run on the real one (tests/support).
year_ahead() {
  step "year ahead: faketime -f '+400d' on the unit and emulator test binaries"
  local now ahead bins
  now=$(date +%s)
  ahead=$(faketime -f '+400d' date +%s)
  if [ $((ahead - now)) -lt $((399 * 86400)) ]; then
    echo "faketime did not move the clock (now $now, ahead $ahead)" >&2
    return 1
  fi
  mapfile -t bins < <(cargo test --lib --test emulator --no-run 2>&1 |
    sed -n 's/^ *Executable .*(\(.*\))$/\1/p')
  # The unit tests of the three crates (providers, contract, emulator) and tests/emulator.
  if [ ${#bins[@]} -ne 4 ]; then
    echo "expected the three crates' unit-test binaries and the emulator test binary, got: ${bins[*]}" >&2
    return 1
  fi
  local bin
  for bin in "${bins[@]}"; do
    echo "    $bin"
    faketime -f '+400d' "$bin" 2>&1 | tee -a "$log" || return $?
  done
}

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
if [ $# -gt 0 ]; then
  step "cargo test $*"
  cargo test "$@" 2>&1 | tee "$log" || status=$?
else
  # `--tests` selects every target with `test = true`: the lib, the three test binaries
  # (tests/e2e, tests/emulator, tests/protocol); the bins set `test = false` (no unit tests,
  # nothing to link). The bins are still built, for the integration tests.
  step "cargo test --lib --tests --examples --no-fail-fast"
  cargo test --lib --tests --examples --no-fail-fast 2>&1 | tee "$log" || status=$?
  if [ "$status" -eq 0 ]; then
    step "cargo test --doc"
    cargo test --doc 2>&1 | tee -a "$log" || status=$?
  fi
  if [ "$status" -eq 0 ]; then
    year_ahead || status=$?
  fi
fi

# One closing line over every test binary: "N passed, N failed, N skipped".
read -r passed failed ignored < <(
  sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$log" |
    awk '{p += $1; f += $2; i += $3} END {print p + 0, f + 0, i + 0}'
)
echo
echo "finished in $((SECONDS - started)) s"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "FAILED: cargo test exited with status $status" >&2
fi
echo "tests: $passed passed, $failed failed, $ignored skipped"
exit "$status"

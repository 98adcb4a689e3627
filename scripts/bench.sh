#!/usr/bin/env bash
# Benchmarks (not tests): builds in release mode and prints figures next to references.
#   scripts/bench.sh            plugin server: start-up and plan/apply over N resources
#   BENCH_N=1000 scripts/bench.sh
# The reference for start-up is the tf-provider crate's own null example, built from the
# crate's published source in cargo's cache (never copied into this repository).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TERRAFORM_BIN="$PWD/.tools/bin/terraform"

cargo fetch --quiet
ref_src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tf-provider-0.2.2 2>/dev/null | head -n 1 || true)
if [ -n "$ref_src" ]; then
  ref_dir=target/bench-ref/tf-provider
  if [ ! -x "$ref_dir/target/release/examples/terraform-provider-null" ]; then
    echo "building the tf-provider null example (reference, once)..."
    rm -rf "$ref_dir" && mkdir -p "$(dirname "$ref_dir")" && cp -r "$ref_src" "$ref_dir"
    (cd "$ref_dir" && cargo build --quiet --release --example terraform-provider-null)
  fi
  export BENCH_REFERENCE_PROVIDER="$PWD/$ref_dir/target/release/examples/terraform-provider-null"
fi
cargo bench --bench plugin_server

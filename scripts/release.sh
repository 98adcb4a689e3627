#!/usr/bin/env bash
# Builds what a provider registry expects for every provider binary of the crate, and a
# local provider mirror that `terraform init` installs from.
#
# For each `terraform-provider-<name>` bin of Cargo.toml (the test-only `testing` aside),
# with VERSION from Cargo.toml and OS_ARCH of this machine (e.g. linux_amd64):
#   OUT/<name>/terraform-provider-<name>_VERSION_OS_ARCH.zip     the binary, named
#                                                               terraform-provider-<name>_vVERSION
#   OUT/<name>/terraform-provider-<name>_VERSION_manifest.json   protocol version 6.0
#   OUT/<name>/terraform-provider-<name>_VERSION_SHA256SUMS      of the zip and the manifest
#   OUT/mirror/HOST/<name>/<name>/terraform-provider-<name>_VERSION_OS_ARCH.zip
#       the packed layout of a filesystem mirror; HOST is the provider source host
#       Terraform itself gives `<name>/<name>` (asked with `terraform providers`).
# Zips are deterministic (fixed timestamps and modes): the same binary gives the same hash.
# Archives are not signed: a filesystem mirror needs no signature; a registry upload would
# add a detached GPG signature of the SHA256SUMS file.
#
# Usage: scripts/release.sh [--out DIR] [--profile release|dev] [--no-build]
#   --out DIR       where to write (default target/dist)
#   --profile P     cargo profile to build and package (default release)
#   --no-build      package the binaries already built for the profile
#   --bin-dir DIR   package the binaries in DIR (implies --no-build; the tests use it)
#   RELEASE_ZIP_LEVEL=1   faster, larger zips (default 9; the tests use 1)
# Then, with a CLI config of
#   provider_installation {
#     filesystem_mirror { path = "OUT/mirror" }
#   }
# `terraform init` installs comwit/comwit (and the others) with version constraints
# honoured and writes their hashes into .terraform.lock.hcl; a changed zip fails `init`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
# shellcheck source=scripts/common.sh
source scripts/common.sh

out="target/dist"
profile="release"
build=1
bin_dir_arg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --bin-dir) bin_dir_arg="$2"; build=0; shift 2 ;;
    -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { echo "release: $*"; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || { say "no version in Cargo.toml" >&2; exit 1; }
names=()
while read -r bin; do
  name="${bin#terraform-provider-}"
  [ "$name" = testing ] || names+=("$name")
done < <(awk '/^\[/ { bin = ($0 == "[[bin]]") } bin && /^name = "terraform-provider-/ { gsub(/^name = "|"$/, ""); print }' Cargo.toml)
[ ${#names[@]} -gt 0 ] || { say "no provider binaries in Cargo.toml" >&2; exit 1; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) say "unsupported OS $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

case "$profile" in
  release) bin_dir="$(target_dir)/release" ;;
  dev | debug) profile=dev; bin_dir="$(target_dir)/debug" ;;
  *) bin_dir="$(target_dir)/$profile" ;;
esac
[ -z "$bin_dir_arg" ] || bin_dir="$(cd "$bin_dir_arg" && pwd)"
if [ "$build" -eq 1 ]; then
  args=()
  for name in "${names[@]}"; do args+=(--bin "terraform-provider-$name"); done
  say "cargo build --profile $profile ${args[*]}"
  cargo build --quiet --profile "$profile" "${args[@]}"
fi

# The source host Terraform gives a `<namespace>/<type>` address, from Terraform itself.
terraform="${TERRAFORM_BIN:-$root/.tools/bin/terraform}"
[ -x "$terraform" ] || { say "Terraform not found at $terraform: run scripts/setup.sh" >&2; exit 1; }
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf 'terraform {\n  required_providers {\n    probe = { source = "probe/probe" }\n  }\n}\n' >"$probe/main.tf"
host="$(cd "$probe" && TF_CLI_CONFIG_FILE=/dev/null "$terraform" providers -no-color 2>/dev/null |
  sed -n 's|.*provider\[\([^]/]*\)/probe/probe\].*|\1|p' | head -n 1)"
[ -n "$host" ] || { say "could not read the default provider host from '$terraform providers'" >&2; exit 1; }

mkdir -p "$out"
out="$(cd "$out" && pwd)"
for name in "${names[@]}"; do
  bin="$bin_dir/terraform-provider-$name"
  [ -x "$bin" ] || { say "$bin is missing (build it, or drop --no-build)" >&2; exit 1; }
  dir="$out/$name"
  mirror="$out/mirror/$host/$name/$name"
  rm -rf "$dir" "$mirror"
  mkdir -p "$dir" "$mirror"
  base="terraform-provider-${name}_${version}"
  zip="${base}_${os}_${arch}.zip"
  python3 - "$bin" "$dir/$zip" "terraform-provider-${name}_v${version}" "${RELEASE_ZIP_LEVEL:-9}" <<'PY'
import sys, zipfile
src, dst, inner, level = sys.argv[1:]
info = zipfile.ZipInfo(inner, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16  # a regular file, rwxr-xr-x
info.create_system = 3  # Unix, so the mode is kept
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=int(level))
PY
  printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' >"$dir/${base}_manifest.json"
  (cd "$dir" && sha256sum "$zip" "${base}_manifest.json" >"${base}_SHA256SUMS")
  cp "$dir/$zip" "$mirror/$zip"
  say "$name $version ($os/$arch): $dir/$zip"
done
say "mirror: $out/mirror (provider_installation { filesystem_mirror { path = \"$out/mirror\" } })"

#!/usr/bin/env bash
# Runs the local platform emulator in the foreground (Ctrl-C stops it): Comwit, WaysCloud
# and CloudSync, each on its own port, and prints for each the `export` lines that point
# its provider (built from this repository) at it.
#
# Usage: scripts/emulator.sh [--serve PLATFORM]... [--port PORT] [--state-dir DIR]
#   --serve PLATFORM  serve only the named platforms (repeatable, or comma separated:
#                     comwit, wayscloud, cloudsync; default all three)
#   --port PORT       Comwit's port on 127.0.0.1 (default 8787; WaysCloud 8788, CloudSync
#                     8789; a free one when busy)
#   --state-dir DIR   state directory (default .emulator/; it survives restarts)
# Logs go to this terminal; COMWIT_EMULATOR_LOG=debug shows more. WaysCloud initialises
# its PostgreSQL and MariaDB servers in the state directory on its first start.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
# shellcheck source=scripts/common.sh
source scripts/common.sh

port="$DEFAULT_EMULATOR_PORT"
state="$root/.emulator"
platforms=""
while [ $# -gt 0 ]; do
  case "$1" in
    --serve) platforms="$platforms ${2:?--serve needs a platform}"; shift 2 ;;
    --serve=*) platforms="$platforms ${1#--serve=}"; shift ;;
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --state-dir) state="${2:?--state-dir needs a value}"; shift 2 ;;
    --state-dir=*) state="${1#--state-dir=}"; shift ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "emulator: unknown argument $1 (see --help)" >&2
      exit 2
      ;;
  esac
done
platforms="$(echo "${platforms:-$ALL_PLATFORMS}" | tr ',' ' ' | xargs)"
for p in $platforms; do
  case " $ALL_PLATFORMS " in
    *" $p "*) ;;
    *)
      echo "emulator: unknown platform $p (known: $ALL_PLATFORMS)" >&2
      exit 2
      ;;
  esac
done
mkdir -p "$state"
state="$(cd "$state" && pwd)"

if emulator_running "$state"; then
  echo "an emulator already runs on $state (pid $EMULATOR_PID) at $EMULATOR_URL; stop it first" >&2
  exit 1
fi

bins=(--bin platform-emulator)
for p in $platforms; do bins+=(--bin "terraform-provider-$p"); done
echo "emulator: cargo build --release ${bins[*]}"
cargo build --release "${bins[@]}"
release="$(target_dir)/release"

case " $platforms " in
  *" wayscloud "*) echo "emulator: starting $platforms (WaysCloud's first start initialises PostgreSQL and MariaDB)" ;;
  *) echo "emulator: starting $platforms" ;;
esac
emulator_start "$release/platform-emulator" "$state" "$port" - "$platforms"
pid="$EMULATOR_PID"
# shellcheck disable=SC2317 # invoked by the trap
stop() {
  trap - INT TERM
  emulator_stop "$pid" "$state"
  exit 0
}
# Without job control a background process ignores Ctrl-C: pass it on.
trap stop INT TERM

cli_config="$(target_dir)/terraform-dev.tfrc"
write_cli_config "$cli_config" "$release"
echo
echo "platform-emulator (pid $pid, state in $state):"
for p in $platforms; do
  printf '  %-10s %s\n' "$p" "${PLATFORM_URL[$p]}"
done
cat <<EOF

Point the providers at it (in another shell):

  export TF_CLI_CONFIG_FILE="$cli_config"   # serves the providers from $release
  export CHECKPOINT_DISABLE=1
EOF
for p in $platforms; do
  echo "  # $p"
  platform_exports "$p" "$state" | sed 's/^/  /'
done
case " $platforms " in
  *" comwit "*)
    cat <<EOF
  $root/.tools/bin/terraform -chdir=examples/quickstart apply   # after scripts/setup.sh

Apps are served by the app gateway at $EMULATOR_APPS_URL (by Host); every project
domain's zone by the DNS server at $EMULATOR_DNS (UDP and TCP), e.g.
  dig @${EMULATOR_DNS%:*} -p ${EMULATOR_DNS##*:} www.quickstart.test CNAME
EOF
    ;;
esac
cat <<EOF

Each platform answers GET /_emulator/health (no secret; 200 once its engines are ready).
Admin routes (/_emulator/...) take the header X-Emulator-Admin with the platform's secret:
comwit $state/admin-secret, wayscloud $state/wayscloud/admin-secret,
cloudsync $state/cloudsync/admin-secret.
Export, import or reset the state with the emulator stopped:
  $release/platform-emulator state export --to state.tar --state-dir $state
Press Ctrl-C to stop.

EOF

status=0
wait "$pid" || status=$?
rm -f "$state/emulator.pid" "$state/emulator.url" "$state/emulator.dns"
exit "$status"

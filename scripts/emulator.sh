#!/usr/bin/env bash
# Runs the local Comwit emulator in the foreground (Ctrl-C stops it) and prints how to point
# the provider (built from this repository) at it.
#
# Usage: scripts/emulator.sh [--port PORT] [--state-dir DIR]
#   --port PORT      port on 127.0.0.1 (default 8787; a free one when busy)
#   --state-dir DIR  state directory (default .emulator/; it survives restarts)
# Logs go to this terminal; COMWIT_EMULATOR_LOG=debug shows more.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
# shellcheck source=scripts/common.sh
source scripts/common.sh

port="$DEFAULT_EMULATOR_PORT"
state="$root/.emulator"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --state-dir) state="${2:?--state-dir needs a value}"; shift 2 ;;
    --state-dir=*) state="${1#--state-dir=}"; shift ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "emulator: unknown argument $1 (see --help)" >&2
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

echo "emulator: cargo build --release --bin platform-emulator --bin terraform-provider-comwit"
cargo build --release --bin platform-emulator --bin terraform-provider-comwit
release="$(target_dir)/release"

emulator_start "$release/platform-emulator" "$state" "$port" -
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
cat <<EOF

platform-emulator listening on $EMULATOR_URL (state in $state)

Point the provider at it (in another shell):

  export TF_CLI_CONFIG_FILE="$cli_config"   # serves comwit/comwit from $release
  export CHECKPOINT_DISABLE=1
  export COMWIT_API_URL="$EMULATOR_URL"
  export COMWIT_TOKEN="\$(cat $state/bootstrap-token)"
  export COMWIT_PROJECT_ID=prj_local
  $root/.tools/bin/terraform -chdir=examples/quickstart apply   # after scripts/setup.sh

Apps are served by the app gateway at $EMULATOR_APPS_URL (by Host); every project
domain's zone by the DNS server at $EMULATOR_DNS (UDP and TCP), e.g.
  dig @${EMULATOR_DNS%:*} -p ${EMULATOR_DNS##*:} www.quickstart.test CNAME

Admin routes (/_emulator/...) take the header X-Emulator-Admin: \$(cat $state/admin-secret)
Press Ctrl-C to stop.

EOF

status=0
wait "$pid" || status=$?
rm -f "$state/emulator.pid" "$state/emulator.url" "$state/emulator.dns"
exit "$status"

#!/usr/bin/env bash
# The quickstart end to end on this machine, as a user of a published provider runs it:
# builds the providers and the emulator (release), lays the providers out as release
# archives in a local provider mirror (scripts/release.sh, target/dist/mirror), starts the
# emulator (state in .emulator/, port 8787 or a free one), and runs `terraform init`
# (installing comwit/comwit from the mirror, writing .terraform.lock.hcl), `terraform
# apply` and `terraform output` in examples/quickstart, then fetches the app's page.
#
# Usage: scripts/demo.sh [--keep-running]
#   --keep-running   leave the emulator running afterwards (and print how to use it)
# An emulator left running by an earlier --keep-running demo on .emulator/ is reused.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
# shellcheck source=scripts/common.sh
source scripts/common.sh

keep_running=0
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep_running=1 ;;
    -h | --help)
      sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo: unknown argument $arg (see --help)" >&2
      exit 2
      ;;
  esac
done

say() { echo "demo: $*"; }

bash scripts/setup.sh
terraform="$root/.tools/bin/terraform"

say "cargo build --release --bins"
cargo build --release --bins
say "scripts/release.sh --no-build (release archives and a provider mirror in target/dist)"
bash scripts/release.sh --no-build

release="$(target_dir)/release"
state="$root/.emulator"
mkdir -p "$state"
log="$state/emulator.log"

started=0
if emulator_running "$state"; then
  say "reusing the emulator already running on .emulator/ (pid $EMULATOR_PID) at $EMULATOR_URL"
else
  say "starting platform-emulator (state in .emulator/, log in .emulator/emulator.log)"
  emulator_start "$release/platform-emulator" "$state" "$DEFAULT_EMULATOR_PORT" "$log"
  started=1
  say "emulator listening on $EMULATOR_URL (pid $EMULATOR_PID)"
fi

cleanup() {
  local status=$?
  if [ "$started" -eq 1 ] && [ "$keep_running" -eq 0 ]; then
    say "stopping the emulator (pid $EMULATOR_PID)"
    emulator_stop "$EMULATOR_PID" "$state"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cli_config="$(target_dir)/terraform-mirror.tfrc"
write_mirror_cli_config "$cli_config" "$(target_dir)/dist/mirror"

export TF_CLI_CONFIG_FILE="$cli_config"
export CHECKPOINT_DISABLE=1
export COMWIT_API_URL="$EMULATOR_URL"
COMWIT_TOKEN="$(cat "$state/bootstrap-token")"
export COMWIT_TOKEN
export COMWIT_PROJECT_ID=prj_local

example=examples/quickstart
if [ -d "$example" ]; then
  # -upgrade: a provider rebuilt since the last demo has new hashes; a user's lock file
  # would refuse them, which is the point of it.
  say "terraform -chdir=$example init -upgrade"
  "$terraform" -chdir="$example" init -upgrade -input=false
  say "terraform -chdir=$example apply -auto-approve"
  "$terraform" -chdir="$example" apply -auto-approve -input=false
  say "terraform -chdir=$example output"
  "$terraform" -chdir="$example" output
  # The app's page, through the emulator's app gateway (its default_url names a
  # *.localhost host; the gateway routes by Host, so no name resolution is needed).
  app_url="$("$terraform" -chdir="$example" output -raw app_url)"
  app_host="$(echo "$app_url" | sed -E 's#^https?://([^:/]+).*#\1#')"
  say "curl $app_url"
  curl -fsS --max-time 10 -H "Host: $app_host" "$EMULATOR_APPS_URL/"
  # The app's own hostname: its records in the quickstart domain's zone, as an outside
  # resolver sees them, then the page by that name.
  site_host="$("$terraform" -chdir="$example" output -raw site_hostname)"
  if [ -n "${EMULATOR_DNS:-}" ] && command -v dig >/dev/null 2>&1; then
    say "dig @${EMULATOR_DNS%:*} -p ${EMULATOR_DNS##*:} $site_host CNAME"
    dig +noall +answer @"${EMULATOR_DNS%:*}" -p "${EMULATOR_DNS##*:}" "$site_host" CNAME
  fi
  say "curl http://$site_host/ (through the app gateway)"
  curl -fsS --max-time 10 -H "Host: $site_host" "$EMULATOR_APPS_URL/"
else
  say "$example does not exist yet: nothing to apply"
fi

if [ "$keep_running" -eq 1 ]; then
  cat <<EOF

The emulator keeps running (pid $EMULATOR_PID) at $EMULATOR_URL. To use it:

  export TF_CLI_CONFIG_FILE="$cli_config"
  export COMWIT_API_URL="$EMULATOR_URL"
  export COMWIT_TOKEN="\$(cat $state/bootstrap-token)"
  export COMWIT_PROJECT_ID=prj_local
  $terraform -chdir=$example plan

Admin routes take the header X-Emulator-Admin: \$(cat $state/admin-secret)
Stop it with: kill $EMULATOR_PID
EOF
fi

#!/usr/bin/env bash
# The three quickstarts end to end on this machine, as a user of the published providers
# runs them: builds the providers and the emulator (release), lays the providers out as
# release archives in a local provider mirror (scripts/release.sh, target/dist/mirror),
# starts the emulator with Comwit, WaysCloud and CloudSync (state in .emulator/; ports
# 8787, 8788, 8789 or free ones), runs `terraform init` and `apply` in each quickstart, and
# shows each one working from outside:
#   Comwit     examples/quickstart: the app's page (curl), `dig` of its hostname's record
#   WaysCloud  examples/wayscloud/quickstart: `psql` with its outputs; and a MariaDB
#              database (a two-resource root in target/demo/) checked with `mysql`
#   CloudSync  examples/cloudsync/quickstart on an emulated SQLite Cloud node: the
#              platform's connection check of the registered database
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
      sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
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
if emulator_running "$state" && [ -n "${PLATFORM_URL[wayscloud]:-}" ] && [ -n "${PLATFORM_URL[cloudsync]:-}" ]; then
  say "reusing the emulator already running on .emulator/ (pid $EMULATOR_PID)"
else
  if emulator_running "$state"; then
    say "an emulator runs on .emulator/ (pid $EMULATOR_PID) without all three platforms; stop it first" >&2
    exit 1
  fi
  say "starting platform-emulator: $ALL_PLATFORMS (state in .emulator/, log in .emulator/emulator.log)"
  started_at=$(date +%s)
  emulator_start "$release/platform-emulator" "$state" "$DEFAULT_EMULATOR_PORT" "$log" "$ALL_PLATFORMS"
  started=1
  say "emulator (pid $EMULATOR_PID) listening after $(($(date +%s) - started_at)) s"
fi
for p in $ALL_PLATFORMS; do
  say "  $p at ${PLATFORM_URL[$p]} (GET /_emulator/health: $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${PLATFORM_URL[$p]}/_emulator/health"))"
done

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
for p in $ALL_PLATFORMS; do export_platform_env "$p" "$state"; done

# apply DIR [terraform apply arguments...]: init (-upgrade: a provider rebuilt since the
# last demo has new hashes; a user's lock file would refuse them, which is the point of
# it) and apply.
apply() {
  local dir="$1"
  shift
  say "terraform -chdir=$dir init -upgrade"
  "$terraform" -chdir="$dir" init -upgrade -input=false >/dev/null
  say "terraform -chdir=$dir apply -auto-approve"
  "$terraform" -chdir="$dir" apply -auto-approve -input=false "$@"
}

say "--- Comwit"
example=examples/quickstart
apply "$example"
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

say "--- WaysCloud"
example=examples/wayscloud/quickstart
apply "$example"
"$terraform" -chdir="$example" output
say "psql \"\$(terraform -chdir=$example output -raw connection_string)\""
psql -X -A -t "$("$terraform" -chdir="$example" output -raw connection_string)" \
  -c "CREATE TABLE IF NOT EXISTS visits (at timestamptz DEFAULT now())" \
  -c "INSERT INTO visits DEFAULT VALUES" \
  -c "SELECT 'postgresql ' || current_database() || ': ' || count(*) || ' visits' FROM visits"
# A MariaDB database too: the quickstart is PostgreSQL's, so a two-resource root here.
mariadb_root="$(target_dir)/demo/wayscloud-mariadb"
mkdir -p "$mariadb_root"
cat >"$mariadb_root/main.tf" <<'EOF'
terraform {
  required_providers {
    wayscloud = { source = "wayscloud/wayscloud" }
  }
}

provider "wayscloud" {}

resource "wayscloud_database" "shop" {
  db_type        = "mariadb"
  requested_name = "shop"
}

output "host" { value = wayscloud_database.shop.host }
output "port" { value = wayscloud_database.shop.port }
output "db_name" { value = wayscloud_database.shop.db_name }
output "username" { value = wayscloud_database.shop.username }
output "password" {
  value     = wayscloud_database.shop.password
  sensitive = true
}
EOF
apply "$mariadb_root"
out() { "$terraform" -chdir="$mariadb_root" output -raw "$1"; }
say "mysql -h $(out host) -P $(out port) -u $(out username) $(out db_name)"
MYSQL_PWD="$(out password)" mysql -N -B -h "$(out host)" -P "$(out port)" -u "$(out username)" "$(out db_name)" \
  -e "CREATE TABLE IF NOT EXISTS orders (id INT AUTO_INCREMENT PRIMARY KEY); INSERT INTO orders () VALUES (); SELECT CONCAT('mariadb ', DATABASE(), ': ', COUNT(*), ' orders') FROM orders;"

say "--- CloudSync"
# An emulated SQLite Cloud node with the quickstart's `notes` database (a SQLite file in
# the state directory; docs/api/cloudsync.md, "Emulator").
node=demo.sqlite.cloud
node_key="$(cat "$state/cloudsync/node-key" 2>/dev/null || true)"
if [ -z "$node_key" ]; then
  node_key="node-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  (umask 077 && printf '%s' "$node_key" >"$state/cloudsync/node-key")
fi
curl -fsS --max-time 10 -X PUT -H "X-Emulator-Admin: $(cat "$state/cloudsync/admin-secret")" \
  -H 'content-type: application/json' -d "{\"apikey\": \"$node_key\"}" \
  "${PLATFORM_URL[cloudsync]}/_emulator/cloudsync/sqlitecloud/nodes/$node" >/dev/null
sqlite3 "$state/cloudsync/sqlitecloud/$node/notes.sqlite" \
  "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY NOT NULL, body TEXT)"
example=examples/cloudsync/quickstart
apply "$example" -var "connection_string=sqlitecloud://$node:8860?apikey=$node_key"
database_id="$("$terraform" -chdir="$example" output -raw database_id)"
say "curl ${PLATFORM_URL[cloudsync]}/v1/databases/$database_id/connection"
curl -fsS --max-time 10 -H "Authorization: Bearer $CLOUDSYNC_API_KEY" \
  "${PLATFORM_URL[cloudsync]}/v1/databases/$database_id/connection"
echo

if [ "$keep_running" -eq 1 ]; then
  echo
  echo "The emulator keeps running (pid $EMULATOR_PID). To use it:"
  echo
  echo "  export TF_CLI_CONFIG_FILE=\"$cli_config\""
  for p in $ALL_PLATFORMS; do platform_exports "$p" "$state" | sed 's/^/  /'; done
  cat <<EOF
  $terraform -chdir=examples/quickstart plan

Admin routes take the header X-Emulator-Admin: \$(cat $state/admin-secret) (WaysCloud's and
CloudSync's secrets are in $state/wayscloud/ and $state/cloudsync/)
Stop it with: kill $EMULATOR_PID
EOF
fi

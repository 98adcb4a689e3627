# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared by scripts/demo.sh and scripts/emulator.sh (sourced, not run).
# Expects to be sourced from the repository root with `set -euo pipefail`.

DEFAULT_EMULATOR_PORT=8787
COMWIT_SOURCE="comwit/comwit"
# The platforms the scripts serve by default (each on its own port), and each one's port
# (its provider's emulator_url in src/<platform>/provider.rs).
ALL_PLATFORMS="comwit wayscloud cloudsync"
declare -A PLATFORM_PORT=([comwit]=8787 [wayscloud]=8788 [cloudsync]=8789)
# Comwit's app gateway and DNS server (UDP and TCP).
APPS_PORT=8790
DNS_PORT=8753
declare -A PLATFORM_URL=()

# The cargo target directory, absolute.
target_dir() {
  local dir="${CARGO_TARGET_DIR:-target}"
  mkdir -p "$dir"
  (cd "$dir" && pwd)
}

# port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# read_listening FILE: sets, from the emulator's listening lines in FILE, PLATFORM_URL
# (name -> URL of each served platform's API), EMULATOR_APPS_URL and EMULATOR_DNS (ip:port;
# Comwit's app gateway and DNS server, when Comwit is served).
read_listening() {
  local file="$1" name url
  PLATFORM_URL=()
  while read -r name url; do
    case "$name" in
      comwit-apps) EMULATOR_APPS_URL="$url" ;;
      comwit-dns) EMULATOR_DNS="${url#dns://}" ;;
      *) PLATFORM_URL[$name]="$url" ;;
    esac
  done < <(sed -n 's/^platform-emulator: \([a-z-]*\) listening on \(.*\)$/\1 \2/p' "$file" 2>/dev/null)
}

# emulator_running STATE_DIR: true (and sets EMULATOR_PID, EMULATOR_URL and what
# read_listening sets) when an emulator started by these scripts still runs on STATE_DIR.
emulator_running() {
  local state="$1" pid
  [ -f "$state/emulator.pid" ] && [ -f "$state/emulator.url" ] || return 1
  pid="$(cat "$state/emulator.pid")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q platform-emulator || return 1
  EMULATOR_PID="$pid"
  EMULATOR_URL="$(cat "$state/emulator.url")"
  EMULATOR_DNS="$(cat "$state/emulator.dns" 2>/dev/null || true)"
  read_listening "$state/emulator.stdout"
}

# emulator_start BIN STATE_DIR PORT LOG [PLATFORMS]: starts BIN in the background with its
# state in STATE_DIR, serving PLATFORMS (space separated; default: comwit alone), each on
# its own port of 127.0.0.1 (comwit on PORT, the others on PLATFORM_PORT: wayscloud 8788,
# cloudsync 8789; a free one when busy; 0 for a free one), and waits until every one listens (WaysCloud initialises PostgreSQL and
# MariaDB on its first start). LOG receives its stderr (logs); "-" leaves stderr on this
# terminal. With comwit, its app gateway listens on 127.0.0.1:APPS_PORT (8790) and its DNS
# server on 127.0.0.1:DNS_PORT (8753; UDP and TCP) (each on a free port when that is busy).
# Sets EMULATOR_PID, PLATFORM_URL[name], EMULATOR_URL (comwit's, else the first served),
# EMULATOR_APPS_URL and EMULATOR_DNS (ip:port).
emulator_start() {
  local bin="$1" state="$2" port="$3" log="$4" platforms="${5:-comwit}" p want listen out
  local -a args=()
  mkdir -p "$state"
  for p in $platforms; do
    want="${PLATFORM_PORT[$p]:-}"
    [ -n "$want" ] || {
      echo "unknown platform $p (known: $ALL_PLATFORMS)" >&2
      return 2
    }
    [ "$p" = comwit ] && want="$port"
    listen="127.0.0.1:$want"
    if port_in_use "$want"; then
      echo "port $want is busy: $p uses a free port" >&2
      listen="127.0.0.1:0"
    fi
    args+=(--serve "$p=$listen")
  done
  case " $platforms " in
    *" comwit "*)
      listen="127.0.0.1:$APPS_PORT"
      if port_in_use "$APPS_PORT"; then
        echo "port $APPS_PORT is busy: the app gateway uses a free port" >&2
        listen="127.0.0.1:0"
      fi
      args+=(--apps-listen "$listen")
      listen="127.0.0.1:$DNS_PORT"
      if port_in_use "$DNS_PORT"; then
        echo "port $DNS_PORT is busy: the DNS server uses a free port" >&2
        listen="127.0.0.1:0"
      fi
      args+=(--dns-listen "$listen")
      ;;
  esac
  out="$state/emulator.stdout"
  : >"$out"
  if [ "$log" = "-" ]; then
    "$bin" "${args[@]}" --state-dir "$state" </dev/null >"$out" &
  else
    "$bin" "${args[@]}" --state-dir "$state" </dev/null >"$out" 2>>"$log" &
  fi
  EMULATOR_PID=$!
  local first="${platforms%% *}" waited=0 all
  # The listening lines are printed once every platform listens.
  while :; do
    read_listening "$out"
    all=1
    for p in $platforms; do [ -n "${PLATFORM_URL[$p]:-}" ] || all=0; done
    if [ "$all" -eq 1 ] && { [[ " $platforms " != *" comwit "* ]] || [ -n "${EMULATOR_DNS:-}" ]; }; then
      break
    fi
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "platform-emulator exited before listening" >&2
      [ "$log" != "-" ] && tail -n 20 "$log" >&2
      return 1
    fi
    if [ "$waited" -ge 3000 ]; then
      echo "platform-emulator did not start within 300 s" >&2
      kill "$EMULATOR_PID" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  EMULATOR_URL="${PLATFORM_URL[comwit]:-${PLATFORM_URL[$first]}}"
  echo "${EMULATOR_DNS:-}" >"$state/emulator.dns"
  echo "$EMULATOR_PID" >"$state/emulator.pid"
  echo "$EMULATOR_URL" >"$state/emulator.url"
}

# platform_exports PLATFORM STATE_DIR: the `export` lines a user pastes to point
# PLATFORM's provider at the running emulator (PLATFORM_URL must be set): its api_url and
# credential variables (each provider's ProviderFacts).
platform_exports() {
  local p="$1" state="$2" url="${PLATFORM_URL[$1]:-}"
  case "$p" in
    comwit)
      echo "export COMWIT_API_URL=\"$url\""
      echo "export COMWIT_TOKEN=\"\$(cat $state/bootstrap-token)\""
      echo "export COMWIT_PROJECT_ID=prj_local"
      ;;
    wayscloud)
      echo "export WAYSCLOUD_API_URL=\"$url\""
      echo "export WAYSCLOUD_API_KEY=\"\$(cat $state/wayscloud/bootstrap-api-key)\""
      ;;
    cloudsync)
      echo "export CLOUDSYNC_API_URL=\"$url\""
      echo "export CLOUDSYNC_API_KEY=\"\$(cat $state/cloudsync/api-key)\""
      ;;
  esac
}

# export_platform_env PLATFORM STATE_DIR: exports those variables in this shell.
export_platform_env() {
  local line
  while read -r line; do
    eval "$line"
  done < <(platform_exports "$1" "$2")
}

# emulator_stop PID STATE_DIR: SIGTERM, then SIGKILL after 60 s (WaysCloud's engines stop
# cleanly first).
emulator_stop() {
  local pid="$1" state="$2"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/emulator.pid" "$state/emulator.url" "$state/emulator.dns"
}

# write_mirror_cli_config FILE MIRROR_DIR: a Terraform CLI config that installs every
# provider from the filesystem mirror scripts/release.sh lays out (a real `terraform init`,
# version constraints, a lock file), and nothing from the network.
write_mirror_cli_config() {
  local file="$1" dir="$2"
  mkdir -p "$(dirname "$file")"
  cat >"$file" <<EOF
provider_installation {
  filesystem_mirror {
    path = "$dir"
  }
}
EOF
}

# write_cli_config FILE PROVIDER_DIR: a Terraform CLI config serving comwit/comwit,
# wayscloud/wayscloud and cloudsync/cloudsync from PROVIDER_DIR (which holds their
# terraform-provider-* binaries), so no `terraform init` is needed.
write_cli_config() {
  local file="$1" dir="$2"
  mkdir -p "$(dirname "$file")"
  cat >"$file" <<EOF
provider_installation {
  dev_overrides {
    "$COMWIT_SOURCE" = "$dir"
    "wayscloud/wayscloud" = "$dir"
    "cloudsync/cloudsync" = "$dir"
  }
  direct {}
}
EOF
}

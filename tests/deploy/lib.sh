# shellcheck shell=bash
# Shared helpers of the shell-driven deployment tests (sourced, not run).
# Every test gets: $1 = build dir, $2 = source dir. It makes its own temp dir (removed at exit).
set -euo pipefail

BUILD_DIR=$(cd "$1" && pwd)
SRC_DIR=$(cd "$2" && pwd)
export SRC_DIR
export DFD_BUILD_DIR=$BUILD_DIR
DFD=$BUILD_DIR/bin/dfd
HOST=$BUILD_DIR/bin/dfd-host
T=$(mktemp -d "${TMPDIR:-/tmp}/dfd-deploy-test.XXXXXX")

CLEANUPS=()
on_exit() {
  local rc=$? i
  set +e
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}"; done
  if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "(test files kept in $T)"; fi
  exit $rc
}
trap on_exit EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }

need_build() {
  [ -x "$HOST" ] || fail "$HOST is missing (build the dfd-host target)"
  [ -x "$DFD" ] || fail "$DFD is missing (build the dfd target)"
}

# http_code URL...: the status code curl gets (000: no HTTP answer); trusts $DFD_CA_BUNDLE if set.
http_code() { curl ${DFD_CA_BUNDLE:+--cacert "$DFD_CA_BUNDLE"} -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }

# deployment_files DIR: what the shipped configs read besides state and storage, made under DIR:
# a certificate and key (DIR/pki, scripts/pki), password files for the broker and PostgreSQL
# (DIR/secrets/amqp-password, pg-password; 0600) and the [events] keys of info, fs-a, fs-b, fs-c
# (DIR/keys, scripts/event-keys). Sets CLOSED_PORT: a loopback port nothing listens on (for a
# broker or database URL that --check must not connect to).
deployment_files() {
  local dir=$1 k
  "$SRC_DIR/scripts/pki" "$dir/pki" server >/dev/null
  mkdir -p "$dir/secrets"
  (
    umask 077
    openssl rand -hex 16 >"$dir/secrets/amqp-password"
    openssl rand -hex 16 >"$dir/secrets/pg-password"
  )
  for k in "info info" "fileserver fs-a" "fileserver fs-b" "fileserver fs-c"; do
    # shellcheck disable=SC2086
    "$SRC_DIR/scripts/event-keys" "$dir/keys" $k >/dev/null
  done
  # shellcheck disable=SC2034  # read by the tests that source this file
  CLOSED_PORT=$(free_ports 1)
}

# free_ports N: N free loopback TCP ports, space-separated.
free_ports() {
  python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])' "$1"
}

# wait_healthz URL PID LOG WHAT: waits (30 s at most) until URL/healthz answers 200; fails with
# LOG's tail when the process PID exits first or the deadline passes.
wait_healthz() {
  local url=$1 pid=$2 log=$3 what=$4 _
  for _ in $(seq 1 300); do
    [ "$(http_code "$url/healthz")" = 200 ] && return 0
    kill -0 "$pid" 2>/dev/null || {
      cat "$log" >&2
      fail "$what exited during start"
    }
    sleep 0.1
  done
  tail -n 30 "$log" >&2
  fail "/healthz of $what is not 200"
}

# file_id NAME: the catalog id of NAME from `dfd ls --json` (current DFD_SERVER, XDG_CONFIG_HOME).
file_id() {
  "$DFD" ls --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
files = d["files"] if isinstance(d, dict) else d
print(next(f["id"] for f in files if f["name"] == sys.argv[1]))' "$1"
}

# alive PID...: prints the PIDs among its arguments that still run (zombies count as gone).
alive() {
  local p st
  for p in "$@"; do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || true)
    [ -n "$st" ] && [ "$st" != Z ] && printf '%s ' "$p"
  done
  return 0
}

# wait_listed OUT NAME...: waits (at most 30 s) until `dfd ls` (current DFD_SERVER,
# XDG_CONFIG_HOME) lists every NAME, its output in OUT; fails with that output otherwise.
wait_listed() {
  local out=$1 name missing
  shift
  for _ in $(seq 1 150); do
    missing=0
    if "$DFD" ls >"$out" 2>&1; then
      for name in "$@"; do grep -q "$name" "$out" || missing=1; done
      [ $missing = 0 ] && return 0
    fi
    sleep 0.2
  done
  cat "$out" >&2
  fail "dfd ls does not list $*"
}

# stop_host PID WHAT: SIGTERM, at most 15 s for the exit, which must be status 0.
stop_host() {
  local pid=$1 what=$2 rc=0
  kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  wait "$pid" || rc=$?
  [ $rc = 0 ] || fail "$what exited $rc after SIGTERM, want 0"
}

#!/usr/bin/env bash
# tests/docs/systemctl_shim.py does what docs.deploy_guide relies on (no root, ~3 s): a
# Type=notify unit is "started" only once it sent READY=1, with the unit's Environment= and
# EnvironmentFile= (the file wins) and %i; a service that exits before READY=1, or never sends
# it within TimeoutStartSec=, fails the start; status/is-active follow the process; stop ends
# it; reload runs ExecReload= with $MAINPID.
# Usage: systemctl_shim_selftest.sh SOURCE_DIR
set -euo pipefail
SRC_DIR=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dfd-shim-selftest.XXXXXX")
export DFD_SYSTEMCTL_SHIM_DIR=$T/shim
sc() { python3 "$SRC_DIR/tests/docs/systemctl_shim.py" systemctl "$@"; }
cleanup() {
  local rc=$?
  for u in good@one bad-exit bad-silent; do sc stop "$u" >/dev/null 2>&1 || true; done
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$T/shim/system"
# A service: writes its environment, then READY=1 (unless told not to), then waits for signals.
cat >"$T/svc.py" <<'PY'
import os, signal, socket, sys, time
with open(sys.argv[1], "w") as f:
    f.write(f"{os.environ.get('A')} {os.environ.get('B')} {os.environ.get('NAME')}\n")
if sys.argv[2] == "exit":
    sys.exit(3)
signal.signal(signal.SIGHUP, lambda *_: open(sys.argv[1] + ".hup", "w").close())
if sys.argv[2] == "ready":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"STATUS=serving\nREADY=1", os.environ["NOTIFY_SOCKET"])
while True:
    time.sleep(0.1)
PY
unit() { # NAME MODE
  cat >"$T/shim/system/$1.service" <<U
[Unit]
Description=shim selftest $1
[Service]
Type=notify
TimeoutStartSec=2
Environment=A=from-unit B=from-unit NAME=%i
EnvironmentFile=-$T/%i.env
ExecStart=/usr/bin/python3 $T/svc.py $T/$1.out $2
ExecReload=/bin/kill -HUP \$MAINPID
U
}
unit good@ ready
unit bad-exit exit
unit bad-silent silent
echo B=from-file >"$T/one.env"

sc start good@one || fail "a service that sends READY=1 did not start"
[ "$(cat "$T/good@.out")" = "from-unit from-file one" ] || fail "environment: $(cat "$T/good@.out")"
sc is-active good@one >/dev/null || fail "is-active after start"
sc status good@one | grep -q 'Status: "serving"' || fail "status lacks the STATUS= line"
sc reload good@one
for _ in $(seq 1 50); do [ -e "$T/good@.out.hup" ] && break; sleep 0.1; done
[ -e "$T/good@.out.hup" ] || fail "reload did not send SIGHUP to the main PID"
sc stop good@one
if sc is-active good@one >/dev/null; then fail "is-active after stop"; fi
echo "ok: READY=1, environment (file over unit, %i), status, reload, stop"

if sc start bad-exit 2>"$T/err"; then fail "a service that exits before READY=1 started"; fi
grep -q "exited with 3" "$T/err" || fail "no reason given: $(cat "$T/err")"
if sc start bad-silent 2>"$T/err"; then fail "a service that never sends READY=1 started"; fi
grep -q "no READY=1" "$T/err" || fail "no reason given: $(cat "$T/err")"
if sc is-active bad-silent >/dev/null; then fail "the silent service still runs"; fi
echo "ok: exit before READY=1 and no READY=1 within TimeoutStartSec fail the start"

#!/usr/bin/env bash
# scripts/cluster operated on one cluster (TLS, 1 MiB samples), in a directory that existed
# before `up` (with a file of its own in it):
#   - no arguments: the usage on stderr and nothing else, exit 2; restart without a NAME too;
#   - status with everything up: one "up" line per process, exit 0;
#   - fs-b SIGKILLed: status exit 1, fs-b "down" with its PID, the others "up", not one byte on
#     stderr (no shell noise about the dead process);
#   - restart fs-b (dead) and restart info (running): new PIDs in cluster.env, the same control
#     and data URLs answer (the same ports), status exit 0 again, the demo user logs in to the
#     restarted info server (same data: its user database) and downloads a verified file;
#   - restart of an unknown server: a clear error, exit 1;
#   - no password and no token in anything it printed (up, status, restart, down);
#   - down: none of the PIDs alive; down again: "nothing is running", exit 0; status: exit 1;
#   - down --purge: what `up` wrote is gone, the file that was there before stays; a directory
#     without scripts/cluster's marker is not purged.
source "$(dirname "$0")/lib.sh"
need_build
CLUSTER=$SRC_DIR/scripts/cluster
export DFD_RABBITMQ_START_TIMEOUT=${DFD_RABBITMQ_START_TIMEOUT:-120}
D=$T/c
mkdir -p "$D"
echo "not the cluster's" >"$D/keep.txt"
CLEANUPS+=("'$CLUSTER' down --dir '$D' >/dev/null 2>&1")
OUT=$T/out # every output of scripts/cluster, checked for secrets at the end
mkdir -p "$OUT"

# ---- usage
rc=0
"$CLUSTER" >"$OUT/noargs.stdout" 2>"$OUT/noargs.stderr" || rc=$?
[ "$rc" = 2 ] || fail "no arguments: exit $rc, want 2"
[ ! -s "$OUT/noargs.stdout" ] || fail "no arguments: printed on stdout: $(cat "$OUT/noargs.stdout")"
head -n 1 "$OUT/noargs.stderr" | grep -qx 'usage:' || fail "no arguments: stderr does not start with usage: $(head -n 3 "$OUT/noargs.stderr")"
for c in up status restart down; do
  grep -q "scripts/cluster $c" "$OUT/noargs.stderr" || fail "the usage does not show '$c'"
done
if grep -qiE 'error|unbound|line [0-9]+' "$OUT/noargs.stderr"; then fail "no arguments: more than the usage: $(cat "$OUT/noargs.stderr")"; fi
rc=0
"$CLUSTER" restart --dir "$D" >/dev/null 2>"$OUT/restart-noname.stderr" || rc=$?
[ "$rc" = 2 ] || fail "restart without a NAME: exit $rc, want 2"
pass "no arguments (and restart without a NAME): the usage on stderr only, exit 2"

# ---- up
"$CLUSTER" up --dir "$D" --sample-size 1M >"$OUT/up.log" 2>&1 || {
  cat "$OUT/up.log" >&2
  fail "cluster up exited non-zero"
}
# shellcheck disable=SC1091
source "$D/cluster.env"
read -r -a FS_PIDS <<<"$DFD_FILESERVER_PIDS"
read -r -a FS_CURLS <<<"$DFD_FILESERVER_CONTROL_URLS"
read -r -a FS_URLS <<<"$DFD_FILESERVERS"
ALL_PIDS="$DFD_INFO_PID $DFD_FILESERVER_PIDS $DFD_RABBITMQ_PID"
pass "cluster up in $D (it existed before)"

# status_of NAME FILE: the STATE column of NAME's row in a status output.
status_of() { awk -v n="$1" '$1 == n {print $2}' "$2"; }

rc=0
"$CLUSTER" status --dir "$D" >"$OUT/status1.stdout" 2>"$OUT/status1.stderr" || rc=$?
[ "$rc" = 0 ] || fail "status with everything up: exit $rc: $(cat "$OUT/status1.stdout" "$OUT/status1.stderr")"
for n in info fs-a fs-b fs-c rabbitmq; do
  [ "$(status_of "$n" "$OUT/status1.stdout")" = up ] || fail "status: $n is not 'up': $(cat "$OUT/status1.stdout")"
done
pass "status: info fs-a fs-b fs-c rabbitmq up, exit 0"

# ---- kill fs-b
kill -KILL "${FS_PIDS[1]}"
for _ in $(seq 1 100); do [ -n "$(alive "${FS_PIDS[1]}")" ] || break; sleep 0.1; done
rc=0
"$CLUSTER" status --dir "$D" >"$OUT/status2.stdout" 2>"$OUT/status2.stderr" || rc=$?
[ "$rc" = 1 ] || fail "status with fs-b killed: exit $rc, want 1"
[ ! -s "$OUT/status2.stderr" ] || fail "status with fs-b killed wrote to stderr: $(cat "$OUT/status2.stderr")"
[ "$(status_of fs-b "$OUT/status2.stdout")" = down ] || fail "status: fs-b not 'down': $(cat "$OUT/status2.stdout")"
awk '$1 == "fs-b"' "$OUT/status2.stdout" | grep -qw "${FS_PIDS[1]}" || fail "status: the fs-b line lacks its pid ${FS_PIDS[1]}"
for n in info fs-a fs-c rabbitmq; do
  [ "$(status_of "$n" "$OUT/status2.stdout")" = up ] || fail "status: $n is not 'up' after fs-b was killed"
done
grep -q 'down: fs-b' "$OUT/status2.stdout" || fail "status: no summary naming fs-b: $(cat "$OUT/status2.stdout")"
pass "fs-b killed: status exit 1, fs-b down (pid ${FS_PIDS[1]}), the others up, nothing on stderr"

# ---- restart fs-b (dead) and info (running)
"$CLUSTER" restart fs-b --dir "$D" >"$OUT/restart-fs-b.log" 2>&1 || {
  cat "$OUT/restart-fs-b.log" >&2
  fail "restart fs-b failed"
}
"$CLUSTER" restart --dir "$D" info >"$OUT/restart-info.log" 2>&1 || {
  cat "$OUT/restart-info.log" >&2
  fail "restart info failed"
}
(
  # shellcheck disable=SC1091
  source "$D/cluster.env"
  read -r -a pids <<<"$DFD_FILESERVER_PIDS"
  [ "${pids[1]}" != "${FS_PIDS[1]}" ] || fail "cluster.env still has fs-b's old pid ${FS_PIDS[1]}"
  [ "${pids[0]}" = "${FS_PIDS[0]}" ] && [ "${pids[2]}" = "${FS_PIDS[2]}" ] || fail "restart fs-b changed another pid: $DFD_FILESERVER_PIDS"
  [ -n "$(alive "${pids[1]}")" ] || fail "the new fs-b (pid ${pids[1]}) is not running"
  [ "$DFD_INFO_PID" != "$(awk '{print $1}' <<<"$ALL_PIDS")" ] || fail "cluster.env still has info's old pid"
  [ -n "$(alive "$DFD_INFO_PID")" ] || fail "the new info server (pid $DFD_INFO_PID) is not running"
  [ "$DFD_FILESERVER_CONTROL_URLS" = "${FS_CURLS[*]}" ] && [ "$DFD_FILESERVERS" = "${FS_URLS[*]}" ] ||
    fail "the URLs in cluster.env changed"
  grep -qx "${pids[1]}" "$D/pids" && ! grep -qx "${FS_PIDS[1]}" "$D/pids" || fail "$D/pids not updated"
  [ "$(http_code "${FS_CURLS[1]}/healthz")" = 200 ] || fail "fs-b: ${FS_CURLS[1]}/healthz is not 200"
  [ "$(http_code "${FS_URLS[1]}/v1/content/0000")" = 401 ] || fail "fs-b: its data plane ${FS_URLS[1]} does not answer (401 wanted)"
  [ "$(http_code "$DFD_SERVER/healthz")" = 200 ] || fail "info: $DFD_SERVER/healthz is not 200"
  export XDG_CONFIG_HOME=$T/xdg
  printf '%s\n' "$DFD_DEMO_PASSWORD" | "$DFD" login --email "$DFD_DEMO_EMAIL" --password-stdin >"$OUT/login.log" 2>&1 ||
    fail "dfd login to the restarted info server: $(cat "$OUT/login.log")"
  "$DFD" get big.bin -o "$T/big.bin" --no-progress >"$OUT/get.log" 2>&1 || fail "dfd get after the restarts: $(cat "$OUT/get.log")"
  cmp -s "$T/big.bin" "$DFD_SAMPLE_DIR/big.bin" || fail "the download differs from the sample"
) || exit 1
rc=0
"$CLUSTER" status --dir "$D" >"$OUT/status3.stdout" 2>"$OUT/status3.stderr" || rc=$?
[ "$rc" = 0 ] || fail "status after the restarts: exit $rc: $(cat "$OUT/status3.stdout")"
pass "restart fs-b (killed) and info (running): new pids in cluster.env and pids, same URLs answer, login + verified download, status exit 0"

rc=0
"$CLUSTER" restart fs-x --dir "$D" >"$OUT/restart-bad.stdout" 2>"$OUT/restart-bad.stderr" || rc=$?
[ "$rc" = 1 ] || fail "restart fs-x: exit $rc, want 1"
grep -q "no server 'fs-x'" "$OUT/restart-bad.stderr" || fail "restart fs-x: $(cat "$OUT/restart-bad.stderr")"
pass "restart of an unknown server: a clear error, exit 1"

# ---- down, twice
# shellcheck disable=SC1091
NEW_PIDS=$(source "$D/cluster.env" && echo "$DFD_INFO_PID $DFD_FILESERVER_PIDS $DFD_RABBITMQ_PID")
"$CLUSTER" down --dir "$D" >"$OUT/down1.log" 2>&1 || fail "down: $(cat "$OUT/down1.log")"
# shellcheck disable=SC2086
left=$(alive $ALL_PIDS $NEW_PIDS)
[ -z "$left" ] || fail "still running after down: $left"
if pgrep -f -- "$D/" >/dev/null; then fail "a process mentioning $D survived down: $(pgrep -af -- "$D/")"; fi
rc=0
"$CLUSTER" down --dir "$D" >"$OUT/down2.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "second down: exit $rc"
grep -q 'nothing is running' "$OUT/down2.log" || fail "second down: $(cat "$OUT/down2.log")"
[ "$(wc -l <"$OUT/down2.log")" = 1 ] || fail "second down said more than one line: $(cat "$OUT/down2.log")"
rc=0
"$CLUSTER" status --dir "$D" >"$OUT/status4.stdout" 2>"$OUT/status4.stderr" || rc=$?
[ "$rc" = 1 ] || fail "status after down: exit $rc, want 1"
[ ! -s "$OUT/status4.stderr" ] || fail "status after down wrote to stderr: $(cat "$OUT/status4.stderr")"
pass "down: nothing left running; down again: 'nothing is running', exit 0; status: exit 1"

# ---- secrets: none in anything scripts/cluster printed
secrets=()
for f in "$D/demo-password" "$D"/secrets/*; do
  s=$(head -n 1 "$f")
  [ -z "$s" ] || secrets+=("$s")
done
[ ${#secrets[@]} -ge 5 ] || fail "expected the demo password and 4 broker passwords, found ${#secrets[@]}"
for s in "${secrets[@]}"; do
  if grep -rlF -- "$s" "$OUT" "$D/logs" >/dev/null; then fail "a secret is printed in $(grep -rlF -- "$s" "$OUT" "$D/logs" | tr '\n' ' ')"; fi
done
pass "none of the ${#secrets[@]} passwords appears in any output of scripts/cluster or in the server logs"

# ---- purge
"$CLUSTER" down --purge --dir "$D" >"$OUT/purge.log" 2>&1 || fail "down --purge: $(cat "$OUT/purge.log")"
left=$(find "$D" -mindepth 1 -maxdepth 1 -printf '%f ')
[ "$left" = "keep.txt " ] || fail "down --purge left in $D: $left(want keep.txt only)"
rc=0
"$CLUSTER" down --purge --dir "$D" >"$OUT/purge2.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "down --purge of a directory without the marker: exit 0"
[ -f "$D/keep.txt" ] || fail "down --purge of a directory without the marker deleted keep.txt"
"$CLUSTER" down --purge --dir "$T/none" >"$OUT/purge3.log" 2>&1 || fail "down --purge of a missing directory: $(cat "$OUT/purge3.log")"
pass "down --purge: what up wrote is gone, keep.txt stays; no marker: nothing deleted; no directory: exit 0"

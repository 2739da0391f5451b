#!/usr/bin/env bash
# scripts/demo leaves the machine as it found it: it runs (--no-build: the build of this ctest,
# 8 MiB samples, the default --dir) in its own PID and mount namespaces with a private, empty
# /tmp (a tmpfs; the real /tmp, which holds scripts/cluster's shared port registry, and the
# checkout, build and test directory bound into it), so that other tests running meanwhile do not
# count. Afterwards:
#   - no process is left in the namespace (the broker's Erlang VM and epmd included);
#   - /tmp holds exactly what it held before (no cluster directory, no port reservation, no
#     temporary file of the servers, the client or RabbitMQ);
#   - its output holds no password and no token (no long hex string but sha256 digests, no
#     unmasked password=/token= value).
# Needs root (unshare, mount); skips otherwise.
source "$(dirname "$0")/lib.sh"
need_build
[ "$(id -u)" = 0 ] || {
  echo "skip: needs root for unshare --mount --pid"
  exit 77
}
unshare --mount --pid --fork --mount-proc true 2>/dev/null || {
  echo "skip: unshare --mount --pid does not work here"
  exit 77
}
cat >"$T/inner.sh" <<'INNER'
set -euo pipefail
SRC_DIR=$1 BUILD_DIR=$2 T=$3
# A private /tmp: keep a handle on the real /tmp, cover /tmp, bind the real one back whole at
# /tmp/.outer (not the registry alone: other clusters remove the registry when it empties, which
# would leave a bind of it pointing at a deleted folder), then the checkout, the build and the
# test dir where they are under /tmp (a fresh clone in /tmp, as CI may make).
exec 8</tmp
mount --make-rprivate /
mount -t tmpfs -o mode=1777 tmpfs /tmp
OUTER=/tmp/.outer
mkdir -p "$OUTER"
mount -c --bind /proc/self/fd/8 "$OUTER"
exec 8<&-
BOUND=()
for p in "$SRC_DIR" "$BUILD_DIR" "$T"; do
  [[ $p == /tmp/* ]] || continue
  mkdir -p "$p"
  mount --bind "$OUTER/${p#/tmp/}" "$p"
  BOUND+=(-o -path "$p")
done
# scripts/cluster's shared registry, so that clusters outside this namespace are respected.
export DFD_PORT_REGISTRY=$OUTER/dfd-cluster-ports
REG=$DFD_PORT_REGISTRY
unset TMPDIR

# procs: the live processes of this namespace but this shell (PID 1), one "PID COMM" a line.
procs() {
  local d line st
  for d in /proc/[0-9]*; do
    [ "${d#/proc/}" != 1 ] && [ "${d#/proc/}" != "$BASHPID" ] || continue
    IFS= read -r line <"$d/stat" 2>/dev/null || continue
    st=${line##*) }
    [ "${st%% *}" != Z ] || continue
    echo "${d#/proc/} $(cat "$d/comm" 2>/dev/null)"
  done
}
# tmp_list: every path under /tmp but those bound back in.
tmp_list() { find /tmp -mindepth 1 \( -path "$OUTER" "${BOUND[@]}" \) -prune -o -print | sort; }

tmp_list >"$T/tmp.before"
procs >"$T/procs.before"
[ ! -s "$T/procs.before" ] || { echo "FAIL: processes before the demo: $(cat "$T/procs.before")" >&2; exit 1; }
rc=0
DFD_DEMO_BUILD_DIR=$BUILD_DIR bash "$SRC_DIR/scripts/demo" --no-build --sample-size 8M >"$T/demo.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { tail -n 40 "$T/demo.log" >&2; echo "FAIL: scripts/demo exited $rc" >&2; exit 1; }
# Processes stopped by PID may take a moment to be gone: wait for that (bounded), then judge.
for _ in $(seq 1 100); do
  procs >"$T/procs.after"
  [ -s "$T/procs.after" ] || break
  sleep 0.1
done
tmp_list >"$T/tmp.after"
grep -rlx /tmp/dfd-demo "$REG"/*/owner >"$T/reservations.after" 2>/dev/null || true
INNER

rc=0
unshare --mount --pid --fork --mount-proc bash "$T/inner.sh" "$SRC_DIR" "$BUILD_DIR" "$T" || rc=$?
[ "$rc" = 0 ] || fail "the demo in its namespaces failed (exit $rc)"
pass "scripts/demo --no-build --sample-size 8M ran in its own PID and mount namespaces (private /tmp)"

[ ! -s "$T/procs.after" ] || fail "processes left after the demo: $(tr '\n' ';' <"$T/procs.after")"
pass "no process left behind"
if ! diff -u "$T/tmp.before" "$T/tmp.after" >"$T/tmp.diff"; then
  fail "the demo changed /tmp: $(grep '^[-+]/' "$T/tmp.diff" | head -n 20 | tr '\n' ' ')"
fi
[ ! -s "$T/reservations.after" ] || fail "port reservations of the demo left in /tmp/dfd-cluster-ports: $(cat "$T/reservations.after")"
pass "/tmp as before ($(wc -l <"$T/tmp.before") entries), no port reservation left"

grep -q 'deleted (scripts/cluster down --purge)' "$T/demo.log" || fail "the demo does not say it deleted its directory"
long_hex=$(grep -oE '[0-9a-f]{20,}' "$T/demo.log" | awk 'length($0) != 64' | sort -u)
[ -z "$long_hex" ] || fail "the demo printed what looks like a secret: $long_hex"
if grep -iE '(password|token)"?[[:space:]]*[:=][[:space:]]*"?[^*"[:space:]]' "$T/demo.log"; then
  fail "the demo printed an unmasked password or token"
fi
pass "the demo's output holds no password or token"

#!/usr/bin/env bash
# Case: one download from 1, 2 and 3 file servers. dfd: `dfd get --manifest` with a fresh manifest
# from the shared cluster's info server cut to its first N locations (the manifest fetch is left
# out of the time); peer: `aria2c -x3 -s3 -k1M` with the first N of three nginx serving the same
# file. Runs interleave dfd and aria2c for N = 1, 2, 3. On loopback every server shares the same
# two cores with the client: this shows what each added server costs or gives on one machine, not
# what more bandwidth gives (the shaped-zones case does that).
# BENCH_CLUSTER=loopback
set -euo pipefail
CASE_ID=scaling-servers
CASE_TITLE="Scaling: one download from 1, 2, 3 file servers"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
bench_case_init "bench/cases/scaling-servers.sh (dfd get --manifest with N locations; aria2c -x3 -s3 -k1M with N nginx)"
shared_sample big.bin
out=$BENCH_WORK/out
aria=(timeout "$BENCH_TIMEOUT" aria2c -x3 -s3 -k1M -q --allow-overwrite=true --auto-file-renaming=false
  --console-log-level=warn -d "$BENCH_WORK" -o out)

run_dfd() {  # N → seconds
  manifest "$id" "$BENCH_WORK/m.json" "$1"
  local t0 t1
  cat "${copies[@]}" >/dev/null
  t0=$(now)
  timeout "$BENCH_TIMEOUT" "$DFD" get --manifest "$BENCH_WORK/m.json" -o "$out" --no-progress --json >"$BENCH_WORK/r.json"
  t1=$(since "$t0")
  [ "$(json_get "$BENCH_WORK/r.json" 'len(d["servers"])')" = "$1" ] || bench_die "dfd used another number of servers than $1"
  rm -f "$out"
  echo "$t1"
}
run_aria() {  # N → seconds
  local t0 t1
  cat "$file" >/dev/null
  t0=$(now)
  "${aria[@]}" "${urls[@]:0:$1}"
  t1=$(since "$t0")
  [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$digest" ] || bench_die "aria2c wrote other bytes"
  rm -f "$out"
  echo "$t1"
}

if [ "$BENCH_QUICK" = 0 ]; then  # warm-up (a full run): first touch of the servers and the page cache
  run_dfd 3 >/dev/null
  run_aria 3 >/dev/null
fi
declare -A td ta
for r in $(seq "$BENCH_RUNS"); do
  for n in 1 2 3; do
    td[$n]+=" $(run_dfd "$n")"
    ta[$n]+=" $(run_aria "$n")"
  done
  bench_say "run $r: dfd ${td[1]##* }/${td[2]##* }/${td[3]##* } s, aria2c ${ta[1]##* }/${ta[2]##* }/${ta[3]##* } s (1/2/3 servers)"
done
for n in 1 2 3; do
  results row --label "$(human "$size"), $n server$([ "$n" = 1 ] || echo s)" --metric MiB/s --better higher \
    --dfd-name "dfd get --manifest" --dfd "$(mib_s "$size" "${td[$n]}")" \
    --peer-name "aria2c -x3 -s3 -k1M, $n nginx" --peer "$(mib_s "$size" "${ta[$n]}")"
done
results note --note "Loopback on one machine: the servers, the client and the peer share the same cores, so more servers cannot add bandwidth here. dfd hashes every byte twice (each chunk's SHA-256, then the whole file's), aria2c verifies nothing: where the CPU is the limit, that is the difference."

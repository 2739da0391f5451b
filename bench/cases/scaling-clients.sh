#!/usr/bin/env bash
# Case: aggregate throughput of 1, 8 and 32 clients downloading at the same time. dfd: N concurrent
# `dfd get ID` against the shared cluster (each fetches its own manifest and download token from
# the info server, then the bytes from the three file servers); peer: N concurrent
# `aria2c -x3 -s3 -k1M` from three nginx serving the same file. Aggregate = N x size / the time
# from the first start to the last end. Every client must succeed; outputs go to /dev/shm when it
# has room (else the case's directory) and are removed after each round. The file: the shared
# cluster's big.bin (256 MiB in a full run); quick: odd.bin (5 MiB), so 32 clients stay short.
# BENCH_CLUSTER=loopback
set -euo pipefail
CASE_ID=scaling-clients
CASE_TITLE="Scaling: aggregate throughput of 1, 8, 32 concurrent clients"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
COUNTS=${BENCH_CLIENT_COUNTS:-1 8 32}
SAMPLE=$(pick odd.bin big.bin)
bench_case_init "bench/cases/scaling-clients.sh (N x dfd get ID; N x aria2c -x3 -s3 -k1M from 3 nginx; N = $COUNTS; the shared cluster's $SAMPLE)"
shared_sample "$SAMPLE"
max=0
for n in $COUNTS; do [ "$n" -le "$max" ] || max=$n; done
out=$BENCH_WORK/out
need_kib=$((max * size * 3 / 2048))
if [ -d /dev/shm ] && [ "$(df -k --output=avail /dev/shm | tail -1)" -gt "$need_kib" ]; then out=/dev/shm/dfd-bench-clients.$$; fi
mkdir -p "$out"
trap 'rm -rf "$out"; bench_stop_all' EXIT

# round SIDE N → seconds for N concurrent clients of SIDE (dfd or aria2c)
round() {
  local side=$1 n=$2 i t0 t1 pids=() fail=0
  cat "${copies[@]}" "$file" >/dev/null
  t0=$(now)
  for i in $(seq "$n"); do
    if [ "$side" = dfd ]; then
      timeout "$BENCH_TIMEOUT" "$DFD" --server "$DFD_SERVER" get "$id" -o "$out/$i" --no-progress >/dev/null 2>"$out/$i.err" &
    else
      timeout "$BENCH_TIMEOUT" aria2c -x3 -s3 -k1M -q --allow-overwrite=true --auto-file-renaming=false \
        --console-log-level=warn -d "$out" -o "$i" "${urls[@]}" 2>"$out/$i.err" &
    fi
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || fail=$((fail + 1)); done
  t1=$(since "$t0")
  for i in $(seq "$n"); do
    [ "$(stat -c %s "$out/$i" 2>/dev/null || echo 0)" = "$size" ] || fail=$((fail + 1))
  done
  [ "$fail" = 0 ] || { cat "$out"/*.err >&2; bench_die "$fail of $n $side clients failed"; }
  rm -f "$out"/*
  echo "$t1"
}

round dfd 1 >/dev/null  # warm-up
round aria2c 1 >/dev/null
declare -A td ta
for r in $(seq "$BENCH_RUNS"); do
  for n in $COUNTS; do
    td[$n]+=" $(round dfd "$n")"
    ta[$n]+=" $(round aria2c "$n")"
    bench_say "run $r, $n clients: dfd ${td[$n]##* } s, aria2c ${ta[$n]##* } s"
  done
done
for n in $COUNTS; do
  results row --label "$n client$([ "$n" = 1 ] || echo s) x $(human "$size")" --metric "MiB/s (all clients)" --better higher \
    --dfd-name "$n x dfd get" --dfd "$(mib_s $((n * size)) "${td[$n]}")" \
    --peer-name "$n x aria2c -x3 -s3 -k1M" --peer "$(mib_s $((n * size)) "${ta[$n]}")"
done
results note --note "dfd's time includes each client's manifest fetch and download-token issue (the info server and RabbitMQ run on the same cores); only the sizes of the outputs are checked here (dfd verifies its own), the bytes are compared in the client-vs-aria2c case. dfd hashes every byte twice (each chunk's SHA-256, then the whole file's), aria2c verifies nothing; on two shared cores the CPU is the limit."

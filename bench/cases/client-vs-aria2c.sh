#!/usr/bin/env bash
# Case: `dfd get` from three dfd file servers vs `aria2c -x3 -s3 -k1M` from three nginx serving the
# same file, through bench/download-vs-aria2c (interleaved runs, warm memory, every output's
# sha256 checked). Quick: the shared cluster's big.bin (64 MiB), no aria2c --checksum runs. Full:
# its own 1 GiB cluster, and aria2c with --checksum as a second peer.
# BENCH_CLUSTER=loopback
set -euo pipefail
CASE_ID=client-vs-aria2c
CASE_TITLE="Client: dfd get vs aria2c, one file from three servers"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

args=(--runs "$BENCH_RUNS" --warmup 1 --dir "$BENCH_WORK/run" --json "$BENCH_WORK/out.json")
if [ "$BENCH_QUICK" = 1 ]; then
  args+=(--no-checksum-peer)
  export CLUSTER_ENV
else
  args+=(--size 1G)
  unset CLUSTER_ENV
fi
bench_case_init "bench/download-vs-aria2c ${args[*]/#$BENCH_WORK/…}"
DFD_BENCH_TIMEOUT=$BENCH_TIMEOUT "$REPO/bench/download-vs-aria2c" "${args[@]}"

out=$BENCH_WORK/out.json
size=$(json_get "$out" 'd["size_bytes"]')
label="$(human "$size"), 3 servers, plain http"
results row --label "$label" --metric MiB/s --better higher \
  --dfd-name "dfd get (every chunk verified)" --dfd "$(mib_s "$size" "$(json_get "$out" 'd["dfd_seconds"]')")" \
  --peer-name "aria2c -x3 -s3 -k1M (nothing verified)" --peer "$(mib_s "$size" "$(json_get "$out" 'd["aria2c_seconds"]')")" \
  --goal-ratio-min 1.25 --goal "dfd's wall time <= 0.8x aria2c's (throughput ratio >= 1.25)"
if [ "$(json_get "$out" 'len(d["aria2c_sha_seconds"])')" -gt 0 ]; then
  results row --label "$label, peer verifies too" --metric MiB/s --better higher \
    --dfd-name "dfd get (every chunk verified)" --dfd "$(mib_s "$size" "$(json_get "$out" 'd["dfd_seconds"]')")" \
    --peer-name "aria2c --checksum=sha-256 (whole file)" --peer "$(mib_s "$size" "$(json_get "$out" 'd["aria2c_sha_seconds"]')")"
fi
results note --note "dfd's shares per server (last run): $(json_get "$out" '", ".join(f"{k} {v}%" for k, v in d["dfd_servers"].items())')."

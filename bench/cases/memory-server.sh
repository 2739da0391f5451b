#!/usr/bin/env bash
# Case: a file server's resident memory while it serves 256 concurrent downloads, against nginx
# under the same load: bench/serve-ranges with wrk holding 256 connections, each fetching 1 MiB
# ranges of one file back to back with a download token; bench/lib/rss_sampler.py sums each
# server's VmRSS (nginx: master + workers) every 0.1 s during the run and keeps the peak, and
# reads dfd's dfd_content_active_connections from its /metrics to show the 256 were held.
set -euo pipefail
CASE_ID=memory-server
CASE_TITLE="Memory: file server RSS with 256 concurrent downloads"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
args=(--duration "$(pick 2 5)" --size-mib "$(pick 32 256)" --repeat "$BENCH_RUNS" --connections 256 --threads 2
  --ranges 1048576)
bench_case_init "bench/serve-ranges ${args[*]}"
"$REPO/bench/serve-ranges" --build "$DFD_BUILD_DIR" "${args[@]}" --json "$BENCH_WORK/out.json"
out=$BENCH_WORK/out.json
side='" ".join("%.1f" % (x / 1024) for x in d["ranges"]["1048576"][SIDE]["rss_peak_kib"])'
results row --label "256 connections, 1 MiB ranges, 2 threads/workers" --metric "MiB peak RSS" --better lower \
  --dfd-name "dfd-host (storage-fs, auth-hmac)" --dfd "$(json_get "$out" "${side/SIDE/\"dfd\"}")" \
  --peer-name "nginx (master + 2 workers)" --peer "$(json_get "$out" "${side/SIDE/\"nginx\"}")"
results row --label "256 connections, 1 MiB ranges, throughput under that load" --metric "requests/s" --better higher \
  --dfd-name "dfd-host" --dfd "$(json_get "$out" 'd["ranges"]["1048576"]["dfd"]["rps"]')" \
  --peer-name "nginx" --peer "$(json_get "$out" 'd["ranges"]["1048576"]["nginx"]["rps"]')"
results note --note "dfd_content_active_connections seen during the runs (peak per run, sampled every 0.5 s): $(json_get "$out" '", ".join("%d" % x for x in d["ranges"]["1048576"]["dfd"]["active_connections_peak"] if x is not None)')."

#!/usr/bin/env bash
# Case: dfd-host's data plane vs nginx (sendfile on) serving byte ranges of one file with a download
# token, wrk with 64 connections, 1 MiB and 64 KiB ranges, through bench/serve-ranges (runs
# alternate between the two servers). Quick: a 64 MiB file, 2 s per run.
set -euo pipefail
CASE_ID=data-plane-vs-nginx
CASE_TITLE="Data plane: dfd-host vs nginx, ranged GETs"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

args=(--duration "$(pick 1 5)" --size-mib "$(pick 64 256)" --repeat "$BENCH_RUNS" --connections 64 --threads 2
  --ranges "1048576 65536")
bench_case_init "bench/serve-ranges ${args[*]}"
"$REPO/bench/serve-ranges" --build "$DFD_BUILD_DIR" "${args[@]}" --json "$BENCH_WORK/out.json"

out=$BENCH_WORK/out.json
for r in 1048576 65536; do
  label="$(human "$r") ranges, 64 connections, 2 threads each"
  results row --label "$label" --metric "requests/s" --better higher \
    --dfd-name "dfd-host data plane" --dfd "$(json_get "$out" "d['ranges']['$r']['dfd']['rps']")" \
    --peer-name "nginx, 2 workers, sendfile" --peer "$(json_get "$out" "d['ranges']['$r']['nginx']['rps']")" \
    --goal-ratio-min 0.9 --goal "dfd >= 0.9x nginx"
  results row --label "$label, CPU per request" --metric "CPU µs/request" --better lower \
    --dfd-name "dfd-host data plane" --dfd "$(json_get "$out" "d['ranges']['$r']['dfd']['cpu_us_per_request']")" \
    --peer-name "nginx workers" --peer "$(json_get "$out" "d['ranges']['$r']['nginx']['cpu_us_per_request']")"
done

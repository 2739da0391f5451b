#!/usr/bin/env bash
# Case: the client's peak resident memory (/usr/bin/time's maximum RSS) downloading one big file,
# dfd against aria2c, through bench/download-vs-aria2c --mode nginx: both download from the same
# three nginx (dfd with a manifest file of the same shape as the info server's), so only the
# clients differ. Full: 1 GiB and 4 GiB; quick: 32 MiB and 128 MiB (said in the report). No
# warm-up and `--memory asis` (no touching of twice the file's size before each run): the figure is
# memory, and the throughput printed alongside is only a by-product.
set -euo pipefail
CASE_ID=memory-client
CASE_TITLE="Memory: client peak RSS"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
SIZES=${BENCH_MEMORY_SIZES:-$(pick "32M 128M" "1G 4G")}
bench_case_init "bench/download-vs-aria2c --mode nginx --size S --runs $BENCH_RUNS --warmup 0 --memory asis --no-checksum-peer (S = ${SIZES// /, })"
for s in $SIZES; do
  DFD_BENCH_TIMEOUT=$BENCH_TIMEOUT "$REPO/bench/download-vs-aria2c" --mode nginx --size "$s" --runs "$BENCH_RUNS" --warmup 0 --memory asis \
    --no-checksum-peer --dir "$BENCH_WORK/run-$s" --json "$BENCH_WORK/out-$s.json"
  out=$BENCH_WORK/out-$s.json
  kib_to_mib='" ".join("%.1f" % (x / 1024) for x in d[KEY])'
  results row --label "$(human "$(bytes_of "$s")") download, 3 servers" --metric "MiB peak RSS" --better lower \
    --dfd-name "dfd get" --dfd "$(json_get "$out" "${kib_to_mib/KEY/\"dfd_rss_kib\"}")" \
    --peer-name "aria2c -x3 -s3 -k1M" --peer "$(json_get "$out" "${kib_to_mib/KEY/\"aria2c_rss_kib\"}")" \
    --goal-max 64 --goal "dfd < 64 MiB (issue 5)" \
    --note "throughput in the same runs (no warm-up, memory as it was): dfd $(json_get "$out" '"%.0f" % (d["size_bytes"] / 1048576 / sorted(d["dfd_seconds"])[len(d["dfd_seconds"]) // 2])') MiB/s, aria2c $(json_get "$out" '"%.0f" % (d["size_bytes"] / 1048576 / sorted(d["aria2c_seconds"])[len(d["aria2c_seconds"]) // 2])') MiB/s."
done
[ "$BENCH_QUICK" = 0 ] || results note --note "Quick run: $SIZES instead of 1 GiB and 4 GiB."

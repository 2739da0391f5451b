#!/usr/bin/env bash
# Case: download tokens issued per second by one info server (GET /v1/files/{id}, each answer
# waits for the broker's confirm of token.issued), 16 connections, through bench/token-issuance on
# the shared plain cluster. The peer is the figure the repository records for the original Python
# system (≈ 70 tokens/s, bench/token-issuance), not a measurement of this run.
# BENCH_CLUSTER=loopback
set -euo pipefail
CASE_ID=token-issuance
CASE_TITLE="Token issuance: one info server, SQLite, RabbitMQ"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

args=(--duration "$(pick 2 10)" --samples "$(pick 50 1000)" --runs "$BENCH_RUNS" --connections 16)
bench_case_init "bench/token-issuance ${args[*]}"
DFD_CLUSTER_ENV=$CLUSTER_ENV "$REPO/bench/token-issuance" "${args[@]}" --json "$BENCH_WORK/out.json"

out=$BENCH_WORK/out.json
non2xx=$(json_get "$out" 'sum(d["non2xx"])')
results row --label "GET /v1/files/{id}, 16 connections" --metric "tokens/s" --better higher \
  --dfd-name "info-sqlite + auth-sqlite + broker-rabbitmq" --dfd "$(json_get "$out" 'd["tokens_per_s"]')" \
  --peer-name "original Python system" --peer-recorded 70 \
  --peer-source "the figure bench/token-issuance records for the original Python server; not rerun here" \
  --note "non-2xx answers: $non2xx."
results note --note "$(json_get "$out" '"issue → first accepted range request: p50 %.2f ms, p99 %.2f ms, not accepted %d of %d" % (d["propagation_ms"]["p50"], d["propagation_ms"]["p99"], d["propagation_ms"]["not_accepted"], d["propagation_ms"]["samples"])')."
[ "$non2xx" = 0 ] || bench_die "$non2xx answers were not 2xx"

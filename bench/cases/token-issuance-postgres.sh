#!/usr/bin/env bash
# Case: download tokens per second with one and with two information servers sharing one
# PostgreSQL (info-postgres + auth-postgres): bench/run's zones cluster (bench/lib/clusters.sh)
# runs with `--postgres --info-servers 2` where this checkout has them. The same cluster answers
# both ways, interleaved: "one" = wrk with 16 connections against the first info server; "two" =
# wrk with 8 connections against each of the two at the same time (16 in all), tokens/s added up.
# Each answer waits for the broker's confirm of token.issued, as in the token-issuance case.
# Without the PostgreSQL cluster (branches i16-multi-info, i16-info-pg, i16-pg-store) the case
# reports "skipped".
# BENCH_CLUSTER=zones
set -euo pipefail
CASE_ID=token-issuance-postgres
CASE_TITLE="Token issuance: one vs two info servers on PostgreSQL"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
DURATION=$(pick 2 10)
bench_case_init "scripts/cluster up --plain --postgres --info-servers 2; wrk -c16 against one info server vs -c8 against each of two, ${DURATION}s per run"
[ -z "${ZONES_NO_POSTGRES:-}" ] || bench_skip "$ZONES_NO_POSTGRES"
[ -z "${ZONES_FAILED:-}" ] || bench_die "$ZONES_FAILED"
# shellcheck disable=SC1090
source "$ZONES_ENV"
read -r -a infos <<<"${DFD_INFO_URLS:-}"
[ "${#infos[@]}" -ge 2 ] || bench_die "cluster.env has fewer than two DFD_INFO_URLS"
DFD_SERVER=${infos[0]}
cluster_login
id=$(file_id small.bin)
lua=$BENCH_WORK/auth.lua
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$USER_TOKEN" >"$lua"
chmod 600 "$lua"

# wrk_rps URL CONNECTIONS OUT: runs wrk, writes "req/s non2xx" to OUT.
wrk_rps() {
  local o
  o=$(timeout $((DURATION + 30)) wrk -t1 -c"$2" -d"${DURATION}s" -s "$lua" "$1/v1/files/$id")
  echo "$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$o") $(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' <<<"$o")" >"$3"
}
one_s="" two_s="" bad=0
for r in $(seq "$BENCH_RUNS"); do
  wrk_rps "${infos[0]}" 16 "$BENCH_WORK/one"
  read -r a e <"$BENCH_WORK/one"
  one_s+=" $a" bad=$((bad + ${e:-0}))
  wrk_rps "${infos[0]}" 8 "$BENCH_WORK/two-0" &
  p0=$!
  wrk_rps "${infos[1]}" 8 "$BENCH_WORK/two-1" &
  p1=$!
  wait "$p0" "$p1"
  read -r a e <"$BENCH_WORK/two-0"
  read -r b f <"$BENCH_WORK/two-1"
  two_s+=" $(echo "$a + $b" | bc -l)" bad=$((bad + ${e:-0} + ${f:-0}))
  bench_say "run $r: one info server ${one_s##* } tokens/s, two ${two_s##* } tokens/s"
done
results row --label "GET /v1/files/{id}, 16 connections in all" --metric "tokens/s" --better higher \
  --dfd-name "two info servers, one PostgreSQL" --dfd "$two_s" --peer-name "one info server, same cluster" --peer "$one_s" --self-peer \
  --note "non-2xx answers: $bad. The ratio is what a second info server adds on this machine (every process shares its cores)."
[ "$bad" = 0 ] || bench_die "$bad answers were not 2xx"

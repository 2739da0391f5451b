#!/usr/bin/env bash
# scripts/cluster up --rabbitmq-nodes 3 (plain, 1 MiB samples): cluster.env names the three
# nodes; every host's config lists them (urls) and every per-server queue is a quorum queue with
# three members; with node 1 stopped (where every host starts) dfd still downloads a sample that
# matches the storage root; `down` leaves none of the nodes' processes alive.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
need_build
CLUSTER=$SRC_DIR/scripts/cluster
export DFD_RABBITMQ_START_TIMEOUT=${DFD_RABBITMQ_START_TIMEOUT:-120}
CLEANUPS+=("'$CLUSTER' down --dir '$T/c' >/dev/null 2>&1")

"$CLUSTER" up --dir "$T/c" --sample-size 1M --plain --rabbitmq-nodes 3 >"$T/up.log" 2>&1 || {
  cat "$T/up.log" >&2
  fail "cluster up --rabbitmq-nodes 3"
}
# shellcheck disable=SC1091
source "$T/c/cluster.env"
[ "${DFD_RABBITMQ_NODES:-}" = 3 ] || fail "DFD_RABBITMQ_NODES='${DFD_RABBITMQ_NODES:-}', want 3"
read -r -a node_pids <<<"$DFD_RABBITMQ_PIDS"
[ ${#node_pids[@]} = 3 ] || fail "DFD_RABBITMQ_PIDS='$DFD_RABBITMQ_PIDS': want 3 PIDs"
[ "$(tr ',' '\n' <<<"$DFD_AMQP_URLS" | grep -c '^amqp://127.0.0.1:')" = 3 ] ||
  fail "DFD_AMQP_URLS='$DFD_AMQP_URLS': want 3 amqp:// URLs"
for f in $DFD_INFO_CONFIG $DFD_FILESERVER_CONFIGS; do
  # shellcheck disable=SC2016  # the literal ${DFD_AMQP_URLS} dfd-host expands
  grep -q '^urls = \["${DFD_AMQP_URLS}"\]' "$f" || fail "$f has no urls line"
done
pass "cluster.env names 3 nodes; every config lists them"

queues=$("$SRC_DIR/scripts/rabbitmq" ctl "$DFD_RABBITMQ_DIR" list_queues name type members)
for q in info $DFD_FILESERVER_IDS; do
  line=$(grep "^$q"$'\t' <<<"$queues") || fail "no queue $q: $queues"
  grep -q $'\tquorum\t' <<<"$line" || fail "queue $q is not a quorum queue: $line"
  [ "$(grep -o '@localhost' <<<"$line" | wc -l)" = 3 ] || fail "queue $q does not have 3 members: $line"
done
pass "every per-server queue is a quorum queue on the 3 nodes"

"$SRC_DIR/scripts/rabbitmq" stop-node "$DFD_RABBITMQ_DIR" 1 >"$T/stop-node.log" 2>&1 ||
  fail "stop-node 1: $(cat "$T/stop-node.log")"
export XDG_CONFIG_HOME=$T/xdg
printf '%s\n' "$DFD_DEMO_PASSWORD" | "$DFD" login --email "$DFD_DEMO_EMAIL" --password-stdin >/dev/null ||
  fail "dfd login with node 1 down"
id=$(file_id big.bin) || fail "no id for big.bin"
"$DFD" get "$id" -o "$T/big.bin" --no-progress >"$T/get.log" 2>&1 || {
  cat "$T/get.log" >&2
  fail "dfd get with node 1 down"
}
read -r -a roots <<<"$DFD_STORAGE_ROOTS"
cmp -s "$T/big.bin" "${roots[0]}/big.bin" || fail "big.bin differs from the storage root"
pass "node 1 stopped: dfd login, ls and get work, the bytes match"

"$CLUSTER" down --dir "$T/c" >"$T/down.log" 2>&1 || fail "down: $(cat "$T/down.log")"
# shellcheck disable=SC2086  # PID lists
left=$(alive "${node_pids[@]}" $DFD_INFO_PID $DFD_FILESERVER_PIDS)
[ -z "$left" ] || fail "still running after down: $left"
if pgrep -f -- "$T/c/" >/dev/null; then
  pgrep -af -- "$T/c/" >&2
  fail "a process mentioning $T/c survived down"
fi
pass "down: no node, host or epmd left"

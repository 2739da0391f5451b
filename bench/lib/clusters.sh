# shellcheck shell=bash
# The clusters bench/run starts for the cases (sourced by bench/run, not run). A case names the one
# it uses in its header:
#   # BENCH_CLUSTER=loopback   the shared plain `scripts/cluster` on loopback (CLUSTER_ENV)
#   # BENCH_CLUSTER=zones      a plain `scripts/cluster` with the file servers and the client in
#                              network namespaces behind shaped links (--netns --link LINKS) and,
#                              where this checkout has them, two info servers on one PostgreSQL
#                              (--postgres --info-servers 2): ZONES_ENV. What it could not include
#                              is in ZONES_NO_NETNS / ZONES_NO_POSTGRES (the reason), so the cases
#                              that need it report "skipped: <reason>"; ZONES_FAILED is set when
#                              `up` failed (the cases report "failed").
# Both run with DFD_MANIFESTS_PER_MINUTE=0 (one user issues thousands of manifests). bench/run
# runs the cases grouped by cluster: a cluster starts before its first case and is stopped (by
# `scripts/cluster down`, which stops exactly what `up` started) before the next group.
# Needs: REPO, DIR, DFD_BUILD_DIR, say; CLUSTER_SIZE, ZONES_SIZE, BENCH_LINKS.

RUNNING_CLUSTER=""

cluster_of() { sed -n 's/^# BENCH_CLUSTER=\(.*\)$/\1/p' "$REPO/bench/cases/$1.sh"; }

stop_cluster() {
  [ -n "$RUNNING_CLUSTER" ] || return 0
  "$REPO/scripts/cluster" down --dir "$DIR/$RUNNING_CLUSTER" >/dev/null 2>&1 || true
  RUNNING_CLUSTER=""
}

# zones_features: the --netns / --postgres arguments this checkout and machine allow; sets
# ZONES_NO_NETNS / ZONES_NO_POSTGRES to the reason when one is left out.
zones_features() {
  ZONES_ARGS=()
  export ZONES_NO_NETNS="" ZONES_NO_POSTGRES=""
  if ! grep -q -- '--netns' "$REPO/scripts/cluster"; then
    ZONES_NO_NETNS="scripts/cluster has no --netns (the netns cluster of branch i16-netns is not in this checkout)"
  elif [ "$(id -u)" != 0 ]; then
    ZONES_NO_NETNS="network namespaces need root (ip netns)"
  elif ! ip netns list >/dev/null 2>&1; then
    ZONES_NO_NETNS="ip netns does not work on this machine"
  else
    ZONES_ARGS+=(--netns --link "$BENCH_LINKS")
  fi
  local p
  if ! grep -q -- '--info-servers' "$REPO/scripts/cluster"; then
    ZONES_NO_POSTGRES="scripts/cluster has no --postgres --info-servers (branch i16-multi-info is not in this checkout)"
  else
    for p in info-postgres auth-postgres; do
      [ -e "$DFD_BUILD_DIR/plugins/libdfd-$p.so" ] || ZONES_NO_POSTGRES="plugin $p is not built ($DFD_BUILD_DIR/plugins/libdfd-$p.so)"
    done
    [ -n "$ZONES_NO_POSTGRES" ] || ZONES_ARGS+=(--postgres --info-servers 2)
  fi
}

# start_cluster KIND: starts the cluster a group of cases uses (nothing for KIND "").
start_cluster() {
  local kind=$1 args=()
  case $kind in
    "") return 0 ;;
    loopback) args=(--sample-size "$CLUSTER_SIZE") ;;
    zones)
      zones_features
      [ "${#ZONES_ARGS[@]}" -gt 0 ] || return 0
      args=(--sample-size "$ZONES_SIZE" "${ZONES_ARGS[@]}")
      ;;
    *) die "unknown BENCH_CLUSTER=$kind" ;;
  esac
  say "starting the $kind cluster (scripts/cluster up --plain ${args[*]})"
  RUNNING_CLUSTER=$kind
  export ZONES_FAILED=""
  if ! DFD_MANIFESTS_PER_MINUTE=0 "$REPO/scripts/cluster" up --dir "$DIR/$kind" --plain "${args[@]}" \
    >"$DIR/logs/cluster-$kind.log" 2>&1; then
    tail -20 "$DIR/logs/cluster-$kind.log" >&2
    [ "$kind" = zones ] || die "scripts/cluster up failed"
    ZONES_FAILED="scripts/cluster up --plain ${args[*]} failed: $(tail -1 "$DIR/logs/cluster-$kind.log")"
    return 0
  fi
  chmod 755 "$DIR/$kind"
  if [ "$kind" = loopback ]; then export CLUSTER_ENV=$DIR/$kind/cluster.env; else export ZONES_ENV=$DIR/$kind/cluster.env; fi
}

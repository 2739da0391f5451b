# shellcheck shell=bash
# Several information servers on one PostgreSQL (issue 16), sourced by scripts/cluster.
#
#   scripts/cluster up --postgres [--info-servers N]
#
# starts a private PostgreSQL 15 (scripts/postgres start DIR/postgres, with TLS when the cluster
# is TLS) and N information servers (default 2) running configs/info-postgres.toml
# (info-postgres + auth-postgres), each with its own server id (info-1 ... info-N), port, state
# dir (DIR/info-K: its audit log), certificate, broker user and event key (every info server's
# public key is in DIR/keys/trusted-by-fs, so the file servers apply the tokens each one
# announces). They share the catalog, the users, the user tokens and the login throttle.
# cluster.env then has DFD_SERVER = the N URLs comma-separated (what `dfd` fails over between),
# DFD_INFO_URLS, DFD_INFO_IDS, DFD_INFO_PIDS, DFD_INFO_LOGS, DFD_INFO_STATE_DIRS (space-separated,
# in the same order), DFD_INFO_PID/LOG/STATE_DIR of info-1, and DFD_PG_DSN, DFD_PG_PASSWORD_FILE,
# DFD_PG_PORT, DFD_PG_PID, DFD_PG_DIR. `down` stops the info servers, then PostgreSQL; `status`
# lists each info server and PostgreSQL.
#
# Needs from scripts/cluster: DIR, REPO, TLS, SCHEME, TIMEOUT, CURL_TLS, say, die, show_log_tail,
# start_host, host_env, config_of, http_code, json, ours, up_or_down, status_row, STARTED_PIDS.
# Sets INFO_NAMES, INFO_URLS, INFO_PIDS, INFO_LOGS, INFO_DIRS, INFO_CONFIG (also in the
# one-info-server mode, by info_single).

POSTGRES=0
INFO_SERVERS=""
INFO_NAMES=()
INFO_URLS=()
INFO_PIDS=()
INFO_LOGS=()
INFO_DIRS=()
INFO_CONFIG=""

# pg_check_options: after option parsing; --info-servers needs --postgres; default 2.
pg_check_options() {
  if [ "$POSTGRES" = 0 ]; then
    [ -z "$INFO_SERVERS" ] || die "--info-servers needs --postgres (the info servers share it)"
    return 0
  fi
  INFO_SERVERS=${INFO_SERVERS:-2}
  [[ $INFO_SERVERS =~ ^[1-9][0-9]?$ ]] || die "--info-servers takes 1 to 99, not '$INFO_SERVERS'"
}

# info_hosts: the names of the information servers (certificates, keys, broker users).
info_hosts() {
  if [ "$POSTGRES" = 0 ]; then
    echo info
    return
  fi
  local k
  for ((k = 1; k <= INFO_SERVERS; k++)); do echo "info-$k"; done
}

# info_ports_needed: how many loopback ports the information servers take.
info_ports_needed() { if [ "$POSTGRES" = 0 ]; then echo 1; else echo "$INFO_SERVERS"; fi; }

# pg_reset_dir: forget the state of an earlier run (a fresh database every `up`).
pg_reset_dir() {
  local d
  rm -rf "$DIR/postgres-start.log"
  if [ -f "$DIR/postgres/postgres.env" ]; then "$REPO/scripts/postgres" stop "$DIR/postgres" >/dev/null 2>&1 || true; fi
  rm -rf "$DIR/postgres"
  for d in "$DIR"/info-[0-9]*; do [ ! -d "$d" ] || rm -rf "$d"; done
}

# pg_start: PostgreSQL under DIR/postgres; exports its DFD_PG_* variables.
pg_start() {
  local args=()
  [ "$TLS" = 0 ] || args=(--tls "$DIR/pki")
  say "starting PostgreSQL (scripts/postgres start $DIR/postgres ${args[*]})"
  "$REPO/scripts/postgres" start "$DIR/postgres" "${args[@]}" >"$DIR/postgres-start.log" 2>&1 || {
    show_log_tail "$DIR/postgres-start.log"
    die "PostgreSQL did not start"
  }
  # shellcheck disable=SC1091
  source "$DIR/postgres/postgres.env"
  if [ -z "${DFD_PG_DSN:-}" ] || [ -z "${DFD_PG_PASSWORD_FILE:-}" ]; then
    die "scripts/postgres wrote no DFD_PG_DSN / DFD_PG_PASSWORD_FILE in $DIR/postgres/postgres.env"
  fi
}

# pg_stop: stops the PostgreSQL of DIR, if any (by its PID, through scripts/postgres).
pg_stop() {
  [ -f "$DIR/postgres/postgres.env" ] || return 0
  "$REPO/scripts/postgres" stop "$DIR/postgres" >/dev/null 2>&1 || true
  say "stopped PostgreSQL"
}

# info_start_one NAME PORT CONFIG STATE_DIR EMAIL PASSWORD VAR=VALUE...: starts one information
# server and records it in the INFO_* arrays.
info_start_one() {
  local name=$1 port=$2 config=$3 state=$4 email=$5 password=$6 env_lines pid
  shift 6
  local log=$DIR/logs/$name.log
  mkdir -p "$state"
  mapfile -t env_lines < <(host_env "$name")
  say "starting info server $name on 127.0.0.1:$port"
  pid=$(start_host "$name" "$config" "$log" "${env_lines[@]}" "$@" \
    DFD_SERVER_ID="$name" DFD_CONTROL_LISTEN="127.0.0.1:$port" DFD_STATE_DIR="$state" \
    DFD_ADMIN_EMAIL="$email" DFD_ADMIN_PASSWORD="$password" \
    DFD_LOG_LEVEL="${DFD_LOG_LEVEL:-info}")
  STARTED_PIDS+=("$pid")
  INFO_NAMES+=("$name")
  INFO_URLS+=("$SCHEME://127.0.0.1:$port")
  INFO_PIDS+=("$pid")
  INFO_LOGS+=("$log")
  INFO_DIRS+=("$state")
}

# info_wait_healthy I: waits until information server I answers /healthz 200 (dies otherwise).
info_wait_healthy() {
  local i=$1 deadline=$((SECONDS + TIMEOUT))
  while [ "$(http_code "${INFO_URLS[$i]}/healthz")" != 200 ]; do
    if ! kill -0 "${INFO_PIDS[$i]}" 2>/dev/null; then
      show_log_tail "${INFO_LOGS[$i]}"
      die "${INFO_NAMES[$i]} (pid ${INFO_PIDS[$i]}) exited during start"
    fi
    if [ $SECONDS -ge $deadline ]; then
      show_log_tail "${INFO_LOGS[$i]}"
      die "${INFO_NAMES[$i]}: ${INFO_URLS[$i]}/healthz did not answer 200 within ${TIMEOUT}s"
    fi
    sleep 0.2
  done
}

# info_start EMAIL PASSWORD PORT...: the information servers, one port each. One server on
# configs/info.toml (SQLite) without --postgres; with it PostgreSQL first, then info-1 alone
# (it migrates the schema and creates the admin user), then the others at once.
info_start() {
  local email=$1 password=$2
  shift 2
  local ports=("$@") k
  if [ "$POSTGRES" = 0 ]; then
    INFO_CONFIG=$(config_of info)
    info_start_one info "${ports[0]}" "$INFO_CONFIG" "$DIR/info" "$email" "$password"
    return
  fi
  [ -f "$REPO/configs/info-postgres.toml" ] ||
    die "configs/info-postgres.toml is missing: this checkout has no info-postgres yet"
  local so
  for so in info-postgres auth-postgres; do
    [ -f "$BUILD_DIR/plugins/libdfd-$so.so" ] || die "$BUILD_DIR/plugins/libdfd-$so.so is missing: build it first"
  done
  pg_start
  INFO_CONFIG=$(config_of info-postgres)
  local pg_env=(DFD_PG_DSN="$DFD_PG_DSN" DFD_PG_PASSWORD_FILE="$DFD_PG_PASSWORD_FILE")
  info_start_one info-1 "${ports[0]}" "$INFO_CONFIG" "$DIR/info-1" "$email" "$password" "${pg_env[@]}"
  info_wait_healthy 0
  for ((k = 2; k <= INFO_SERVERS; k++)); do
    info_start_one "info-$k" "${ports[$((k - 1))]}" "$INFO_CONFIG" "$DIR/info-$k" "$email" "$password" "${pg_env[@]}"
  done
}

# info_wait_catalogs TOKEN: with several information servers, waits until each lists as many
# files as the first (what `up` checked in detail) with the user token TOKEN (valid on all).
info_wait_catalogs() {
  [ ${#INFO_URLS[@]} -gt 1 ] || return 0
  local token=$1 want n i deadline=$((SECONDS + TIMEOUT))
  local auth=(-H "Authorization: Bearer $token")
  want=$(curl "${CURL_TLS[@]}" -s --max-time 5 "${auth[@]}" "${INFO_URLS[0]}/v1/files?limit=1" | json 'print(d["total"])' || true)
  [ -n "$want" ] || die "${INFO_NAMES[0]} lists no catalog at ${INFO_URLS[0]}/v1/files"
  for i in "${!INFO_URLS[@]}"; do
    while :; do
      n=$(curl "${CURL_TLS[@]}" -s --max-time 5 "${auth[@]}" "${INFO_URLS[$i]}/v1/files?limit=1" | json 'print(d["total"])' || true)
      [ "$n" != "$want" ] || break
      if [ $SECONDS -ge $deadline ]; then
        show_log_tail "${INFO_LOGS[$i]}"
        die "${INFO_NAMES[$i]} lists ${n:-no} files, ${INFO_NAMES[0]} $want (after ${TIMEOUT}s)"
      fi
      sleep 0.5
    done
  done
  say "every info server (${INFO_NAMES[*]}) lists the $want files, with the same user token"
}

# info_server_list: what clients get as DFD_SERVER (the URLs comma-separated).
info_server_list() {
  local IFS=,
  echo "${INFO_URLS[*]}"
}

# info_cluster_env: the cluster.env lines of the information servers and PostgreSQL.
info_cluster_env() {
  printf 'export DFD_SERVER=%q\n' "$(info_server_list)"
  printf 'export DFD_INFO_PID=%q\n' "${INFO_PIDS[0]}"
  printf 'export DFD_INFO_CONFIG=%q\n' "$INFO_CONFIG"
  printf 'export DFD_INFO_LOG=%q\n' "${INFO_LOGS[0]}"
  printf 'export DFD_INFO_STATE_DIR=%q\n' "${INFO_DIRS[0]}"
  printf 'export DFD_INFO_IDS=%q\n' "${INFO_NAMES[*]}"
  printf 'export DFD_INFO_URLS=%q\n' "${INFO_URLS[*]}"
  printf 'export DFD_INFO_PIDS=%q\n' "${INFO_PIDS[*]}"
  printf 'export DFD_INFO_LOGS=%q\n' "${INFO_LOGS[*]}"
  printf 'export DFD_INFO_STATE_DIRS=%q\n' "${INFO_DIRS[*]}"
  if [ "$POSTGRES" = 1 ]; then
    local v
    for v in DFD_PG_DSN DFD_PG_PASSWORD_FILE DFD_PG_PORT DFD_PG_PID DFD_PG_DIR; do
      printf 'export %s=%q\n' "$v" "${!v:-}"
    done
  else
    echo 'unset DFD_PG_DSN DFD_PG_PASSWORD_FILE DFD_PG_PORT DFD_PG_PID DFD_PG_DIR'
  fi
}

# info_stop_args: NAME:PID arguments of stop_pids for the information servers of cluster.env.
info_stop_args() {
  local pid ids i=0
  read -r -a ids <<<"${DFD_INFO_IDS:-info}"
  for pid in ${DFD_INFO_PIDS:-${DFD_INFO_PID:-}}; do
    echo "${ids[$i]:-info-server}:$pid"
    i=$((i + 1))
  done
}

# info_status: one status row per information server and one for PostgreSQL (after cluster.env
# was sourced; status_row of scripts/cluster); returns 1 when one of them is not running.
info_status() {
  local bad=0 i state ids urls pids
  read -r -a ids <<<"${DFD_INFO_IDS:-info}"
  read -r -a urls <<<"${DFD_INFO_URLS:-$DFD_SERVER}"
  read -r -a pids <<<"${DFD_INFO_PIDS:-$DFD_INFO_PID}"
  for i in "${!pids[@]}"; do
    state=$(up_or_down "${pids[$i]}")
    [ "$state" = up ] || bad=1
    status_row "${ids[$i]}" "$state" "${pids[$i]}" "$(http_code "${urls[$i]}/healthz")" "${urls[$i]}"
  done
  if [ -n "${DFD_PG_DIR:-}" ]; then
    if "$REPO/scripts/postgres" status "$DFD_PG_DIR" >/dev/null 2>&1; then state=up; else
      state=down
      bad=1
    fi
    status_row postgres "$state" "${DFD_PG_PID:-}" - "${DFD_PG_DSN:-}"
  fi
  return $bad
}

# shellcheck shell=bash disable=SC2034
# Shared by bench/run and bench/cases/*.sh (sourced, not run). What a case gets from bench/run:
#   REPO, DFD_BUILD_DIR, BENCH_QUICK (1 or 0), BENCH_RUNS (timed runs per side), BENCH_WORK (a
#   private directory for this case, removed afterwards), BENCH_CASEFILE (the case's JSON, written
#   through `results`), BENCH_TIMEOUT (seconds any one command may take), and the cluster the case
#   names in its header (`# BENCH_CLUSTER=loopback`: CLUSTER_ENV; `# BENCH_CLUSTER=zones`:
#   ZONES_ENV, BENCH_LINKS; see bench/lib/clusters.sh).
# A case sets CASE_ID and CASE_TITLE, then calls the helpers below. Everything a helper starts is
# added to BENCH_PIDS; bench_stop_all (the case's EXIT trap, set by bench_case_init) stops it.

BENCH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${REPO:-$(cd "$BENCH_LIB/../.." && pwd)}
DFD_BUILD_DIR=${DFD_BUILD_DIR:-$REPO/build}
DFD=$DFD_BUILD_DIR/bin/dfd
BENCH_QUICK=${BENCH_QUICK:-0}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
BENCH_PIDS=()

# pick QUICK FULL: the value for this run's mode.
pick() { if [ "$BENCH_QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi; }

bench_say() { echo "[$CASE_ID] $*"; }
bench_die() {
  echo "[$CASE_ID] error: $*" >&2
  exit 1
}

# results SUBCOMMAND ARGS...: bench/lib/results.py on this case's file.
results() {
  local cmd=$1
  shift
  python3 "$BENCH_LIB/results.py" "$cmd" "$BENCH_CASEFILE" --case "$CASE_ID" --title "$CASE_TITLE" "$@"
}

# bench_skip REASON: the case reports "skipped: REASON" (never a number) and ends.
bench_skip() {
  bench_say "skipped: $1"
  results skip --reason "$1"
  exit 0
}

bench_stop_all() {
  local p
  for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  BENCH_PIDS=()
}

bench_case_init() {
  [ -n "${BENCH_CASEFILE:-}" ] || bench_die "run me through bench/run"
  mkdir -p "$BENCH_WORK"
  chmod 755 "$BENCH_WORK"
  trap bench_stop_all EXIT
  results note --command "${1:-}"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

bytes_of() { numfmt --from=iec "$1"; }

now() { date +%s.%N; }

# since T0: seconds from T0 (a `now`) until now, 3 decimals.
since() { printf '%.3f\n' "$(echo "$(now) - $1" | bc -l)"; }

# human BYTES: "64 MiB", "1 GiB", "64 KiB".
human() { numfmt --to=iec-i --suffix=B "$1" | sed 's/\.0\([KMGT]\)/\1/; s/\([0-9]\)\([KMGT]\)/\1 \2/'; }

# mib_s BYTES "SECONDS ...": MiB/s for each duration, space-separated.
mib_s() {
  python3 -c 'import sys; b=float(sys.argv[1]); print(" ".join("%.3f" % (b / 1048576 / float(s)) for s in " ".join(sys.argv[2:]).split()))' "$@"
}

# nginx_start ROOT [PREFIX_DIR]: one nginx (1 worker, sendfile on) serving ROOT on a free loopback
# port; sets NGINX_URL (not run in $(...): its PID must reach BENCH_PIDS). Files must be
# world-readable (the workers run as nobody).
nginx_start() {
  local root=$1 n=${2:-$BENCH_WORK/nginx-$RANDOM} port
  port=$(free_port)
  mkdir -p "$n/tmp"
  cat >"$n/nginx.conf" <<EOF
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $n/tmp/body;
  proxy_temp_path $n/tmp/proxy;
  fastcgi_temp_path $n/tmp/fastcgi;
  uwsgi_temp_path $n/tmp/uwsgi;
  scgi_temp_path $n/tmp/scgi;
  server { listen 127.0.0.1:$port; root $root; }
}
EOF
  nginx -p "$n" -c "$n/nginx.conf" -g 'daemon off;' >"$n/stdout.log" 2>&1 &
  BENCH_PIDS+=($!)
  local _
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.05
  done
  NGINX_URL=http://127.0.0.1:$port
}

# cluster_login: USER_TOKEN for the shared cluster's demo user (CLUSTER_ENV sourced first).
cluster_login() {
  local body
  body=$(E="$DFD_DEMO_EMAIL" P="$DFD_DEMO_PASSWORD" python3 -c 'import json,os; print(json.dumps({"email": os.environ["E"], "password": os.environ["P"]}))')
  USER_TOKEN=$(curl -fsS --max-time 10 -X POST "$DFD_SERVER/v1/auth/login" -H 'Content-Type: application/json' --data "$body" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  printf '%s\n' "$DFD_DEMO_PASSWORD" | XDG_CONFIG_HOME=${XDG_CONFIG_HOME:-$BENCH_WORK/config} "$DFD" --server "$DFD_SERVER" login \
    --email "$DFD_DEMO_EMAIL" --password-stdin >/dev/null
}

# shared_sample NAME: the shared cluster's sample NAME (big.bin, odd.bin, ...), logged in
# (XDG_CONFIG_HOME in BENCH_WORK) and served by three nginx as well. Sets id, file, size, digest,
# copies (the file servers' copies of it) and urls (three nginx URLs of the same bytes).
shared_sample() {
  # shellcheck disable=SC1090
  source "$CLUSTER_ENV"
  unset DFD_CA_BUNDLE
  export XDG_CONFIG_HOME=$BENCH_WORK/config
  cluster_login
  id=$(file_id "$1")
  file=$DFD_SAMPLE_DIR/$1
  size=$(stat -c %s "$file")
  digest=$(sha256sum "$file" | cut -d' ' -f1)
  chmod a+r "$file"
  urls=()
  local _ roots
  for _ in 1 2 3; do
    nginx_start "$DFD_SAMPLE_DIR"
    urls+=("$NGINX_URL/$1")
  done
  read -r -a roots <<<"$DFD_STORAGE_ROOTS"
  copies=("${roots[@]/%//$1}")
}

# file_id NAME: the catalog id of the sample NAME.
file_id() {
  curl -fsS --max-time 10 -H "Authorization: Bearer $USER_TOKEN" "$DFD_SERVER/v1/files?limit=1000" |
    python3 -c 'import json,sys
for f in json.load(sys.stdin)["files"]:
    if f["name"] == sys.argv[1]: print(f["id"]); break' "$1"
}

# manifest ID OUT [N]: a fresh manifest (with its download token) of file ID into OUT, keeping only
# its first N locations (default all).
manifest() {
  curl -fsS --max-time 10 -H "Authorization: Bearer $USER_TOKEN" "$DFD_SERVER/v1/files/$1" |
    python3 -c 'import json,sys
m = json.load(sys.stdin)
n = int(sys.argv[2])
if n > 0:
    m["locations"] = m["locations"][:n]
json.dump(m, open(sys.argv[1], "w"))' "$2" "${3:-0}"
}

# json_get FILE EXPR: evaluates EXPR with the JSON document as d (e.g. 'd["size"]').
json_get() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(" ".join(map(str, v)) if isinstance(v, list) else v)' "$1" "$2"
}

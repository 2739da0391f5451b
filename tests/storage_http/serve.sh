#!/usr/bin/env bash
# storage_http.serve: a real file server (an all-in-one dfd-host: info-sqlite, auth, broker-local,
# digest-openssl and storage-http with an EMPTY cache) in front of a real nginx origin.
#  1. the host indexes the origin's files from its index without pulling them (no 206 at the
#     origin, dfd_index_files_known_total = 3) and a verified `dfd get` of a 6-chunk file works;
#  2. a chunk tampered at the origin (same size) of a file not yet cached is refused: the get
#     fails, the bad bytes land nowhere, the chunk is not cached, verify failures are counted;
#  3. with nginx stopped, a second get works from the cache, and so does one after a restart of
#     the host with nginx still stopped.
source "$(dirname "$0")/../deploy/lib.sh"
need_build
ORIGIN_SH=$SRC_DIR/tests/storage_http/nginx_origin.sh
O=$T/origin
mkdir -p "$O/www" "$T/out" "$T/state"
chmod 0755 "$T"

head -c $((5 * 1048576 + 123)) /dev/urandom >"$O/www/multi.bin"
head -c $((2 * 1048576)) /dev/urandom >"$O/www/second.bin"
head -c $((3 * 1048576)) /dev/urandom >"$O/www/tamper.bin"
"$HOST" index --root "$O/www" --output "$O/www/index.json" --chunk-size 1MiB 2>"$T/index.log" ||
  fail "dfd-host index: $(cat "$T/index.log")"
pass "dfd-host index: $(cat "$T/index.log")"

read -r oport cport dport < <(free_ports 3)
CLEANUPS+=("$ORIGIN_SH stop $O")
"$ORIGIN_SH" start "$O" "$oport"

cat >"$T/host.toml" <<TOML
[server]
id = "fs-http"
zone = "zone-a"
listen = "127.0.0.1:$cport"
state_dir = "$T/state"
log_level = "info"
[content]
listen = "127.0.0.1:$dport"
chunk_size = 1048576
digest = "sha256"
auth = "auth-hmac"
token_wait_ms = 0
rescan_interval_s = 0
heartbeat_interval_ms = 1000
[[plugin]]
name = "digest-openssl"
[[plugin]]
name = "storage-http"
origin = "http://127.0.0.1:$oport/"
index = "index.json"
cache_dir = "$T/cache"
cache_max_bytes = 104857600
timeout_ms = 3000
index_refresh_s = 0
[[plugin]]
name = "auth-sqlite"
db = "$T/state/auth.db"
kdf_iterations = 1000
[[plugin]]
name = "auth-hmac"
key_file = "$T/state/hmac.key"
create_key = true
[[plugin]]
name = "broker-local"
[[plugin]]
name = "info-sqlite"
db = "$T/state/catalog.db"
auth = "auth-sqlite"
download_auth = "auth-hmac"
admin_email = "solo@dfd.local"
admin_password_env = "DFD_ADMIN_PASSWORD"
heartbeat_timeout_ms = 6000
TOML

PASSWORD=$(openssl rand -hex 12)
export DFD_ADMIN_PASSWORD=$PASSWORD DFD_SERVER=http://127.0.0.1:$cport XDG_CONFIG_HOME=$T/xdg
HOST_PID=
start_host() {
  "$HOST" --config "$T/host.toml" </dev/null >>"$T/host.log" 2>&1 &
  HOST_PID=$!
  CLEANUPS+=("kill -KILL $HOST_PID 2>/dev/null")
  wait_healthz "$DFD_SERVER" "$HOST_PID" "$T/host.log" "the storage-http file server"
}
metric() { curl -s --max-time 10 "$DFD_SERVER/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
origin_ranges() { grep -c '^206 ' "$O/access.log" || true; }
get() { # get NAME OUT: a verified download; its report in OUT.log
  local id
  id=$(file_id "$1")
  "$DFD" get "$id" -o "$2" --no-progress --json >"$2.log" 2>&1
}

start_host
printf '%s\n' "$PASSWORD" | "$DFD" login --email solo@dfd.local --password-stdin >/dev/null ||
  fail "dfd login"
wait_listed "$T/ls.txt" multi.bin second.bin tamper.bin

# 1. Indexed from the origin's index, not from its bytes.
[ "$(origin_ranges)" = 0 ] || fail "the host pulled ranges at index time: $(grep '^206 ' "$O/access.log")"
[ "$(metric dfd_index_files_known_total)" = 3 ] ||
  fail "dfd_index_files_known_total = $(metric dfd_index_files_known_total), want 3"
[ "$(metric dfd_storage_http_origin_bytes_total)" = 0 ] || fail "origin bytes before any get"
pass "indexed 3 files from the origin's index, no byte pulled (origin: $(wc -l <"$O/access.log") requests)"
get multi.bin "$T/out/multi.bin" || fail "dfd get multi.bin: $(cat "$T/out/multi.bin.log")"
cmp -s "$T/out/multi.bin" "$O/www/multi.bin" || fail "multi.bin differs from the origin's"
[ "$(origin_ranges)" = 6 ] || fail "$(origin_ranges) range requests at the origin, want 6 (one per chunk)"
[ "$(metric dfd_storage_http_origin_bytes_total)" = $((5 * 1048576 + 123)) ] ||
  fail "origin bytes $(metric dfd_storage_http_origin_bytes_total)"
pass "verified get of a 6-chunk file from an empty cache: one range request per chunk"

# 2. A tampered chunk (same size) of a file not yet cached.
chunk1=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next(f["chunks"][1] for f in d["files"] if f["name"]=="tamper.bin"))' "$O/www/index.json")
python3 -c 'import sys; sys.stdout.write(("TAMPERED" * 8192)[:65536])' |
  dd of="$O/www/tamper.bin" bs=65536 seek=20 conv=notrunc status=none # inside chunk 1
[ "$(stat -c %s "$O/www/tamper.bin")" = $((3 * 1048576)) ] || fail "tampering changed the size"
if get tamper.bin "$T/out/tamper.bin"; then fail "a get of a tampered file succeeded"; fi
[ ! -e "$T/out/tamper.bin" ] || fail "the tampered file was written to its destination"
if grep -rlq TAMPERED "$T/out" "$T/cache"; then fail "tampered bytes landed in $(grep -rl TAMPERED "$T/out" "$T/cache")"; fi
[ ! -e "$T/cache/chunks/sha256-$chunk1" ] || fail "the tampered chunk's slot is in the cache"
[ "$(metric dfd_storage_http_verify_failures_total)" -ge 1 ] || fail "no verification failure counted"
grep -q "'tamper.bin' chunk 1: the origin's bytes do not match" "$T/host.log" ||
  fail "the host log does not name the file and chunk"
pass "tampered chunk refused: get failed ($(tail -c 200 "$T/out/tamper.bin.log" | tr '\n' ' ')), nothing kept"

# 3. The origin gone: from the cache, and after a restart.
"$ORIGIN_SH" stop "$O"
get multi.bin "$T/out/multi2.bin" || fail "dfd get with nginx stopped: $(cat "$T/out/multi2.bin.log")"
cmp -s "$T/out/multi2.bin" "$O/www/multi.bin" || fail "multi.bin (origin stopped) differs"
pass "verified get with nginx stopped, from the cache"
stop_host "$HOST_PID" "dfd-host"
start_host
wait_listed "$T/ls2.txt" multi.bin
grep -q "kept" "$T/host.log" || fail "the restarted host did not say it serves the kept index"
get multi.bin "$T/out/multi3.bin" || fail "dfd get after a restart without the origin: $(cat "$T/out/multi3.bin.log")"
cmp -s "$T/out/multi3.bin" "$O/www/multi.bin" || fail "multi.bin (after restart) differs"
pass "restart with nginx still stopped: the kept index and the cache serve a verified get"
stop_host "$HOST_PID" "dfd-host"

#!/usr/bin/env bash
# configs/all-in-one.toml alone (no RabbitMQ): one dfd-host serves login, catalog and content;
# dfd login + ls + get works against it and the download matches the source file; content
# without a token is 401; SIGTERM stops it with exit 0.
source "$(dirname "$0")/lib.sh"
need_build

read -r cport dport < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
mkdir -p "$T/state" "$T/files"
"$SRC_DIR/scripts/cluster" samples "$T/files" --sample-size 3M >/dev/null
password=$(openssl rand -hex 12)
env DFD_STATE_DIR="$T/state" DFD_STORAGE_ROOT="$T/files" \
  DFD_CONTROL_LISTEN="127.0.0.1:$cport" DFD_CONTENT_LISTEN="127.0.0.1:$dport" \
  DFD_PUBLIC_URL="http://127.0.0.1:$dport" DFD_ADMIN_EMAIL=solo@dfd.local DFD_ADMIN_PASSWORD="$password" \
  "$HOST" --config "$SRC_DIR/configs/all-in-one.toml" </dev/null >"$T/host.log" 2>&1 &
host_pid=$!
CLEANUPS+=("kill -KILL $host_pid 2>/dev/null")
export DFD_SERVER=http://127.0.0.1:$cport XDG_CONFIG_HOME=$T/xdg

for _ in $(seq 1 300); do
  [ "$(http_code "$DFD_SERVER/healthz")" = 200 ] && break
  kill -0 $host_pid 2>/dev/null || {
    cat "$T/host.log" >&2
    fail "dfd-host exited during start"
  }
  sleep 0.1
done
[ "$(http_code "$DFD_SERVER/healthz")" = 200 ] || {
  tail -n 30 "$T/host.log" >&2
  fail "/healthz of the all-in-one host is not 200"
}
pass "all-in-one host healthy"

printf '%s\n' "$password" | "$DFD" login --email solo@dfd.local --password-stdin || fail "dfd login"
# The catalog fills from the content role's events on broker-local.
ok=0
for _ in $(seq 1 150); do
  if "$DFD" ls >"$T/ls.txt" 2>&1 && grep -q big.bin "$T/ls.txt" && grep -q odd.bin "$T/ls.txt"; then
    ok=1
    break
  fi
  sleep 0.2
done
[ $ok = 1 ] || {
  cat "$T/ls.txt" >&2
  fail "dfd ls does not list the sample files"
}
pass "dfd login + ls"

for f in big.bin small.bin; do
  id=$(file_id "$f")
  "$DFD" get "$id" -o "$T/got-$f" --no-progress >"$T/get-$f.log" 2>&1 || {
    cat "$T/get-$f.log" >&2
    fail "dfd get $id ($f)"
  }
  cmp -s "$T/got-$f" "$T/files/$f" || fail "$f differs from the source"
  pass "dfd get $f matches the source file"
done

uid=$(sha256sum <"$T/files/big.bin" | cut -d' ' -f1)
code=$(http_code "http://127.0.0.1:$dport/v1/content/$uid")
[ "$code" = 401 ] || fail "content without a token: $code, want 401"
pass "content without a token is 401"

kill -TERM $host_pid
for _ in $(seq 1 150); do kill -0 $host_pid 2>/dev/null || break; sleep 0.1; done
kill -0 $host_pid 2>/dev/null && kill -KILL $host_pid
if wait $host_pid; then rc=0; else rc=$?; fi
[ $rc = 0 ] || fail "dfd-host exited $rc after SIGTERM, want 0"
pass "SIGTERM: exit 0"

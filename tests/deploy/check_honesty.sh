#!/usr/bin/env bash
# Issue 14, config honesty: `dfd-host --check` has no side effects yet refuses what a start would.
# 1. Every config in configs/ passes --check with its state_dir missing, and again with it empty;
#    the file tree of the deployment (state, storage, keys, TLS, secrets) is the same before and
#    after: no state_dir, database, key file or audit log is created. The PostgreSQL config
#    points at a closed port: --check opens no database connection.
# 2. What a plugin or the data plane would refuse at start fails --check (exit 1) with file:line
#    and key: [content] digest = "md5"; an info plugin's download_auth naming no listed plugin;
#    an audit_log or an index_db below a regular file. The md5 config fails a real start the
#    same way.
# 3. `dfd-host` without --config prints its usage and exits 2.
# 4. configs/fileserver-a.toml with only [content] listen changed (DFD_CONTENT_LISTEN) advertises
#    the new port: /healthz's content.url is https://127.0.0.1:<that port> (no RabbitMQ needed: the
#    broker only warns that it is unreachable).
source "$(dirname "$0")/lib.sh"
[ -x "$HOST" ] || fail "$HOST is missing (build the dfd-host target)"

D=$T/deploy # everything a deployment mounts; its tree is compared around every --check
mkdir -p "$D" "$T/out"
deployment_files "$D"

# run_check NAME CONFIG [ARGS...]: dfd-host --config CONFIG ARGS with the deployment's variables;
# state in $D/NAME/state, storage in $D/NAME/files; output in $T/out/NAME.txt.
run_check() {
  local name=$1 cfg=$2
  shift 2
  env DFD_STATE_DIR="$D/$name/state" DFD_STORAGE_ROOT="$D/$name/files" \
    DFD_TLS_CERT="$D/pki/server.pem" DFD_TLS_KEY="$D/pki/server.key" \
    DFD_AMQP_URL="amqps://fs@127.0.0.1:$CLOSED_PORT/" \
    DFD_AMQP_CA_FILE="$D/pki/ca.pem" DFD_AMQP_PASSWORD_FILE="$D/secrets/amqp-password" \
    DFD_EVENTS_DIR="$D/keys" DFD_PG_DSN="postgresql://dfd@127.0.0.1:$CLOSED_PORT/dfd" \
    DFD_PG_PASSWORD_FILE="$D/secrets/pg-password" DFD_ADMIN_PASSWORD=check-only \
    "$HOST" --config "$cfg" "$@" >"$T/out/$name.txt" 2>&1 </dev/null
}

# The tree: path, type, size, mode and mtime of every entry (a file made and removed again still
# changes its directory's mtime).
snapshot() { (cd "$D" && find . -printf '%p %y %s %m %T@\n' | LC_ALL=C sort); }

# 1. No side effects, every shipped config, with the state_dir missing and then empty.
n=0
for cfg in "$SRC_DIR"/configs/*.toml; do
  name=$(basename "$cfg" .toml)
  mkdir -p "$D/$name/files"
  for state in missing empty; do
    [ "$state" = empty ] && mkdir -p "$D/$name/state"
    before=$(snapshot)
    run_check "$name" "$cfg" --check || {
      cat "$T/out/$name.txt" >&2
      fail "dfd-host --config configs/$name.toml --check (state_dir $state) exited non-zero"
    }
    grep -q '^config OK$' "$T/out/$name.txt" || fail "configs/$name.toml: no 'config OK'"
    after=$(snapshot)
    if [ "$before" != "$after" ]; then
      diff <(echo "$before") <(echo "$after") >&2 || true
      fail "--check of configs/$name.toml (state_dir $state) changed the file tree (diff above)"
    fi
    pass "configs/$name.toml --check, state_dir $state: nothing created"
  done
  n=$((n + 1))
done
[ $n -ge 5 ] || fail "expected at least 5 configs in configs/, found $n"

# 2. Refused by --check with file:line and key. expect_refusal NAME CONFIG KEY TEXT: --check
# exits 1 and its message starts with CONFIG:<line of KEY in CONFIG>: and holds TEXT.
expect_refusal() {
  local name=$1 cfg=$2 key=$3 text=$4 line rc=0
  line=$(grep -n "^$key = " "$cfg" | cut -d: -f1)
  [ -n "$line" ] || fail "$cfg has no '$key = ' line"
  mkdir -p "$D/$name/files"
  before=$(snapshot)
  run_check "$name" "$cfg" --check || rc=$?
  [ "$rc" = 1 ] || {
    cat "$T/out/$name.txt" >&2
    fail "$name: --check exited $rc, expected 1"
  }
  if ! grep -qF -- "$cfg:$line: " "$T/out/$name.txt" || ! grep -qF -- "'$key'" "$T/out/$name.txt" ||
    ! grep -qF -- "$text" "$T/out/$name.txt"; then
    cat "$T/out/$name.txt" >&2
    fail "$name: the message does not name $cfg:$line, key '$key' and '$text'"
  fi
  [ "$before" = "$(snapshot)" ] || fail "$name: the refused --check changed the file tree"
  pass "$name: --check refuses it: $(grep '^dfd-host: ' "$T/out/$name.txt")"
}
aio=$SRC_DIR/configs/all-in-one.toml
sed 's/^digest = "sha256"/digest = "md5"/' "$aio" >"$T/md5.toml"
expect_refusal md5 "$T/md5.toml" digest "'md5' is not offered by digest-openssl"
sed 's/^download_auth = "auth-hmac"/download_auth = "auth-hmacc"/' "$aio" >"$T/dl-auth.toml"
expect_refusal dl-auth "$T/dl-auth.toml" download_auth "no auth plugin named 'auth-hmacc'"
touch "$D/a-file"
sed -e '/^audit_log = /d' -e "s|^download_auth = \"auth-hmac\"|&\naudit_log = \"$D/a-file/audit.log\"|" \
  "$aio" >"$T/audit.toml"
expect_refusal audit "$T/audit.toml" audit_log "is not a directory"
sed "s|^index_db = .*|index_db = \"$D/a-file/index.db\"|" "$aio" >"$T/index.toml"
expect_refusal index "$T/index.toml" index_db "is not a directory"

# A start refuses the md5 config the same way, before anything is bound (bounded: a start that
# does not refuse it serves until the timeout).
rc=0
timeout 60 env DFD_CONTROL_LISTEN=127.0.0.1:0 DFD_CONTENT_LISTEN=127.0.0.1:0 \
  DFD_STATE_DIR="$T/md5-start/state" DFD_STORAGE_ROOT="$D/md5/files" DFD_ADMIN_PASSWORD=x \
  "$HOST" --config "$T/md5.toml" >"$T/out/md5-start.txt" 2>&1 </dev/null || rc=$?
want="$T/md5.toml:$(grep -n '^digest = ' "$T/md5.toml" | cut -d: -f1): [content] key 'digest'"
if [ "$rc" != 1 ] || ! grep -qF "$want" "$T/out/md5-start.txt"; then
  cat "$T/out/md5-start.txt" >&2
  fail "a start with digest = \"md5\" exited $rc without '$want'"
fi
pass "a start with digest = \"md5\" fails with the same message"

# 3. No --config: usage, exit 2.
rc=0
"$HOST" >"$T/out/noargs.txt" 2>&1 </dev/null || rc=$?
[ "$rc" = 2 ] || fail "dfd-host without arguments exited $rc, expected 2"
grep -q 'Usage: dfd-host' "$T/out/noargs.txt" || {
  cat "$T/out/noargs.txt" >&2
  fail "dfd-host without arguments printed no usage"
}
rc=0
"$HOST" --check >/dev/null 2>&1 </dev/null || rc=$?
[ "$rc" = 2 ] || fail "dfd-host --check without --config exited $rc, expected 2"
pass "dfd-host without --config: usage, exit 2"

# 4. configs/fileserver-a.toml with only the data-plane listen changed advertises that port.
read -r cport dport < <(free_ports 2)
mkdir -p "$D/fs-a-run/files" "$D/fs-a-run/state"
env DFD_STATE_DIR="$D/fs-a-run/state" DFD_STORAGE_ROOT="$D/fs-a-run/files" \
  DFD_CONTROL_LISTEN="127.0.0.1:$cport" DFD_CONTENT_LISTEN="127.0.0.1:$dport" \
  DFD_TLS_CERT="$D/pki/server.pem" DFD_TLS_KEY="$D/pki/server.key" \
  DFD_AMQP_URL="amqps://fs-a@127.0.0.1:$CLOSED_PORT/" \
  DFD_AMQP_CA_FILE="$D/pki/ca.pem" DFD_AMQP_PASSWORD_FILE="$D/secrets/amqp-password" \
  DFD_EVENTS_DIR="$D/keys" \
  "$HOST" --config "$SRC_DIR/configs/fileserver-a.toml" >"$T/out/fs-a.log" 2>&1 </dev/null &
host_pid=$!
CLEANUPS+=("kill -KILL $host_pid 2>/dev/null")
url=
for _ in $(seq 1 300); do
  url=$(curl -s --max-time 5 --cacert "$D/pki/ca.pem" "https://127.0.0.1:$cport/healthz" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["content"]["url"])' 2>/dev/null) && break
  kill -0 $host_pid 2>/dev/null || {
    cat "$T/out/fs-a.log" >&2
    fail "the file server of configs/fileserver-a.toml exited during start"
  }
  sleep 0.1
done
[ "$url" = "https://127.0.0.1:$dport" ] || {
  tail -n 20 "$T/out/fs-a.log" >&2
  fail "configs/fileserver-a.toml with DFD_CONTENT_LISTEN=127.0.0.1:$dport advertises '$url'"
}
stop_host $host_pid "the file server of configs/fileserver-a.toml"
pass "configs/fileserver-a.toml with only the listen changed advertises $url"

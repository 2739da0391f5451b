#!/usr/bin/env bash
# configs/all-in-one.toml alone (no RabbitMQ), twice: as shipped (plain HTTP) and with its two TLS
# lines uncommented (a certificate from scripts/pki). Each time one dfd-host serves login, catalog
# and content; dfd login + ls + get works against it and the download matches the source file;
# content without a token is 401; SIGTERM stops it with exit 0. With TLS, every URL is https and
# dfd without the CA fails with exit 11.
source "$(dirname "$0")/lib.sh"
need_build

mkdir -p "$T/files"
"$SRC_DIR/scripts/cluster" samples "$T/files" --sample-size 3M >/dev/null
"$SRC_DIR/scripts/pki" "$T/pki" server >/dev/null
sed -E 's/^# (tls_(cert|key) = )/\1/' "$SRC_DIR/configs/all-in-one.toml" >"$T/all-in-one-tls.toml"
grep -q '^tls_cert' "$T/all-in-one-tls.toml" || fail "configs/all-in-one.toml has no commented tls_cert line"

run_all_in_one() {
  local mode=$1 cfg=$2 scheme=http
  [ "$mode" = plain ] || scheme=https
  read -r cport dport < <(free_ports 2)
  mkdir -p "$T/$mode/state"
  local password
  password=$(openssl rand -hex 12)
  env DFD_STATE_DIR="$T/$mode/state" DFD_STORAGE_ROOT="$T/files" \
    DFD_CONTROL_LISTEN="127.0.0.1:$cport" DFD_CONTENT_LISTEN="127.0.0.1:$dport" \
    DFD_TLS_CERT="$T/pki/server.pem" DFD_TLS_KEY="$T/pki/server.key" \
    DFD_ADMIN_EMAIL=solo@dfd.local DFD_ADMIN_PASSWORD="$password" \
    "$HOST" --config "$cfg" </dev/null >"$T/$mode/host.log" 2>&1 &
  local host_pid=$!
  CLEANUPS+=("kill -KILL $host_pid 2>/dev/null")
  export DFD_SERVER=$scheme://127.0.0.1:$cport XDG_CONFIG_HOME=$T/$mode/xdg
  if [ "$mode" = tls ]; then export DFD_CA_BUNDLE=$T/pki/ca.pem; else unset DFD_CA_BUNDLE; fi

  wait_healthz "$DFD_SERVER" $host_pid "$T/$mode/host.log" "[$mode] the all-in-one dfd-host"
  pass "[$mode] all-in-one host healthy ($DFD_SERVER)"

  printf '%s\n' "$password" | "$DFD" login --email solo@dfd.local --password-stdin || fail "[$mode] dfd login"
  # The catalog fills from the content role's events on broker-local.
  wait_listed "$T/$mode/ls.txt" big.bin odd.bin
  pass "[$mode] dfd login + ls"

  local f id
  for f in big.bin small.bin; do
    id=$(file_id "$f")
    "$DFD" get "$id" -o "$T/$mode/got-$f" --no-progress --json >"$T/$mode/get-$f.log" 2>&1 || {
      cat "$T/$mode/get-$f.log" >&2
      fail "[$mode] dfd get $id ($f)"
    }
    cmp -s "$T/$mode/got-$f" "$T/files/$f" || fail "[$mode] $f differs from the source"
    grep -q "\"$scheme://127.0.0.1:$dport" "$T/$mode/get-$f.log" ||
      fail "[$mode] the download did not come from $scheme://127.0.0.1:$dport"
    pass "[$mode] dfd get $f matches the source file"
  done

  local uid code
  uid=$(sha256sum <"$T/files/big.bin" | cut -d' ' -f1)
  code=$(http_code "$scheme://127.0.0.1:$dport/v1/content/$uid")
  [ "$code" = 401 ] || fail "[$mode] content without a token: $code, want 401"
  pass "[$mode] content without a token is 401"

  if [ "$mode" = tls ]; then
    local rc=0
    (unset DFD_CA_BUNDLE && "$DFD" ls >"$T/$mode/noca.txt" 2>&1) || rc=$?
    [ "$rc" = 11 ] || {
      cat "$T/$mode/noca.txt" >&2
      fail "[tls] dfd ls without the CA: exit $rc, want 11"
    }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dport/v1/content/$uid" || true)" != 401 ] ||
      fail "[tls] the data plane answered plain http"
    pass "[tls] without the CA: exit 11; no plain http on the data plane"
  fi

  stop_host $host_pid "[$mode] dfd-host"
  pass "[$mode] SIGTERM: exit 0"
}

run_all_in_one plain "$SRC_DIR/configs/all-in-one.toml"
run_all_in_one tls "$T/all-in-one-tls.toml"

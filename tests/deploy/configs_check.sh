#!/usr/bin/env bash
# Every config in configs/ passes `dfd-host --check`, with the paths its ${DFD_...} variables
# point at placed in a temp dir (state, storage root, and the files a deployment mounts: a TLS
# certificate and key from scripts/pki, the broker's CA and a password file, an event signing key
# from dfd-host keygen and a trusted_keys folder), and --check lists the plugins the config names.
# A config naming a PostgreSQL plugin gets a password file and a DSN on a closed port: --check
# opens no connection (auth-postgres and info-postgres connect in start(); tests/deploy/
# check_honesty.sh checks that --check creates nothing).
# No shipped config uses RabbitMQ's guest user or a password in its text.
source "$(dirname "$0")/lib.sh"
need_build
deployment_files "$T"
n=0
for cfg in "$SRC_DIR"/configs/*.toml; do
  name=$(basename "$cfg" .toml)
  mkdir -p "$T/$name/state" "$T/$name/files"
  if grep -nE 'guest[:@]' "$cfg"; then fail "configs/$name.toml uses guest"; fi
  out=$(env DFD_STATE_DIR="$T/$name/state" DFD_STORAGE_ROOT="$T/$name/files" \
    DFD_TLS_CERT="$T/pki/server.pem" DFD_TLS_KEY="$T/pki/server.key" \
    DFD_AMQP_CA_FILE="$T/pki/ca.pem" DFD_AMQP_PASSWORD_FILE="$T/secrets/amqp-password" \
    DFD_EVENTS_DIR="$T/keys" DFD_PG_DSN="postgresql://dfd@127.0.0.1:$CLOSED_PORT/dfd" \
    DFD_PG_PASSWORD_FILE="$T/secrets/pg-password" \
    DFD_ADMIN_PASSWORD=check-only \
    "$HOST" --config "$cfg" --check 2>&1) || {
    echo "$out" >&2
    fail "dfd-host --config configs/$name.toml --check exited non-zero"
  }
  for p in $(sed -n 's/^name = "\([^"]*\)".*/\1/p' "$cfg"); do
    grep -q -- "$p" <<<"$out" || {
      echo "$out" >&2
      fail "--check of configs/$name.toml does not mention plugin $p"
    }
  done
  pass "configs/$name.toml"
  n=$((n + 1))
done
[ $n -ge 5 ] || fail "expected at least 5 configs in configs/, found $n"

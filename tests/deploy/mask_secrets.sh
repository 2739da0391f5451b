#!/usr/bin/env bash
# scripts/lib/mask.sh (what scripts/cluster and scripts/demo print goes through it): each kind of
# credential comes out as ***, and what is not a credential (URLs without one, paths, the names
# of password files, the words password and token in prose) comes out unchanged.
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/mask.sh
source "$SRC_DIR/scripts/lib/mask.sh"
printf 'generated-Secret-0123\n' >"$T/secret"
mask_literal_files "$T/secret" "$T/missing"

check() { # INPUT WANT
  local got
  got=$(printf '%s\n' "$1" | mask_secrets)
  [ "$got" = "$2" ] || fail "mask_secrets '$1': got '$got', want '$2'"
}
check 'amqp://guest:guest@127.0.0.1:5672/' 'amqp://guest:***@127.0.0.1:5672/'
check 'DFD_PG_DSN=postgresql://dfd:s3cr3t@127.0.0.1:5432/dfd' 'DFD_PG_DSN=postgresql://dfd:***@127.0.0.1:5432/dfd'
check 'DFD_ADMIN_PASSWORD=hunter2 DFD_AMQP_PASSWORD_FILE=/x/amqp-info' 'DFD_ADMIN_PASSWORD=*** DFD_AMQP_PASSWORD_FILE=/x/amqp-info'
check '{"email": "a@b", "password": "hunter2", "token":"abc.def"}' '{"email": "a@b", "password": "***", "token":"***"}'
check 'Authorization: Bearer eyJabc.def-ghi' 'Authorization: Bearer ***'
check 'dfd login --password hunter2 --email a@b' 'dfd login --password *** --email a@b'
check 'the demo password is generated-Secret-0123.' 'the demo password is ***.'
# shellcheck disable=SC2016  # literal $DFD_DEMO_PASSWORD: what scripts/cluster prints
for same in 'amqps://127.0.0.1:5671/ https://127.0.0.1:8443/healthz' \
  'echo "$DFD_DEMO_PASSWORD" | dfd login --password-stdin' \
  'broker users (passwords in /tmp/c/secrets), token issuance rate' \
  'cluster: stopped fs-b (pid 123)'; do
  check "$same" "$same"
done
pass "mask_secrets: URL passwords, KEY=/\"key\": values, --password, Bearer tokens and file secrets masked; the rest unchanged"

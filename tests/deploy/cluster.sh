#!/usr/bin/env bash
# scripts/cluster: two clusters side by side (8 MiB samples), "one" with TLS (the default) and
# "two" with --plain; in each, the demo user logs in with dfd, lists the catalog and downloads a
# sample that matches the storage root byte for byte; content without a token is 401; `status`
# tells the truth; `down` leaves none of the PIDs alive. The TLS one also: every URL is https,
# `source cluster.env` is all dfd needs (DFD_CA_BUNDLE), without the CA dfd and curl fail with a
# certificate error, the broker has no guest and the secrets are owner-only files.
source "$(dirname "$0")/lib.sh"
need_build
CLUSTER=$SRC_DIR/scripts/cluster
# Under a fully parallel ctest on 2 cores a broker can take long to boot.
export DFD_RABBITMQ_START_TIMEOUT=${DFD_RABBITMQ_START_TIMEOUT:-120}

for c in one two; do
  CLEANUPS+=("'$CLUSTER' down --dir '$T/$c' >/dev/null 2>&1")
done
declare -A MODE=([one]=--tls [two]=--plain)
# Both start at the same time: port reservation must keep them apart.
"$CLUSTER" up --dir "$T/one" --sample-size 8M "${MODE[one]}" >"$T/up-one.log" 2>&1 &
up_one=$!
"$CLUSTER" up --dir "$T/two" --sample-size 8M "${MODE[two]}" >"$T/up-two.log" 2>&1 &
up_two=$!
# Wait for both before judging, so that the cleanup never races a running `up`.
declare -A up_rc=([one]=0 [two]=0)
wait $up_one || up_rc[one]=$?
wait $up_two || up_rc[two]=$?
for c in one two; do
  [ "${up_rc[$c]}" = 0 ] || {
    cat "$T/up-$c.log" >&2
    fail "cluster up ($c) exited ${up_rc[$c]}"
  }
done
pass "two clusters up side by side (one ${MODE[one]}, two ${MODE[two]})"

declare -A PIDS
for c in one two; do
  (
    set -euo pipefail
    # shellcheck disable=SC1090
    source "$T/$c/cluster.env"
    for v in DFD_SERVER DFD_FILESERVERS DFD_FILESERVER_PIDS DFD_INFO_PID DFD_RABBITMQ_PID DFD_AMQP_URL \
      DFD_DEMO_EMAIL DFD_DEMO_PASSWORD DFD_STORAGE_ROOTS DFD_FILESERVER_CONFIGS DFD_FILESERVER_LOGS; do
      [ -n "${!v:-}" ] || fail "[$c] cluster.env has no $v"
    done
    read -r -a roots <<<"$DFD_STORAGE_ROOTS"
    read -r -a urls <<<"$DFD_FILESERVERS"
    [ ${#roots[@]} = 3 ] && [ ${#urls[@]} = 3 ] || fail "[$c] expected 3 file servers and 3 storage roots"
    "$CLUSTER" status --dir "$T/$c" || fail "[$c] status says something is not running"

    export XDG_CONFIG_HOME=$T/$c/xdg
    printf '%s\n' "$DFD_DEMO_PASSWORD" | "$DFD" login --email "$DFD_DEMO_EMAIL" --password-stdin ||
      fail "[$c] dfd login"
    "$DFD" ls >"$T/$c-ls.txt" || fail "[$c] dfd ls"
    for f in $DFD_SAMPLE_FILES; do grep -q "$f" "$T/$c-ls.txt" || fail "[$c] dfd ls does not list $f"; done
    pass "[$c] dfd login + ls ($DFD_SERVER)"

    for f in big.bin odd.bin; do
      id=$(file_id "$f") || fail "[$c] no id for $f in dfd ls --json"
      "$DFD" get "$id" -o "$T/$c-$f" --no-progress >"$T/$c-get-$f.log" 2>&1 || {
        cat "$T/$c-get-$f.log" >&2
        fail "[$c] dfd get $id ($f)"
      }
      want=$(sha256sum <"${roots[1]}/$f" | cut -d' ' -f1)
      got=$(sha256sum <"$T/$c-$f" | cut -d' ' -f1)
      [ "$want" = "$got" ] || fail "[$c] $f: sha256 $got, storage root has $want"
      pass "[$c] dfd get $f: sha256 matches the storage root"
    done

    uid=$(sha256sum <"${roots[0]}/big.bin" | cut -d' ' -f1)
    for u in "${urls[@]}"; do
      code=$(http_code "$u/v1/content/$uid")
      [ "$code" = 401 ] || fail "[$c] GET $u/v1/content/$uid without a token: $code, want 401"
    done
    pass "[$c] content without a token is 401 on every file server"

    if [ "${MODE[$c]}" = --tls ]; then
      [ "$DFD_CLUSTER_MODE" = tls ] || fail "[$c] DFD_CLUSTER_MODE=$DFD_CLUSTER_MODE, want tls"
      [ -s "${DFD_CA_BUNDLE:-}" ] || fail "[$c] cluster.env has no DFD_CA_BUNDLE file"
      for u in "$DFD_SERVER" $DFD_FILESERVERS $DFD_FILESERVER_CONTROL_URLS; do
        case $u in https://*) ;; *) fail "[$c] $u is not https" ;; esac
      done
      case $DFD_AMQP_URL in amqps://*) ;; *) fail "[$c] broker URL $DFD_AMQP_URL is not amqps" ;; esac
      # The same commands without the CA: a certificate error, not a download.
      rc=0
      (unset DFD_CA_BUNDLE && "$DFD" ls >"$T/$c-noca.txt" 2>&1) || rc=$?
      # Exit 11: dfd's code for a TLS failure (docs/client.md).
      [ "$rc" = 11 ] && grep -qiE 'certificate' "$T/$c-noca.txt" || {
        cat "$T/$c-noca.txt" >&2
        fail "[$c] dfd ls without the CA: exit $rc, want 11 and a certificate error"
      }
      code=$(curl -s -o /dev/null -w '%{http_code}' "$DFD_SERVER/livez" || true)
      [ "$code" = 000 ] || fail "[$c] curl without the CA got HTTP $code from $DFD_SERVER"
      [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$DFD_CA_BUNDLE" "$DFD_SERVER/livez")" = 200 ] ||
        fail "[$c] curl --cacert: /livez is not 200"
      pass "[$c] TLS: https everywhere, dfd trusts DFD_CA_BUNDLE, a client without the CA fails"
    fi
    if [ -n "${DFD_AMQP_SECRETS_DIR:-}" ]; then
      for f in "$DFD_AMQP_SECRETS_DIR"/* "${DFD_EVENTS_DIR:-/nonexistent}"/*.key "${DFD_PKI_DIR:-/nonexistent}"/*.key; do
        [ -e "$f" ] || continue
        [ "$(stat -c %a "$f")" = 600 ] || fail "[$c] $f has mode $(stat -c %a "$f"), want 600"
      done
      users=$("$SRC_DIR/scripts/rabbitmq" ctl "$DFD_RABBITMQ_DIR" list_users)
      if grep -qw guest <<<"$users"; then fail "[$c] the broker still has guest: $users"; fi
      for u in info $DFD_FILESERVER_IDS; do grep -qw "$u" <<<"$users" || fail "[$c] no broker user $u: $users"; done
      pass "[$c] one broker user per role, no guest, secrets mode 600"
    fi
  ) || exit 1
  # shellcheck disable=SC1090
  PIDS[$c]=$(source "$T/$c/cluster.env" && echo "$DFD_INFO_PID $DFD_FILESERVER_PIDS $DFD_RABBITMQ_PID")
done
[ "$(source "$T/one/cluster.env" && echo "$DFD_SERVER")" != "$(source "$T/two/cluster.env" && echo "$DFD_SERVER")" ] ||
  fail "both clusters have the same DFD_SERVER"

"$CLUSTER" down --dir "$T/one" >"$T/down-one.log" 2>&1 &
down_one=$!
"$CLUSTER" down --dir "$T/two" >"$T/down-two.log" 2>&1 &
down_two=$!
declare -A down_rc=([one]=0 [two]=0)
wait $down_one || down_rc[one]=$?
wait $down_two || down_rc[two]=$?
for c in one two; do
  [ "${down_rc[$c]}" = 0 ] || {
    cat "$T/down-$c.log" >&2
    fail "[$c] cluster down exited ${down_rc[$c]}"
  }
  # shellcheck disable=SC2086
  left=$(alive ${PIDS[$c]})
  [ -z "$left" ] || fail "[$c] still running after down: $left"
  # The broker's Erlang VM and epmd are children of the rabbitmq-server script: none may survive.
  if pgrep -f -- "$T/$c/" >/dev/null; then
    pgrep -af -- "$T/$c/" >&2
    fail "[$c] a process mentioning $T/$c survived down"
  fi
  if "$CLUSTER" status --dir "$T/$c" >/dev/null 2>&1; then fail "[$c] status says running after down"; fi
  pass "[$c] down: none of ${PIDS[$c]} alive"
done

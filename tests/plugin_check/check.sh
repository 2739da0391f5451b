#!/usr/bin/env bash
# dfd-plugin-check against real plugins (each must pass), refused inputs (exit 2 with the right
# message) and a non-conforming storage plugin (exit 1, the right FAIL lines and counts).
# Usage: check.sh BUILD_DIR SOURCE_DIR CASE   (CASE: see the `case` below)
# shellcheck disable=SC2016  # ${DFD_CHECK_*} in configs: expanded by the checker, not the shell
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/../deploy/lib.sh"

CHECK=$BUILD_DIR/bin/dfd-plugin-check
PLUGINS=$BUILD_DIR/plugins
BROKEN=$BUILD_DIR/tests/plugins_broken
[ -x "$CHECK" ] || fail "$CHECK is missing (build the dfd-plugin-check target)"

# run_check OUT_PREFIX ARGS...: runs the checker; stdout in OUT_PREFIX.out, stderr in .err; sets RC.
run_check() {
  local out=$1
  shift
  RC=0
  "$CHECK" "$@" >"$out.out" 2>"$out.err" || RC=$?
}

# expect_pass NAME ARGS...: exit 0, a PASS line, a summary with 0 failed.
expect_pass() {
  local name=$1
  shift
  run_check "$T/$name" "$@"
  if [ "$RC" -ne 0 ]; then
    cat "$T/$name.out" "$T/$name.err" >&2
    fail "$name: exit $RC, expected 0"
  fi
  grep -q '^PASS ' "$T/$name.out" || fail "$name: no PASS line"
  grep -Eq '^[0-9]+ checks: [0-9]+ passed, 0 failed, [0-9]+ skipped$' "$T/$name.out" ||
    fail "$name: no summary with 0 failed: $(tail -1 "$T/$name.out")"
  pass "$name: $(tail -1 "$T/$name.out")"
}

# expect_refusal NAME MESSAGE ARGS...: exit 2 and MESSAGE (a fixed string) on stderr.
expect_refusal() {
  local name=$1 message=$2
  shift 2
  run_check "$T/$name" "$@"
  [ "$RC" -eq 2 ] || fail "$name: exit $RC, expected 2 ($(cat "$T/$name.err"))"
  grep -qF -- "$message" "$T/$name.err" ||
    fail "$name: stderr lacks '$message': $(cat "$T/$name.err")"
  pass "$name: exit 2, $(head -1 "$T/$name.err")"
}

write_config() {
  local file=$1
  shift
  printf '[server]\nid = "check"\n\n[[plugin]]\n' >"$file"
  printf '%s\n' "$@" >>"$file"
}

case ${3:?case} in
storage_fs)
  expect_pass storage-fs --kind storage --plugin "$PLUGINS/libdfd-storage-fs.so"
  grep -q '^PASS DescriptorWhenOfferedMatches$' "$T/storage-fs.out" ||
    fail "storage-fs offers a descriptor: DescriptorWhenOfferedMatches should pass"
  ;;
storage_example)
  # Its files are the ones its manifest names: the checker's list of the conformance files.
  write_config "$T/example.toml" 'name = "storage-example"' \
    'manifest = "${DFD_CHECK_ROOT}/.dfd-check-files"'
  expect_pass storage-example --kind storage --plugin "$PLUGINS/libdfd-storage-example.so" \
    --config "$T/example.toml"
  grep -q '^SKIP DescriptorWhenOfferedMatches: ' "$T/storage-example.out" ||
    fail "storage-example offers no descriptor: DescriptorWhenOfferedMatches should be skipped"
  ;;
auth_sqlite)
  write_config "$T/auth-sqlite.toml" 'name = "auth-sqlite"' 'db = "${DFD_CHECK_DIR}/auth.db"' \
    'kdf_iterations = 1000'
  expect_pass auth-sqlite --kind auth --plugin "$PLUGINS/libdfd-auth-sqlite.so" \
    --config "$T/auth-sqlite.toml"
  grep -q '^PASS SetPasswordReplacesItAndEndsTheUsersSessions$' "$T/auth-sqlite.out" ||
    fail "auth-sqlite stores users: the user checks should run and pass"
  ;;
auth_hmac)
  write_config "$T/auth-hmac.toml" 'name = "auth-hmac"' \
    'key_file = "${DFD_CHECK_DIR}/hmac.key"' 'create_key = true'
  expect_pass auth-hmac --kind auth --plugin "$PLUGINS/libdfd-auth-hmac.so" \
    --config "$T/auth-hmac.toml"
  ;;
broker_local)
  expect_pass broker-local --kind broker --plugin "$PLUGINS/libdfd-broker-local.so"
  ;;
broker_rabbitmq)
  # A private RabbitMQ (scripts/rabbitmq, stopped by PID at exit). Each check has its own queue
  # (the server id dfd-plugin-check-PID-N) and, by this config, its own exchange.
  "$SRC_DIR/scripts/rabbitmq" start "$T/rabbitmq" >"$T/rabbitmq.log" 2>&1 || {
    cat "$T/rabbitmq.log" >&2
    fail "scripts/rabbitmq start"
  }
  CLEANUPS+=("\"$SRC_DIR/scripts/rabbitmq\" stop \"$T/rabbitmq\" >/dev/null 2>&1")
  url=$(sed -n 's/^DFD_AMQP_URL=//p' "$T/rabbitmq/rabbitmq.env")
  [ -n "$url" ] || fail "no DFD_AMQP_URL in $T/rabbitmq/rabbitmq.env"
  write_config "$T/rabbitmq.toml" 'name = "broker-rabbitmq"' "url = \"$url\"" \
    'exchange = "check-${DFD_CHECK_ID}"' 'reconnect_max_ms = 1000'
  expect_pass broker-rabbitmq --kind broker --plugin "$PLUGINS/libdfd-broker-rabbitmq.so" \
    --config "$T/rabbitmq.toml"
  ;;
digest_openssl)
  expect_pass digest-openssl --kind digest --plugin "$PLUGINS/libdfd-digest-openssl.so"
  grep -q '^PASS KnownAnswers$' "$T/digest-openssl.out" || fail "digest-openssl: KnownAnswers"
  # --filter and --list
  run_check "$T/filter" --kind digest --plugin "$PLUGINS/libdfd-digest-openssl.so" --filter Reset
  [ "$RC" -eq 0 ] || fail "--filter Reset: exit $RC"
  [ "$(grep -c '^PASS ' "$T/filter.out")" -eq 2 ] ||
    fail "--filter Reset should run FinalHexResetsTheHasher and ResetDiscardsInput: $(cat "$T/filter.out")"
  "$CHECK" --kind digest --list >"$T/list.out" || fail "--list: exit $?"
  grep -qx KnownAnswers "$T/list.out" || fail "--list lacks KnownAnswers: $(cat "$T/list.out")"
  pass "--filter runs the matching checks; --list names them"
  ;;
nonconforming)
  # Reads at offsets >= 4096 are off by one: exactly the checks that read there fail.
  plugin=$BUILD_DIR/tests/plugin_check/libdfd-storage-offbyone.so
  run_check "$T/bad" --kind storage --plugin "$plugin"
  [ "$RC" -eq 1 ] || fail "storage-offbyone: exit $RC, expected 1 ($(cat "$T/bad.out" "$T/bad.err"))"
  got=$(grep '^FAIL ' "$T/bad.out" | cut -d: -f1 | sort | tr '\n' ' ')
  want="FAIL ConcurrentReadAtFromFourThreads FAIL ReadAtPositions FAIL ReadsEveryFileExactly "
  [ "$got" = "$want" ] || fail "storage-offbyone: FAIL lines '$got', expected '$want'"
  grep -q '^FAIL ReadsEveryFileExactly: dir/sub/data.bin: content differs (got' "$T/bad.out" ||
    fail "the FAIL line should carry the first failure: $(grep '^FAIL ReadsEvery' "$T/bad.out")"
  checks=$(grep -Ec '^(PASS|FAIL|SKIP) ' "$T/bad.out")
  passed=$(grep -c '^PASS ' "$T/bad.out")
  grep -qx "$checks checks: $passed passed, 3 failed, 1 skipped" "$T/bad.out" ||
    fail "summary: $(tail -1 "$T/bad.out"), expected '$checks checks: $passed passed, 3 failed, 1 skipped'"
  pass "storage-offbyone: exit 1, $(tail -1 "$T/bad.out")"
  # It requires a digest: from --config (its other plugins are left out, even one that does not
  # exist), or digest-openssl by default (above).
  write_config "$T/bad.toml" 'name = "no-such-plugin"'
  printf '[[plugin]]\nname = "digest-openssl"\n[[plugin]]\nname = "storage-offbyone"\nroot = "${DFD_CHECK_ROOT}"\n' \
    >>"$T/bad.toml"
  run_check "$T/bad-config" --kind storage --plugin "$plugin" --config "$T/bad.toml" \
    --filter StatAgreesWithList --log-level debug
  [ "$RC" -eq 0 ] || fail "storage-offbyone --config: exit $RC ($(cat "$T/bad-config.out" "$T/bad-config.err"))"
  grep -q 'starting digest-openssl' "$T/bad-config.err" || fail "digest-openssl was not started"
  pass "storage-offbyone --config: its digest from the config, the unrelated plugin left out"
  ;;
refusals)
  mkdir -p "$T/text" "$T/foreign" "$T/wrongname"
  echo "not a library" >"$T/text/libdfd-x.so"
  expect_refusal text-file "libdfd-x.so: not a shared library" \
    --kind storage --plugin "$T/text/libdfd-x.so"
  lib=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64|libz\.so\.1 \(libc6,x86-64\)/ {print $NF; exit}')
  [ -n "$lib" ] || lib=$(find /lib /usr/lib -name 'libz.so.1' -print -quit)
  [ -n "$lib" ] || fail "no libz.so.1 on this machine to copy"
  cp "$lib" "$T/foreign/libdfd-x.so"
  expect_refusal foreign-library "no entry symbol 'dfd_plugin_entry'" \
    --kind storage --plugin "$T/foreign/libdfd-x.so"
  expect_refusal wrong-kind "a 'digest' plugin (its descriptor's kind), not 'storage' (--kind storage)" \
    --kind storage --plugin "$PLUGINS/libdfd-digest-openssl.so"
  expect_refusal missing-file "$T/none/libdfd-x.so: no such file" \
    --kind storage --plugin "$T/none/libdfd-x.so"
  cp "$PLUGINS/libdfd-storage-fs.so" "$T/wrongname/storage-fs.so"
  expect_refusal wrong-name "storage-fs.so: not a plugin's file name" \
    --kind storage --plugin "$T/wrongname/storage-fs.so"
  expect_refusal abi-major "libdfd-broken-abi.so: " --kind digest --plugin "$BROKEN/libdfd-broken-abi.so"
  # Issue 15 (i15-abi): broken-abi is built for the next major (kAbiMajor + 1, minor 0).
  grep -Eq "built for plugin ABI [0-9]+\.0, this host has ABI [0-9]+\.[0-9]+ \(rebuild it" "$T/abi-major.err" ||
    fail "the ABI refusal names both versions: $(cat "$T/abi-major.err")"
  expect_refusal size "libdfd-broken-size.so: descriptor size 16" \
    --kind digest --plugin "$BROKEN/libdfd-broken-size.so"
  expect_refusal signature "libdfd-broken-signature.so: build signature" \
    --kind digest --plugin "$BROKEN/libdfd-broken-signature.so"
  write_config "$T/other.toml" 'name = "other"'
  expect_refusal no-config-plugin "other.toml: no [[plugin]] named 'storage-fs'" \
    --kind storage --plugin "$PLUGINS/libdfd-storage-fs.so" --config "$T/other.toml"
  # An older minor loads; its missing abilities head the output (the filter matches nothing).
  run_check "$T/old" --kind digest --plugin "$BROKEN/libdfd-broken-old-minor.so" --filter none-such
  grep -q '^missing ability (added in ABI [0-9]*\.3): PluginDescriptor::check' "$T/old.out" ||
    fail "old minor: no missing ability line: $(cat "$T/old.out" "$T/old.err")"
  pass "an ABI 2.2 plugin loads; its missing abilities are printed"
  ;;
cli)
  # Every option of --help is in the man page and the bash completion; the man page renders
  # without warnings; --version names the ABI.
  "$CHECK" --help >"$T/help.out" || fail "--help: exit $?"
  opts=$(grep -o -- '--[a-z][a-z-]*' "$T/help.out" | sort -u)
  [ "$(wc -l <<<"$opts")" -ge 7 ] || fail "--help lists too few options: $opts"
  man=$(groff -man -Tutf8 -ww -rHY=0 -rLL=200n "$SRC_DIR/man/dfd-plugin-check.1" 2>"$T/groff.err" | col -bx)
  [ ! -s "$T/groff.err" ] || fail "man/dfd-plugin-check.1: $(cat "$T/groff.err")"
  for o in $opts; do
    grep -qF -- "$o" <<<"$man" || fail "man/dfd-plugin-check.1 lacks $o"
    grep -qF -- "$o" "$SRC_DIR/completions/dfd-plugin-check.bash" ||
      fail "completions/dfd-plugin-check.bash lacks $o"
  done
  "$CHECK" --version | grep -q 'plugin ABI [0-9]*\.[0-9]*' || fail "--version names no plugin ABI"
  run_check "$T/usage" --kind storage
  [ "$RC" -eq 2 ] || fail "no --plugin: exit $RC, expected 2"
  pass "--help: $(wc -l <<<"$opts") options, each in the man page and the completion"
  ;;
*) fail "unknown case '$3'" ;;
esac

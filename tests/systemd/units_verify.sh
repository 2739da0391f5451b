#!/usr/bin/env bash
# Issue 14 (systemd): the units of packaging/systemd, as `cmake --install` puts them, pass
# `systemd-analyze verify` (no error and no warning) and score at most 2.0 on
# `systemd-analyze security --offline` (printed); the three share one hardening block.
#   1. DESTDIR=T/root cmake --install --prefix /usr --component dfd-server (what the .deb holds):
#      the units land in T/root/lib/systemd/system, unchanged, and nothing else of that
#      component's unit files elsewhere. verify runs on copies whose ExecStart names the build's
#      dfd-host (verify checks it is executable; /usr/bin/dfd-host may not exist here).
#   2. cmake --install --prefix T/prefix --component dfd-server: the units land in T/prefix/lib/systemd/system naming
#      T/prefix/bin/dfd-host and T/prefix/etc/dfd/..., and verify runs on them as installed.
# PID 1 need not be systemd: verify and security --offline read unit files only. Documentation=
# man:dfd-host(1) is checked by running man, so the source tree's page is put on MANPATH.
# usage: units_verify.sh BUILD_DIR SOURCE_DIR
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/../deploy/lib.sh"

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
[ -x "$HOST" ] || fail "$HOST is missing (build the dfd-host target)"
UNITS=(dfd-host@.service dfd-info.service dfd-fileserver.service)
mkdir -p "$T/man/man1"
cp "$SRC_DIR/man/dfd-host.1" "$T/man/man1/"
export MANPATH=$T/man

# verify_units DIR: systemd-analyze verify on DIR's units (the template as an instance).
verify_units() {
  local out
  out=$(cd "$1" && systemd-analyze verify ./dfd-info.service ./dfd-fileserver.service \
    ./dfd-host@.service 2>&1) || fail "systemd-analyze verify in $1: $out"
  [ -z "$out" ] || fail "systemd-analyze verify in $1 warns: $out"
  pass "systemd-analyze verify: ${UNITS[*]} in $1"
}

# 1. The package's layout.
DESTDIR=$T/root cmake --install "$BUILD_DIR" --prefix /usr --component dfd-server >"$T/install-usr.log" ||
  fail "install --prefix /usr: $(cat "$T/install-usr.log")"
mkdir -p "$T/usr-units"
for u in "${UNITS[@]}"; do
  [ -f "$T/root/lib/systemd/system/$u" ] || fail "$u not in /lib/systemd/system: $(cat "$T/install-usr.log")"
  cmp -s "$T/root/lib/systemd/system/$u" "$SRC_DIR/packaging/systemd/$u" ||
    fail "$u was changed by an install to /usr"
  sed "s#^ExecStart=/usr/bin/dfd-host #ExecStart=$HOST #" "$T/root/lib/systemd/system/$u" >"$T/usr-units/$u"
  grep -q "^ExecStart=$HOST --config " "$T/usr-units/$u" || fail "$u: no ExecStart=/usr/bin/dfd-host --config"
done
[ ! -e "$T/root/usr/lib/systemd" ] || fail "units also under /usr/lib/systemd"
verify_units "$T/usr-units"

# 2. A temporary prefix: the units name what that install put there (dfd-host is in the same
# component, so the ExecStart of the installed units exists).
P=$T/prefix
cmake --install "$BUILD_DIR" --prefix "$P" --component dfd-server >"$T/install-prefix.log" ||
  fail "install --prefix $P: $(cat "$T/install-prefix.log")"
[ -x "$P/bin/dfd-host" ] || fail "no $P/bin/dfd-host"
grep -q "^ExecStart=$P/bin/dfd-host --config $P/etc/dfd/info.toml\$" "$P/lib/systemd/system/dfd-info.service" ||
  fail "dfd-info.service in $P does not run $P/bin/dfd-host with $P/etc/dfd/info.toml"
grep -q "^EnvironmentFile=-$P/etc/dfd/%i.env\$" "$P/lib/systemd/system/dfd-host@.service" ||
  fail "dfd-host@.service in $P does not read $P/etc/dfd/%i.env"
verify_units "$P/lib/systemd/system"

# The exposure score (0 = locked down, 10 = nothing restricted) of each unit.
for u in "${UNITS[@]}"; do
  out=$(cd "$T/usr-units" && systemd-analyze security --offline=yes --threshold=20 "./$u" 2>&1) ||
    fail "$u: exposure above 2.0 or security failed: $(tail -5 <<<"$out")"
  echo "$u: $(grep -o 'Overall exposure level.*' <<<"$out")"
done

# One hardening block, the same in every unit (from NoNewPrivileges= to SystemCallErrorNumber=).
block() { sed -n '/^NoNewPrivileges=/,/^SystemCallErrorNumber=/p' "$SRC_DIR/packaging/systemd/$1"; }
[ -n "$(block dfd-host@.service)" ] || fail "no hardening block in dfd-host@.service"
for u in dfd-info.service dfd-fileserver.service; do
  diff <(block dfd-host@.service) <(block "$u") >/dev/null || fail "$u's hardening differs from dfd-host@.service's"
done
pass "one hardening block in the three units"
echo PASS

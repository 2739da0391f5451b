#!/usr/bin/env bash
# scripts/setup starts and enables no service, and leaves policy-rc.d as it found it. It runs
# against a fake root (DFD_SETUP_ROOT, the test hook of scripts/setup) with apt-get, dpkg-query,
# deb-systemd-helper, update-rc.d and sudo shimmed on PATH; nothing of the real system is touched.
# The apt-get shim does what a package's maintainer scripts do: it asks the policy in place the
# way invoke-rc.d does (`policy-rc.d <service> start`; 101 = refused, anything else = it would have
# started the service) and enables the services the way deb-systemd-helper and update-rc.d do
# (links in etc/systemd/system/multi-user.target.wants and etc/rc2.d).
#   1. an admin's own policy-rc.d: setup run twice; during the (one) install every start is
#      refused; afterwards the admin's policy is back byte for byte (same inode, mode, mtime), the
#      enabling links are gone, the output names what was installed and left disabled;
#   2. no policy-rc.d before: none after;
#   3. the install fails: setup fails, the admin's policy is back all the same;
#   4. a run killed before it could clean up (our policy in place, the admin's kept aside): the
#      next run puts the admin's back.
source "$(dirname "$0")/lib.sh"
SETUP=$SRC_DIR/scripts/setup
SHIMS=$T/bin
mkdir -p "$SHIMS"
ALL_PACKAGES=$(sed -n '/^PACKAGES=(/,/^)/p' "$SETUP" | sed '1d;$d' | tr -s ' \n' '\n' | sed '/^$/d')
[ "$(wc -l <<<"$ALL_PACKAGES")" -gt 10 ] || fail "could not read PACKAGES from $SETUP"

# ---- shims (they read ROOT, STATE from the environment)
cat >"$SHIMS/dpkg-query" <<'SH'
#!/usr/bin/env bash
# dpkg-query -W -f=FORMAT: every package in $STATE/installed as "NAME ii ".
[ "$1" = -W ] || { echo "dpkg-query shim: unexpected $*" >&2; exit 2; }
sed 's/$/ ii /' "$STATE/installed"
SH
cat >"$SHIMS/apt-get" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
echo "apt-get $*" >>"$STATE/apt.log"
[ "$1" = update ] && exit 0
[ "$1" = install ] || exit 2
shift
pkgs=()
for a in "$@"; do case $a in -*) ;; *) pkgs+=("$a") ;; esac; done
policy=$ROOT/usr/sbin/policy-rc.d
for p in "${pkgs[@]}"; do
  # What invoke-rc.d does before it starts a service: ask the policy.
  rc=0
  if [ -x "$policy" ]; then "$policy" "$p" start >/dev/null 2>&1 || rc=$?; else rc=none; fi
  echo "$p $rc" >>"$STATE/policy-answers"
  [ "$rc" = 101 ] || echo "$p" >>"$STATE/started"
done
[ "${SHIM_APT_FAIL:-0}" = 0 ] || { echo "E: shim: install failed" >&2; exit 100; }
for p in "${pkgs[@]}"; do
  echo "$p" >>"$STATE/installed"
  # A dependency, and what the postinst of a service package does: enable it.
  echo "libdep-of-$p" >>"$STATE/installed"
  case $p in nginx | rabbitmq-server)
    mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants" "$ROOT/etc/rc2.d"
    ln -sf "/lib/systemd/system/$p.service" "$ROOT/etc/systemd/system/multi-user.target.wants/$p.service"
    ln -sf "../init.d/$p" "$ROOT/etc/rc2.d/S01$p"
    ;;
  esac
done
sort -u -o "$STATE/installed" "$STATE/installed"
SH
cat >"$SHIMS/deb-systemd-helper" <<'SH'
#!/usr/bin/env bash
echo "deb-systemd-helper $*" >>"$STATE/disable.log"
[ "$1" = disable ] && rm -f "$ROOT"/etc/systemd/system/*.wants/"$2"
SH
cat >"$SHIMS/update-rc.d" <<'SH'
#!/usr/bin/env bash
echo "update-rc.d $*" >>"$STATE/disable.log"
[ "$2" = disable ] || exit 0
for l in "$ROOT"/etc/rc?.d/S??"$1"; do [ -e "$l" ] || [ -L "$l" ] || continue; mv "$l" "$(dirname "$l")/K01$1"; done
SH
printf '#!/bin/sh\nexec "$@"\n' >"$SHIMS/sudo"
chmod 755 "$SHIMS"/*
export PATH=$SHIMS:$PATH

# new_case NAME: a fresh fake root and package state (every package installed but nginx and
# rabbitmq-server); exports ROOT, STATE, DFD_SETUP_ROOT.
new_case() {
  export ROOT=$T/$1/root STATE=$T/$1/state DFD_SETUP_ROOT=$T/$1/root
  mkdir -p "$ROOT/usr/sbin" "$ROOT/etc/systemd/system/multi-user.target.wants" "$STATE"
  grep -vxE 'nginx|rabbitmq-server' <<<"$ALL_PACKAGES" | sort >"$STATE/installed"
  : >"$STATE/policy-answers"
}

# admin_policy: an admin's own policy-rc.d (allows everything; no final newline; mode 750; old
# mtime) and a reference copy of it.
admin_policy() {
  printf '#!/bin/sh\n# the admin'"'"'s own policy: allow everything\nexit 0' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 750 "$ROOT/usr/sbin/policy-rc.d"
  touch -d '2020-02-02 02:02:02' "$ROOT/usr/sbin/policy-rc.d"
  cp -p "$ROOT/usr/sbin/policy-rc.d" "$T/$1/policy.orig"
  stat -c '%i %a %Y %s' "$ROOT/usr/sbin/policy-rc.d" >"$T/$1/policy.stat"
}

# same_policy CASE: the policy in place is the admin's, byte for byte, same inode/mode/mtime.
same_policy() {
  local p=$ROOT/usr/sbin/policy-rc.d
  [ -f "$p" ] || fail "[$1] $p is gone"
  cmp -s "$p" "$T/$1/policy.orig" || fail "[$1] $p differs from the admin's: $(cat "$p")"
  [ "$(stat -c '%i %a %Y %s' "$p")" = "$(cat "$T/$1/policy.stat")" ] ||
    fail "[$1] $p: inode/mode/mtime/size $(stat -c '%i %a %Y %s' "$p"), was $(cat "$T/$1/policy.stat")"
  [ ! -e "$p.dfd-setup-saved" ] || fail "[$1] $p.dfd-setup-saved left behind"
  [ ! -e "$p.dfd-setup-new" ] || fail "[$1] $p.dfd-setup-new left behind"
}

# refused_during_install CASE: every start the apt-get shim asked for was refused (101).
refused_during_install() {
  [ -s "$STATE/policy-answers" ] || fail "[$1] apt-get install never ran"
  if grep -v ' 101$' "$STATE/policy-answers" >/dev/null; then
    fail "[$1] policy-rc.d did not refuse a start during the install: $(grep -v ' 101$' "$STATE/policy-answers" | tr '\n' ' ')"
  fi
  [ ! -e "$STATE/started" ] || fail "[$1] services started during the install: $(cat "$STATE/started")"
}

# ---- 1. an admin's policy; setup twice
new_case twice
admin_policy twice
bash "$SETUP" >"$T/twice/run1.out" 2>&1 || {
  cat "$T/twice/run1.out" >&2
  fail "[twice] first setup run failed"
}
refused_during_install twice
same_policy twice
[ "$(grep -c '^apt-get install' "$STATE/apt.log")" = 1 ] || fail "[twice] apt-get install ran $(grep -c '^apt-get install' "$STATE/apt.log") times"
for p in nginx rabbitmq-server; do
  grep -q "^apt-get install .*$p" "$STATE/apt.log" || fail "[twice] apt-get install was not asked for $p: $(cat "$STATE/apt.log")"
done
left=$(find "$ROOT/etc" \( -path '*.wants/*' -o -name 'S??*' \) | sed "s|$ROOT||")
[ -z "$left" ] || fail "[twice] services left enabled: $left"
grep -q 'installed 4 packages .*libdep-of-nginx' "$T/twice/run1.out" ||
  fail "[twice] the output does not say what was installed: $(cat "$T/twice/run1.out")"
grep -q 'left disabled.*nginx.service' "$T/twice/run1.out" ||
  fail "[twice] the output does not say what it left disabled: $(cat "$T/twice/run1.out")"
pass "[twice] first run: the one install ran under a refusing policy-rc.d; the admin's is back byte for byte; nothing left enabled; output says what it installed"
bash "$SETUP" >"$T/twice/run2.out" 2>&1 || {
  cat "$T/twice/run2.out" >&2
  fail "[twice] second setup run failed"
}
[ "$(grep -c '^apt-get install' "$STATE/apt.log")" = 1 ] || fail "[twice] the second run installed again"
same_policy twice
grep -q 'nothing installed' "$T/twice/run2.out" || fail "[twice] second run: $(cat "$T/twice/run2.out")"
pass "[twice] second run: nothing to install, policy-rc.d untouched"

# ---- 2. no policy before, none after
new_case none
bash "$SETUP" >"$T/none/run.out" 2>&1 || {
  cat "$T/none/run.out" >&2
  fail "[none] setup failed"
}
refused_during_install none
[ -z "$(ls -A "$ROOT/usr/sbin")" ] || fail "[none] left in usr/sbin: $(ls -A "$ROOT/usr/sbin")"
pass "[none] the install ran under a refusing policy-rc.d; none is left afterwards"

# ---- 3. the install fails
new_case failing
admin_policy failing
rc=0
SHIM_APT_FAIL=1 bash "$SETUP" >"$T/failing/run.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "[failing] setup exited 0 although apt-get install failed"
refused_during_install failing
same_policy failing
pass "[failing] apt-get install failed (setup exit $rc): the admin's policy-rc.d is back all the same"

# ---- 4. a killed run's leftovers
new_case killed
admin_policy killed
p=$ROOT/usr/sbin/policy-rc.d
ln -P "$p" "$p.dfd-setup-saved"
printf '#!/bin/sh\n# written by dfd scripts/setup for the duration of an install; it removes it afterwards\nexit 101\n' >"$p.new"
mv -f "$p.new" "$p"
echo "$ALL_PACKAGES" | sort >"$STATE/installed"
bash "$SETUP" >"$T/killed/run.out" 2>&1 || {
  cat "$T/killed/run.out" >&2
  fail "[killed] setup failed"
}
same_policy killed
grep -q 'put back' "$T/killed/run.out" || fail "[killed] the output does not say it put the policy back"
pass "[killed] the next run puts back the policy-rc.d an interrupted run kept aside"

# shellcheck shell=bash
# package_lock [SECONDS]: holds /run/lock/dfd-packages.lock (file descriptor 9) until the calling
# shell exits, waiting up to SECONDS (default 900) for it. Every test that installs dfd's .deb
# packages on this machine (dpkg -i ... dpkg --purge) takes it first: ctest's RESOURCE_LOCK dpkg
# orders the tests of one ctest run only, and build trees side by side run separate ctests that
# would otherwise install, use and purge the same packages at the same time.
package_lock() {
  exec 9>/run/lock/dfd-packages.lock
  flock -w "${1:-900}" 9 || {
    echo "another test holds /run/lock/dfd-packages.lock (installs dfd's packages)" >&2
    return 1
  }
}

# dfd_package_present NAME: true when dpkg knows NAME as anything but not-installed (installed,
# half-installed, or purged of files but not of its config files): what a package test refuses
# to start on, and what it must leave behind.
dfd_package_present() {
  local st
  st=$(dpkg-query -W -f '${db:Status-Abbrev}' "$1" 2>/dev/null || true)
  case "${st:1:1}" in '' | n) return 1 ;; esac
}

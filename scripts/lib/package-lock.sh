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

#!/usr/bin/env bash
# install.prefix: `cmake --install BUILD --prefix P` into a temp prefix gives the layout of
# docs/host.md "Installed layout" (binaries, plugins without the example or test plugins, every
# file of configs/ in P/etc/dfd, man pages, completions, SDK headers and CMake package), and P
# alone serves a verified download: P/bin/dfd-host with P/etc/dfd/all-in-one.toml loads every
# plugin from P/lib/dfd/plugins (checked in /proc/PID/maps) and P/bin/dfd downloads big.bin.
# No install() rule lacks a COMPONENT (= package).
source "$(dirname "$0")/../deploy/lib.sh"
source "$(dirname "$0")/lib.sh"
need_build

P=$T/prefix
cmake --install "$BUILD_DIR" --prefix "$P" >"$T/install.log" 2>&1 || {
  cat "$T/install.log" >&2
  fail "cmake --install $BUILD_DIR --prefix $P"
}

# Every install() rule names its package (COMPONENT dfd, dfd-server or dfd-sdk-dev): a rule without
# one would land in "Unspecified" and in no package.
cmake --install "$BUILD_DIR" --prefix "$T/unspecified" --component Unspecified >/dev/null 2>&1 || true
if [ -d "$T/unspecified" ]; then
  find "$T/unspecified" -type f >&2
  fail "install() rules without COMPONENT install the files above"
fi

for f in bin/dfd bin/dfd-host bin/dfd-plugin-check; do [ -x "$P/$f" ] || fail "no executable $P/$f"; done
for f in share/man/man1/dfd.1.gz share/man/man1/dfd-host.1.gz share/man/man1/dfd-plugin-check.1.gz \
  share/bash-completion/completions/dfd share/bash-completion/completions/dfd-plugin-check \
  share/zsh/vendor-completions/_dfd include/dfd/dfd.hpp include/dfd/plugin.hpp \
  lib/cmake/dfd-sdk/dfd-sdk-config.cmake lib/cmake/dfd-sdk/dfd-sdk-config-version.cmake \
  lib/cmake/dfd-sdk/dfd-sdk-targets.cmake share/doc/dfd/copyright share/doc/dfd-server/changelog.gz; do
  [ -s "$P/$f" ] || fail "cmake --install did not write $f"
done
for f in "$SRC_DIR"/configs/*; do
  cmp -s "$f" "$P/etc/dfd/$(basename "$f")" || fail "$P/etc/dfd/$(basename "$f") is not configs/$(basename "$f")"
done
pass "layout: bin, man pages, completions, SDK, docs and every file of configs/ in P/etc/dfd"

plugins=$(cd "$P/lib/dfd/plugins" && ls)
for want in digest-openssl storage-fs auth-sqlite auth-hmac broker-local broker-rabbitmq info-sqlite; do
  grep -qx "libdfd-$want.so" <<<"$plugins" || fail "P/lib/dfd/plugins lacks libdfd-$want.so"
done
if grep -vx 'libdfd-[a-z0-9-]*\.so' <<<"$plugins" || grep -E 'example|test|broken' <<<"$plugins"; then
  fail "P/lib/dfd/plugins holds the files above (only product plugins belong there)"
fi
pass "P/lib/dfd/plugins: $(wc -l <<<"$plugins") plugins, no example or test plugin"

mkdir -p "$T/files" "$T/state"
"$SRC_DIR/scripts/cluster" samples "$T/files" --sample-size 3M >/dev/null
serve_and_get "$P/bin" "$P/etc/dfd/all-in-one.toml" "$P/lib/dfd/plugins" "$T/files" "$T/state"

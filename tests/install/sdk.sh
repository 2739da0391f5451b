#!/usr/bin/env bash
# install.sdk: the SDK as a plugin author gets it. `cmake --install --component dfd-sdk-dev` and
# `--component dfd-server` into a temp prefix P; a separate CMake project finds the SDK with
# find_package(dfd-sdk 0.1 REQUIRED) (CMAKE_PREFIX_PATH=P; the package must be P's), builds
# plugins/storage-example/storage_example.cpp with the installed dfd_add_plugin() (a MODULE
# libdfd-storage-example.so, hidden visibility, -Wl,--no-undefined, headers from P/include), and
# P/bin/dfd-host --check loads that library through the real loader (entry, ABI, build signature,
# create()). A consumer configured with another compiler (clang++-14) is refused by
# dfd_add_plugin at configure time, naming both compilers (issue 15).
source "$(dirname "$0")/../deploy/lib.sh"
source "$(dirname "$0")/lib.sh"
need_build

P=$T/prefix
install_components "$P" dfd-sdk-dev dfd-server
[ ! -e "$P/bin/dfd" ] || fail "component dfd-server installed bin/dfd (the client belongs to dfd)"

mkdir -p "$T/consumer"
cp "$SRC_DIR/plugins/storage-example/storage_example.cpp" "$T/consumer/"
cat >"$T/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(my_plugin CXX)
find_package(dfd-sdk 0.1 REQUIRED)
dfd_add_plugin(storage-example SOURCES storage_example.cpp)
CMAKE
cmake -S "$T/consumer" -B "$T/consumer/build" -G Ninja -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$T/consumer.log" 2>&1 || {
  cat "$T/consumer.log" >&2
  fail "find_package(dfd-sdk) with CMAKE_PREFIX_PATH=$P"
}
grep -qx "dfd-sdk_DIR:PATH=$P/lib/cmake/dfd-sdk" "$T/consumer/build/CMakeCache.txt" ||
  fail "find_package(dfd-sdk) did not take $P/lib/cmake/dfd-sdk ($(grep dfd-sdk_DIR "$T/consumer/build/CMakeCache.txt"))"
grep -q -- "-isystem $P/include" "$T/consumer/build/compile_commands.json" ||
  fail "dfd::sdk does not put $P/include on the include path"
cmake --build "$T/consumer/build" >>"$T/consumer.log" 2>&1 || {
  cat "$T/consumer.log" >&2
  fail "building storage_example.cpp against dfd::sdk"
}
nm -D --defined-only "$T/consumer/build/libdfd-storage-example.so" >"$T/exports.txt"
grep -q dfd_plugin_entry "$T/exports.txt" || fail "libdfd-storage-example.so exports no dfd_plugin_entry"
! grep -q ' [TW] .*storage_example' "$T/exports.txt" ||
  fail "dfd_add_plugin did not hide the plugin's own symbols: $(cat "$T/exports.txt")"
pass "find_package(dfd-sdk) from $P; dfd_add_plugin builds libdfd-storage-example.so (only the entry exported)"

# Issue 15: a plugin compiled by another compiler would be refused by the host at load (build
# signature); dfd_add_plugin says so at configure time, naming both compilers.
other=clang++-14
command -v "$other" >/dev/null || fail "$other is not installed (scripts/setup installs clang-14)"
if cmake -S "$T/consumer" -B "$T/consumer/build-other" -G Ninja -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_CXX_COMPILER="$other" >"$T/other.log" 2>&1; then
  cat "$T/other.log" >&2
  fail "configuring with $other was accepted, the host would refuse the plugin's build signature"
fi
tr -s ' \n' ' ' <"$T/other.log" >"$T/other.flat"
for want in "dfd_add_plugin(storage-example): this project compiles C++ with Clang 14." \
  "were built with $(sed -n 's/^set(DFD_SDK_CXX_COMPILER_ID "\(.*\)")$/\1/p' \
    "$P/lib/cmake/dfd-sdk/dfd-sdk-compiler.cmake") " "DFD_SDK_ALLOW_OTHER_COMPILER"; do
  grep -qF "$want" "$T/other.flat" || {
    cat "$T/other.log" >&2
    fail "configuring with $other: the refusal does not say '$want'"
  }
done
pass "dfd_add_plugin refuses $other at configure time, naming both compilers"

mkdir -p "$T/files"
echo hello >"$T/files/a.txt"
echo a.txt >"$T/files/MANIFEST"
cat >"$T/check.toml" <<TOML
plugin_path = ["$T/consumer/build"]
[server]
id = "sdk-test"
listen = "127.0.0.1:1"
state_dir = "$T/state"
[[plugin]]
name = "storage-example"
manifest = "$T/files/MANIFEST"
TOML
check_loads "$P/bin/dfd-host" "$T/check.toml" "$T/consumer/build/libdfd-storage-example.so"
pass "$P/bin/dfd-host --check loads libdfd-storage-example.so built outside the tree"

#!/usr/bin/env bash
# install.sdk: the SDK as a plugin author gets it. `cmake --install --component dfd-sdk-dev` and
# `--component dfd-server` into a temp prefix P; a separate CMake project finds the SDK with
# find_package(dfd-sdk 0.1 REQUIRED) (CMAKE_PREFIX_PATH=P; the package must be P's), builds
# plugins/storage-example/storage_example.cpp as a MODULE linked only to dfd::sdk (with
# -Wl,--no-undefined, headers from P/include), and P/bin/dfd-host --check loads that library
# through the real loader (entry, ABI, build signature, create()).
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
set(CMAKE_CXX_STANDARD 17)
find_package(dfd-sdk 0.1 REQUIRED)
add_library(dfd-storage-example MODULE storage_example.cpp)
set_target_properties(dfd-storage-example PROPERTIES PREFIX lib CXX_VISIBILITY_PRESET hidden)
target_link_libraries(dfd-storage-example PRIVATE dfd::sdk)
target_link_options(dfd-storage-example PRIVATE -Wl,--no-undefined)
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
pass "find_package(dfd-sdk) from $P; storage_example.cpp builds against dfd::sdk alone"

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

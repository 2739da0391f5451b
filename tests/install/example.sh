#!/usr/bin/env bash
# install.sdk_example: docs/plugins.md's guide, command for command. The packages' components
# (dfd-sdk-dev, dfd-server, dfd) go to a temp prefix P with `cmake --install`; a copy of
# examples/storage-memory is configured and built as its own project against P alone
# (find_package(dfd-sdk) from P, no include path into the dfd tree: compile_commands.json);
# P/bin/dfd-plugin-check passes its storage conformance suite; P/bin/dfd-host, not rebuilt, serves
# the example's files in an all-in-one config (P's all-in-one.toml with storage-memory instead of
# storage-fs, plugin_path = the example's build dir), mapping libdfd-storage-memory.so from that
# dir (/proc/PID/maps), and P/bin/dfd downloads big.bin (3 MiB), verified and compared with cmp.
source "$(dirname "$0")/../deploy/lib.sh"
source "$(dirname "$0")/lib.sh"
need_build

# docs/plugins.md's guide shows the example's real code: each of its cpp and cmake blocks is in
# storage_memory.cpp or CMakeLists.txt as written (a cmake block line by line, comments aside).
python3 - "$SRC_DIR/docs/plugins.md" "$SRC_DIR/examples/storage-memory" <<'PY' ||
import re, sys
doc = open(sys.argv[1]).read()
guide = doc[doc.index("## A plugin from scratch"):doc.index("## Interface reference")]
code = {"cpp": open(sys.argv[2] + "/storage_memory.cpp").read(),
        "cmake": open(sys.argv[2] + "/CMakeLists.txt").read().splitlines()}
blocks = re.findall(r"```(cpp|cmake)\n(.*?)```", guide, re.S)
bad = [b for lang, b in blocks if lang == "cpp" and b not in code["cpp"]]
bad += [line for lang, b in blocks if lang == "cmake"
        for line in b.splitlines() if line not in code["cmake"]]
for b in bad:
    print("not in the example:\n" + b, file=sys.stderr)
sys.exit(1 if bad or len(blocks) < 4 else 0)
PY
  fail "docs/plugins.md's guide differs from examples/storage-memory (above)"
pass "docs/plugins.md's guide quotes examples/storage-memory as it is"

P=$T/prefix
install_components "$P" dfd-sdk-dev dfd-server dfd
for f in dfd dfd-host dfd-plugin-check; do [ -x "$P/bin/$f" ] || fail "no executable $P/bin/$f"; done

# The plugin author's project: a copy, so that nothing can reach into the dfd tree.
EX=$T/storage-memory
cp -r "$SRC_DIR/examples/storage-memory" "$EX"
cmake -S "$EX" -B "$EX/build" -DCMAKE_PREFIX_PATH="$P" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  >"$T/example.log" 2>&1 || {
  cat "$T/example.log" >&2
  fail "configuring examples/storage-memory with CMAKE_PREFIX_PATH=$P"
}
grep -qx "dfd-sdk_DIR:PATH=$P/lib/cmake/dfd-sdk" "$EX/build/CMakeCache.txt" ||
  fail "find_package(dfd-sdk) did not take $P/lib/cmake/dfd-sdk ($(grep dfd-sdk_DIR "$EX/build/CMakeCache.txt"))"
cmake --build "$EX/build" >>"$T/example.log" 2>&1 || {
  cat "$T/example.log" >&2
  fail "building examples/storage-memory against $P"
}
SO=$EX/build/libdfd-storage-memory.so
[ -f "$SO" ] || fail "the example's build made no $SO"
# Every include directory of the compile comes from P (or the system), none from the dfd tree.
includes=$(grep -o -- '-I *[^ "]*\|-isystem *[^ "]*' "$EX/build/compile_commands.json" |
  sed 's/^-I *//; s/^-isystem *//' | sort -u)
grep -qx "$P/include" <<<"$includes" || fail "$P/include is not on the include path: $includes"
if grep -e "^$SRC_DIR" -e "^$BUILD_DIR" <<<"$includes"; then
  fail "the example was compiled with the include directories above from the dfd tree"
fi
pass "examples/storage-memory builds against $P alone ($(wc -l <<<"$includes") include dirs)"

"$P/bin/dfd-plugin-check" --kind storage --plugin "$SO" >"$T/plugin-check.log" 2>&1 || {
  cat "$T/plugin-check.log" >&2
  fail "$P/bin/dfd-plugin-check --kind storage --plugin $SO"
}
grep -Eq '^[0-9]+ checks: [1-9][0-9]* passed, 0 failed, [0-9]+ skipped$' "$T/plugin-check.log" || {
  cat "$T/plugin-check.log" >&2
  fail "dfd-plugin-check printed no summary line with 0 failed"
}
pass "dfd-plugin-check: $(tail -n 1 "$T/plugin-check.log")"

# P's all-in-one config with storage-memory as the storage, found in the example's build dir.
CFG=$T/memory.toml
sed -e "s|^# plugin_path = .*|plugin_path = [\"$EX/build\"]|" \
  -e 's|^name = "storage-fs"$|name = "storage-memory"|' \
  -e '/^settle_ms = /d' -e '/^follow_symlinks = /d' "$P/etc/dfd/all-in-one.toml" >"$CFG"
if ! grep -q '^name = "storage-memory"' "$CFG" || ! grep -q "^plugin_path = \[\"$EX/build\"\]" "$CFG"; then
  fail "$P/etc/dfd/all-in-one.toml has changed: no storage-fs block or plugin_path line to replace"
fi
mkdir -p "$T/files" "$T/state"
"$SRC_DIR/scripts/cluster" samples "$T/files" --sample-size 3M >/dev/null
DFD_STORAGE_ROOT=$T/files DFD_STATE_DIR=$T/state DFD_ADMIN_PASSWORD=unused \
  check_loads "$P/bin/dfd-host" "$CFG" "$SO"
pass "dfd-host --check takes storage-memory from $EX/build"

serve_and_get "$P/bin" "$CFG" "$P/lib/dfd/plugins:$EX/build" "$T/files" "$T/state"
grep -qx "$SO" <<<"$SERVE_MAPS" || fail "dfd-host did not map $SO (it mapped: $SERVE_MAPS)"
pass "the unrebuilt $P/bin/dfd-host served big.bin from $SO"

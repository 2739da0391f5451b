#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (the repo's .clang-format) makes of it.
set -euo pipefail
cd "$1"
command -v clang-format >/dev/null || { echo "clang-format missing: skipped"; exit 77; }
if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "not a git checkout: skipped"; exit 77; fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h')
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"

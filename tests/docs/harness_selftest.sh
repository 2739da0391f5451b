#!/usr/bin/env bash
# tests/docs/doc_examples.py checks what it claims (no cluster, ~1 s): a document whose examples
# hold passes; a command that fails where the text says nothing, a wrong `echo $?`, a missing
# "dfd: " line each fail it. Continuations, here-documents and "^C" are exercised too.
# Usage: harness_selftest.sh SOURCE_DIR
set -euo pipefail
SRC_DIR=$(cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/dfd-doc-harness.XXXXXX")
trap 'rm -rf "$T"' EXIT
run_doc() { # FILE -> the harness's exit status
  mkdir -p "$T/work"
  python3 "$SRC_DIR/tests/docs/doc_examples.py" "$1" --workdir "$T/work" --home "$T/work" \
    --replace "/home/you=$T/work" >"$T/log" 2>&1 && return 0 || return $?
}
fence='```'
cat >"$T/good.md" <<EOF
Text, and a block that is not run:

${fence}sh
exit 1
${fence}

${fence}console
\$ echo hi
hi
\$ false
\$ echo \$?
1
\$ cat > f.txt <<'END'
a line
END
\$ cat f.txt \\
  | wc -l
1
\$ sh -c 'echo "dfd: boom 42 in /home/you" >&2; exit 3'
dfd: boom ... in /home/you
\$ echo \$?
3
\$ sh -c 'mkdir -p s; echo "{\"verified\": \"01\"}" > s/x.dfd-state; trap "exit 130" INT; while :; do sleep 0.05; done'
^C
\$ echo \$?
130
${fence}
EOF
run_doc "$T/good.md" || { cat "$T/log"; echo "FAIL: a document whose examples hold failed"; exit 1; }
grep -q "^0 failure(s)" "$T/log" || { cat "$T/log"; echo "FAIL: no '0 failure(s)'"; exit 1; }
echo "ok: a document whose examples hold passes (continuation, here-document, ^C, echo \$?)"

bad() { # NAME BLOCK: the harness must fail on a document holding BLOCK
  printf '%sconsole\n%s\n%s\n' "$fence" "$2" "$fence" >"$T/$1.md"
  if run_doc "$T/$1.md"; then
    cat "$T/log"
    echo "FAIL: the harness passed a document with $1"
    exit 1
  fi
  echo "ok: $1 fails the document"
}
bad "a failing command" '$ false'
bad "a wrong exit code" $'$ sh -c "exit 3"\n$ echo $?\n2'
bad "a missing dfd: line" $'$ echo "dfd: something else" >&2\ndfd: what the text says'
bad "an interrupt that does not end in 130" $'$ true\n^C'

# --stop-on-failure: nothing after the first failing command runs.
printf '%sconsole\n$ false\n$ touch ran-after\n%s\n' "$fence" "$fence" >"$T/stop.md"
if python3 "$SRC_DIR/tests/docs/doc_examples.py" "$T/stop.md" --workdir "$T/work" --home "$T/work" \
  --stop-on-failure >"$T/log" 2>&1; then
  cat "$T/log"; echo "FAIL: --stop-on-failure passed a failing document"; exit 1
fi
[ ! -e "$T/work/ran-after" ] || { cat "$T/log"; echo "FAIL: --stop-on-failure ran the next command"; exit 1; }
echo "ok: --stop-on-failure stops at the first failing command"

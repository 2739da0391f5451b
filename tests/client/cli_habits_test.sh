#!/usr/bin/env bash
# The habits of issue 13 with the real binaries, no server needed:
# - `dfd help [COMMAND]` is `--help`; --help shows examples, environment and every exit code;
# - options before the command name work like after it;
# - the config file: found by DFD_CONFIG / XDG_CONFIG_HOME, precedence command line > environment
#   > file, errors name file:line:key (exit 2);
# - usage errors are one "dfd: ..." line naming the help to read;
# - bash completion (completions/dfd.bash, through COMP_WORDS) and zsh completion (completions/_dfd,
#   through zpty + compinit: tests/client/zsh_complete.zsh; skipped without zsh) complete commands,
#   options and names, and every option any `dfd COMMAND --help` prints is in both completion
#   files and in man/dfd.1;
# - the man pages render without groff warnings and name every option of dfd-host --help;
# - `cmake --install` puts the man pages and the completions under the prefix.
# Usage: cli_habits_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD_DIR=$(cd "$1" && pwd)
SRC_DIR=$(cd "$2" && pwd)
DFD=$BUILD_DIR/bin/dfd
HOST=$BUILD_DIR/bin/dfd-host
T=$(mktemp -d "${TMPDIR:-/tmp}/dfd-habits.XXXXXX")
trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$T"; else echo "(files kept in $T)"; fi' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "ok: $*"; }
[ -x "$DFD" ] || fail "$DFD is missing (build the dfd target)"

# A clean environment: no login, no config, no server of the caller's.
export HOME=$T/home XDG_CONFIG_HOME=$T/xdg
unset DFD_CONFIG DFD_SERVER DFD_CA_BUNDLE DFD_CLIENT_CERT DFD_CLIENT_KEY
mkdir -p "$HOME" "$XDG_CONFIG_HOME"

# run EXPECTED_RC CMD...: runs it with stdout+stderr in $T/out; fails unless it exits EXPECTED_RC.
run() {
  local want=$1 rc=0
  shift
  "$@" >"$T/out" 2>&1 </dev/null || rc=$?
  [ "$rc" = "$want" ] || {
    cat "$T/out" >&2
    fail "$*: exit $rc, want $want"
  }
}
has() { grep -qF -- "$1" "$T/out" || {
  cat "$T/out" >&2
  fail "output lacks: $1"
}; }

# ---------------------------------------------------------------- help
run 0 "$DFD" --help
cp "$T/out" "$T/help-main"
for s in "Examples:" "Environment:" "Exit codes:" "DFD_SERVER" "DFD_CA_BUNDLE" "DFD_CONFIG" \
  "config.toml" "dfd help COMMAND"; do has "$s"; done
for code in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 130; do
  grep -qE "^  $code +[^ ]" "$T/help-main" || fail "dfd --help: no line for exit code $code"
done
run 0 "$DFD" help
cmp -s "$T/out" "$T/help-main" || fail "'dfd help' differs from 'dfd --help'"
run 0 "$DFD" get --help
cp "$T/out" "$T/help-get"
has "Examples:"
run 0 "$DFD" help get
cmp -s "$T/out" "$T/help-get" || fail "'dfd help get' differs from 'dfd get --help'"
run 2 "$DFD" help nosuch
has "dfd: help: unknown command 'nosuch' (see 'dfd help')"
run 2 "$DFD" nosuch
has "dfd: unknown command 'nosuch' (see 'dfd help')"
run 2 "$DFD" get --no-such-option
has "dfd: The following argument was not expected: --no-such-option (see 'dfd help get')"
pass "dfd help [COMMAND] = --help, with examples, environment and every exit code"

# ---------------------------------------------------------------- options before the command
# No server is needed: --manifest names a missing file, so both orders fail the same way, after
# the options were accepted.
rc_after=0 rc_before=0
"$DFD" get --manifest "$T/none.json" --zone zone-a --connections 3 -o "$T/x" --no-progress \
  >"$T/after" 2>&1 || rc_after=$?
"$DFD" --zone zone-a --connections 3 -o "$T/x" --no-progress get --manifest "$T/none.json" \
  >"$T/before" 2>&1 || rc_before=$?
cmp -s "$T/before" "$T/after" && [ $rc_before = $rc_after ] ||
  fail "options before get: exit $rc_before '$(cat "$T/before")'; after: exit $rc_after '$(cat "$T/after")'"
grep -q "none.json" "$T/before" || fail "dfd --zone ... get: $(cat "$T/before")"
run 0 "$DFD" --help get
cmp -s "$T/out" "$T/help-get" || fail "'dfd --help get' is not get's help"
pass "options before the command name work as after it (exit $rc_before both ways)"

# ---------------------------------------------------------------- config file
# Which info server a command talks to shows in its error: nothing listens on these ports.
read -r p_file p_env p_cli < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
login() { echo pw | "$DFD" "$@" login --email someone@example.org --password-stdin; }
mkdir -p "$XDG_CONFIG_HOME/dfd"
printf '# my defaults\nserver = "http://127.0.0.1:%s"\ntimeout = 2\n' "$p_file" \
  >"$XDG_CONFIG_HOME/dfd/config.toml"
run 4 login
has "127.0.0.1:$p_file"
DFD_SERVER=http://127.0.0.1:$p_env run 4 login
has "127.0.0.1:$p_env"
grep -q "127.0.0.1:$p_file" "$T/out" && fail "DFD_SERVER did not win over the config file"
DFD_SERVER=http://127.0.0.1:$p_env run 4 login --server "http://127.0.0.1:$p_cli"
has "127.0.0.1:$p_cli"
grep -q "127.0.0.1:$p_env" "$T/out" && fail "--server did not win over DFD_SERVER"
pass "config file server: command line > DFD_SERVER > \$XDG_CONFIG_HOME/dfd/config.toml"

printf 'server = "http://127.0.0.1:%s"\n' "$p_cli" >"$T/other.toml"
DFD_CONFIG=$T/other.toml run 4 login
has "127.0.0.1:$p_cli"
DFD_CONFIG=$T/missing.toml run 2 login
has "dfd: DFD_CONFIG $T/missing.toml: cannot read: No such file or directory"
pass "DFD_CONFIG names another config file; a missing one is an error"

printf 'zone = "zone-a"\nzonee = "zone-b"\n' >"$T/bad.toml"
DFD_CONFIG=$T/bad.toml run 2 "$DFD" ls
has "dfd: $T/bad.toml:2: key 'zonee': unknown key (known: server, zone,"
printf 'connections = "many"\n' >"$T/bad.toml"
DFD_CONFIG=$T/bad.toml run 2 "$DFD" ls
has "dfd: $T/bad.toml:1: key 'connections': expected an integer, got a string"
printf '\nlimit_rate = "fast"\n' >"$T/bad.toml"
DFD_CONFIG=$T/bad.toml run 2 "$DFD" ls
has "dfd: $T/bad.toml:2: key 'limit_rate': 'fast' is not a rate"
printf 'server = "http://127.0.0.1:1"\n\n\ncacert = "ca.pem"\n' >"$T/bad.toml"
DFD_CONFIG=$T/bad.toml run 2 "$DFD" ls
has "dfd: $T/bad.toml:4: key 'cacert': $T/ca.pem: cannot read: No such file or directory"
DFD_CONFIG=$T/bad.toml DFD_CA_BUNDLE=/dev/null run 4 login
pass "config errors name file:line:key (exit 2); DFD_CA_BUNDLE wins over the file's cacert"
DFD_CONFIG=$T/bad.toml run 0 "$DFD" --help
pass "--help works with a broken config file"
rm "$XDG_CONFIG_HOME/dfd/config.toml"

# ---------------------------------------------------------------- options of every command
# The commands from `dfd --help`, the sub-commands of each from its own --help.
commands_of() { # HELP_FILE -> the names listed under "Subcommands:"
  awk '/^Subcommands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}' "$1"
}
: >"$T/all-options"
help_options() { # WORDS... : every option its --help prints, one per line
  "$DFD" "$@" --help | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | sed -E 's/^[ ,]//' | sort -u
}
mapfile -t cmds < <(commands_of "$T/help-main")
[ ${#cmds[@]} -ge 6 ] || fail "dfd --help lists only: ${cmds[*]}"
paths=()
for c in "${cmds[@]}"; do
  paths+=("$c")
  "$DFD" "$c" --help >"$T/help-$c"
  for s in $(commands_of "$T/help-$c"); do paths+=("$c $s"); done
done
checked=0
for p in "${paths[@]}"; do
  # shellcheck disable=SC2086
  for o in $(help_options $p); do
    for f in completions/dfd.bash completions/_dfd; do
      grep -qE -- "(^|[^a-zA-Z-])$o([^a-zA-Z-]|$)" "$SRC_DIR/$f" || fail "$f lacks $o (dfd $p --help)"
    done
    echo "$o" >>"$T/all-options"
    checked=$((checked + 1))
  done
done
pass "every option of ${#paths[@]} commands' --help ($checked) is in completions/dfd.bash and _dfd"

# ---------------------------------------------------------------- bash completion
# complete WORDS...: what completions/dfd.bash offers for the last word (one per line).
complete_words() {
  bash --norc --noprofile -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _dfd; printf "%s\n" "${COMPREPLY[@]}"' _ "$SRC_DIR/completions/dfd.bash" "$@"
}
[ "$(complete_words dfd g)" = get ] || fail "dfd g<TAB>: '$(complete_words dfd g)'"
[ "$(complete_words dfd get --li)" = --limit-rate ] || fail "dfd get --li<TAB>: '$(complete_words dfd get --li)'"
[ "$(complete_words dfd --zone a get --per-server-r)" = --per-server-rate ] || fail "dfd --zone a get --per-server-r<TAB>"
[ "$(complete_words dfd --ser)" = --server ] || fail "dfd --ser<TAB>: '$(complete_words dfd --ser)'"
[ "$(complete_words dfd --zo)" = --zone ] || fail "dfd --zo<TAB>: '$(complete_words dfd --zo)'"
[ "$(complete_words dfd help ge)" = get ] || fail "dfd help ge<TAB>"
[ "$(complete_words dfd user l)" = list ] || fail "dfd user l<TAB>: '$(complete_words dfd user l)'"
mkdir -p "$T/cwd/sub dir" && touch "$T/cwd/file.txt"
(cd "$T/cwd" && [ "$(complete_words dfd get -d s)" = "sub dir" ]) || fail "dfd get -d s<TAB>"
# File names come from `dfd ls --json` (the command being completed): a stand-in prints a catalog.
mkdir -p "$T/catalog" "$T/failing"
cat >"$T/catalog/dfd" <<'FAKE'
#!/bin/sh
[ "$1 $2" = "ls --json" ] || exit 2
printf '{\n  "files": [\n    {\n      "id": 1,\n      "name": "big.iso",\n      "size": 1\n    },\n    {\n      "id": 2,\n      "name": "bigger one.iso"\n    },\n    {\n      "name": "small.bin"\n    }\n  ],\n  "total": 3\n}\n'
FAKE
chmod +x "$T/catalog/dfd"
got=$(complete_words "$T/catalog/dfd" get --zone a bi | sort | tr '\n' '|')
[ "$got" = "big.iso|bigger one.iso|" ] || fail "dfd get bi<TAB> with a catalog: '$got'"
printf '#!/bin/sh\necho "dfd: not logged in" >&2\nexit 3\n' >"$T/failing/dfd"
chmod +x "$T/failing/dfd"
got=$(complete_words "$T/failing/dfd" get b 2>&1)
[ -z "$got" ] || fail "dfd get b<TAB> when ls fails printed: '$got'"
pass "bash completion: commands, options (also after options), folders, names from dfd ls, silent on error"
if command -v zsh >/dev/null; then
  zsh -n "$SRC_DIR/completions/_dfd" || fail "zsh -n completions/_dfd"
  # zsh_complete LINE: what zsh's completion system (compinit + completions/_dfd) offers.
  zsh_complete() {
    timeout 60 zsh -f "$SRC_DIR/tests/client/zsh_complete.zsh" "$SRC_DIR/completions" "$T/zsh.out" "$1"
  }
  [ "$(zsh_complete "dfd g")" = get ] || fail "zsh: dfd g<TAB>: '$(zsh_complete "dfd g")'"
  [ "$(zsh_complete "dfd get --li")" = --limit-rate ] || fail "zsh: dfd get --li<TAB>"
  [ "$(zsh_complete "dfd --zone a get --per-server-r")" = --per-server-rate ] ||
    fail "zsh: dfd --zone a get --per-server-r<TAB>"
  [ "$(zsh_complete "dfd --zo")" = --zone ] || fail "zsh: dfd --zo<TAB>"
  [ "$(zsh_complete "dfd user l")" = list ] || fail "zsh: dfd user l<TAB>"
  got=$(zsh_complete "$T/catalog/dfd get bi" | tr '\n' '|')
  [ "$got" = "big.iso|bigger one.iso|" ] || fail "zsh: dfd get bi<TAB> with a catalog: '$got'"
  [ -z "$(zsh_complete "$T/failing/dfd get b")" ] || fail "zsh: dfd get b<TAB> when ls fails"
  pass "zsh completion (zpty + compinit): commands, options, names from dfd ls"
else
  echo "skip: zsh is not installed; completions/_dfd was only checked for the options above"
fi

# ---------------------------------------------------------------- man pages
# render PAGE: plain text (no bold/underline, no hyphenation, wide lines); fails on any warning.
render() {
  groff -man -Tutf8 -ww -rHY=0 -rLL=200n "$1" 2>"$T/groff.err" | col -bx |
    sed 's/\xe2\x88\x92/-/g; s/\xe2\x80\x90/-/g' >"$T/page"
  [ ! -s "$T/groff.err" ] || {
    cat "$T/groff.err" >&2
    fail "groff warns about $1"
  }
}
render "$SRC_DIR/man/dfd.1"
sort -u "$T/all-options" | while read -r o; do
  grep -qE -- "(^|[^a-zA-Z-])$o([^a-zA-Z-]|$)" "$T/page" || fail "man/dfd.1 lacks $o"
done
grep -oE '^  [A-Z_]+ ' "$T/help-main" | while read -r v; do
  grep -q "$v" "$T/page" || fail "man/dfd.1 lacks the variable $v of dfd --help"
done
grep -oE '^  [0-9]+ ' "$T/help-main" | while read -r code; do
  grep -qE "^ +$code( +[A-Za-z]|$)" "$T/page" || fail "man/dfd.1 EXIT STATUS lacks $code"
done
pass "man/dfd.1 renders without warnings; every option, variable and exit code of --help is in it"
if [ -x "$HOST" ]; then
  render "$SRC_DIR/man/dfd-host.1"
  { "$HOST" --help; "$HOST" keygen --help; } | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' |
    sed -E 's/^[ ,]//' | sort -u | while read -r o; do
    grep -qE -- "(^|[^a-zA-Z-])$o([^a-zA-Z-]|$)" "$T/page" || fail "man/dfd-host.1 lacks $o"
  done
  "$HOST" --help | sed -n '/^Exit codes:/,/^$/p' | grep -oE '^  [0-9]+ ' | while read -r code; do
    grep -qE "^ +$code( +[A-Za-z]|$)" "$T/page" || fail "man/dfd-host.1 EXIT STATUS lacks $code"
  done
  rc=0
  "$HOST" --no-such-option >/dev/null 2>&1 || rc=$?
  [ $rc = 2 ] || fail "dfd-host --no-such-option: exit $rc, want 2 (man/dfd-host.1)"
  pass "man/dfd-host.1 renders without warnings and names every option of dfd-host --help"
fi

# ---------------------------------------------------------------- install
if [ -x "$HOST" ]; then
  cmake --install "$BUILD_DIR" --prefix "$T/prefix" >"$T/install.log" 2>&1 || {
    cat "$T/install.log" >&2
    fail "cmake --install"
  }
  for f in bin/dfd share/man/man1/dfd.1.gz share/man/man1/dfd-host.1.gz \
    share/bash-completion/completions/dfd share/zsh/vendor-completions/_dfd; do
    [ -s "$T/prefix/$f" ] || fail "cmake --install did not write $f"
  done
  MANPATH=$T/prefix/share/man man -w dfd-host | grep -q "^$T/prefix/share/man/man1/dfd-host.1.gz" ||
    fail "man does not find dfd-host in the installed prefix"
  pass "cmake --install puts dfd.1, dfd-host.1 and both completions under the prefix"
fi

#!/usr/bin/env python3
"""Runs the examples of a Markdown document (docs/client.md) as a test.

The examples are the fenced blocks marked ```console. In them:

- a line starting with "$ " is a command (bash); a line ending with "\\" continues on the next
  line; a here-document (<<EOF, <<'EOF') takes the lines up to its delimiter;
- every other line is what the command prints. It is not compared, except:
  - a line "dfd: ..." (an error or a warning of dfd) must appear in what the command printed
    ("..." in it matches anything);
  - "$ echo $?" followed by a number: the command before it must exit with that number; every
    other command must exit 0;
  - a line "^C" (the user pressed Ctrl-C): the command runs until a *.dfd-state file under the
    working folder marks a chunk verified (a non-zero digit in its "verified" bitmap), then gets
    SIGINT, and must exit 130.

All commands of the document run in order in one bash process (so `cd` and `export` carry over),
in a scratch working folder, with HOME set to a scratch home and stdin from --stdin-file (the
password a `dfd login` asks for). --replace OLD=NEW (repeatable) rewrites the document's
placeholders (https://info.example.org:9200, /home/you ...) in commands and in the "dfd: " lines. Nothing else is hidden: a reader
who types the commands against a real server gets what the test got.

  doc_examples.py DOC --list                     print the commands with their line numbers
  doc_examples.py DOC --workdir D --home H --stdin-file F [--replace OLD=NEW ...] [--stop-on-failure]
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import List, Optional

HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


@dataclass
class Command:
    line: int  # 1-based line of the "$ " line in the document
    text: str  # the bash text (continuations and here-documents included)
    output: List[str] = field(default_factory=list)
    expect_rc: int = 0
    interrupt: bool = False
    skip: bool = False  # "echo $?": answered from the previous command's status


def extract(markdown: str) -> List[Command]:
    lines = markdown.split("\n")
    commands: List[Command] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        i += 1
        current: Optional[Command] = None
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                start = i
                text = line[2:]
                while text.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    text = text + "\n" + lines[i]  # bash reads the backslash-newline
                m = HEREDOC.search(text)
                if m:
                    delim = m.group(2)
                    while i + 1 < len(lines) and lines[i + 1] != delim:
                        i += 1
                        text += "\n" + lines[i]
                    i += 1
                    if i >= len(lines):
                        raise SystemExit(f"line {start + 1}: here-document without {delim}")
                    text += "\n" + delim
                current = Command(line=start + 1, text=text)
                commands.append(current)
            elif current is not None:
                current.output.append(line)
            i += 1
        i += 1
    for n, c in enumerate(commands):
        if c.text.strip() == "echo $?":
            c.skip = True
            if n == 0 or not c.output or not c.output[0].strip().isdigit():
                raise SystemExit(f"line {c.line}: 'echo $?' needs a command before and a number after")
            commands[n - 1].expect_rc = int(c.output[0].strip())
        if any(o.strip() == "^C" for o in c.output):
            c.interrupt = True
            c.expect_rc = 130
    return commands


def pattern_of(expected: str) -> str:
    """An expected "dfd: ..." line as a regular expression; "..." matches anything."""
    parts = [re.escape(p) for p in expected.strip().split("...")]
    return ".*".join(parts)


def script_for(commands: List[Command], replace: List[tuple], workdir: str, stop: bool = False) -> str:
    out = [
        "set -u",
        f"cd {shlex.quote(workdir)} || exit 99",
        "__out=$(mktemp); __fails=0",
        # Prints the output of the last command, indented, for the log.
        "__show() { sed -n '1,40s/^/    /p; 41{s/.*/    [...]/p;q}' \"$__out\"; }",
    ]
    for c in commands:
        text = c.text
        for old, new in replace:
            text = text.replace(old, new)
        where = f"line {c.line}"
        out.append(f"echo {shlex.quote('$ ' + text.splitlines()[0])}  # {where}")
        if c.skip:
            out.append('echo "    $__rc"')
            continue
        body = f"{text}\n"
        if c.interrupt:
            # Its own process group (set -m) so that SIGINT reaches dfd, not only this shell.
            out += [
                "__mark=$(mktemp); set -m",
                f"( eval {shlex.quote(body)} ) >\"$__out\" 2>&1 <\"$DOC_STDIN\" &",
                "__pid=$!; set +m",
                "for __i in $(seq 1 600); do",
                "  grep -qsE '\"verified\": *\"[0-9a-f]*[1-9a-f]' $(find . -name '*.dfd-state' -newer \"$__mark\" 2>/dev/null) /dev/null && break",
                "  kill -0 $__pid 2>/dev/null || break",
                "  sleep 0.1",
                "done",
                "kill -INT -- -$__pid 2>/dev/null; wait $__pid; __rc=$?; rm -f \"$__mark\"",
            ]
        else:
            out.append(f"eval {shlex.quote(body)} >\"$__out\" 2>&1 <\"$DOC_STDIN\"; __rc=$?")
        out.append("__show")
        checks = [f"[ $__rc = {c.expect_rc} ] || {{ echo \"FAIL ({where}): exit $__rc, "
                  f"the document says {c.expect_rc}\"; __fails=$((__fails + 1)); }}"]
        for o in c.output:
            if o.startswith("dfd: "):
                for old, new in replace:
                    o = o.replace(old, new)
                pat = pattern_of(o)
                checks.append(
                    f"grep -qE -- {shlex.quote(pat)} \"$__out\" || {{ echo "
                    f"{shlex.quote(f'FAIL ({where}): the output lacks: {o}')}; "
                    "__fails=$((__fails + 1)); }")
        out += checks
        if stop:  # the later commands build on this one: stop at the first failure
            out.append('[ $__fails = 0 ] || { echo "stopped after the first failure"; exit 1; }')
    out += ["rm -f \"$__out\"", "echo \"$__fails failure(s)\"", "[ $__fails = 0 ]"]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("doc")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--script", action="store_true", help="print the generated bash script")
    ap.add_argument("--workdir")
    ap.add_argument("--home")
    ap.add_argument("--stdin-file", default="/dev/null")
    ap.add_argument("--replace", action="append", default=[])
    ap.add_argument("--stop-on-failure", action="store_true",
                    help="stop at the first command that fails (a walk-through whose steps build on each other)")
    a = ap.parse_args()
    with open(a.doc, encoding="utf-8") as f:
        commands = extract(f.read())
    if not commands:
        print(f"{a.doc}: no ```console examples", file=sys.stderr)
        return 1
    if a.list:
        for c in commands:
            flags = (" [exit %d]" % c.expect_rc if c.expect_rc else "") + (" [^C]" if c.interrupt else "")
            print(f"{c.line}: {c.text}{flags}")
        return 0
    replace = [tuple(r.split("=", 1)) for r in a.replace]
    script = script_for(commands, replace, a.workdir or ".", a.stop_on_failure)
    if a.script:
        print(script)
        return 0
    env = dict(os.environ, DOC_STDIN=a.stdin_file)
    if a.home:
        env["HOME"] = a.home
        env.pop("XDG_CONFIG_HOME", None)
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())

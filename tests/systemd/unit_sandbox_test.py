#!/usr/bin/env python3
"""Issue 14 (systemd): what dfd-host does fits the sandbox its units put it in.

The units forbid system calls (SystemCallFilter=: a forbidden call fails with EPERM), socket
families (RestrictAddressFamilies=) and memory that is writable and executable or made executable
later (MemoryDenyWriteExecute=), and make everything but the state directory read-only
(ProtectSystem=strict, ReadOnlyPaths= for the storage root). Without a running systemd none of
this can be applied here, so this test runs notify_test.py's whole lifecycle (start with the
plugins loaded, readiness on an abstract NOTIFY_SOCKET, login, SIGHUP rescan, manifest and
download, SIGTERM) twice, over plain HTTP and over HTTPS on both planes (scripts/pki), under
`strace -f` and checks every call dfd-host made against the settings of
packaging/systemd/dfd-host@.service, with the syscall groups expanded by
`systemd-analyze syscall-filter`:
  - every system call is in the unit's allowed set;
  - every socket() family is in RestrictAddressFamilies=;
  - no mmap/mprotect/pkey_mprotect asks for PROT_EXEC together with PROT_WRITE, and no
    mprotect/pkey_mprotect adds PROT_EXEC;
  - every file opened for writing, created, renamed or removed is inside the state directory
    (the storage root is only read; a thread's own /proc/self entries excepted).
dfd-host runs as nobody (as the units run it as dfd, not root). A path through the code that this
lifecycle does not take is not covered (e.g. RabbitMQ, PostgreSQL).

usage: unit_sandbox_test.py BUILD_DIR SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import notify_test  # noqa: E402


def unit_settings(path):
    """{key: [values in order]} of a unit file's [Service] section."""
    settings = {}
    section = None
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            settings.setdefault(k, []).append(v)
    return settings


def syscall_groups():
    """{"@group": [members: names and "@groups"]} from systemd-analyze syscall-filter."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif not line.strip() or not line.startswith(" "):
            current = None
        elif current is not None and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            out |= expand(groups[n], groups, seen)
        else:
            out.add(n)
    return out


def allowed_syscalls(settings, groups):
    """SystemCallFilter= lines in order: the first allow-list starts the set, '~' lines remove."""
    allowed = set()
    for value in settings.get("SystemCallFilter", []):
        if value.startswith("~"):
            allowed -= expand(value[1:].split(), groups)
        else:
            allowed |= expand(value.split(), groups)
    return allowed


CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed>)")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def check_trace(trace, settings, groups, state_dir):
    allowed = allowed_syscalls(settings, groups)
    families = set(" ".join(settings["RestrictAddressFamilies"]).split())
    problems, used = [], set()
    for line in open(trace):
        m = CALL.match(line)
        if not m:
            continue
        name = m.group(2)
        used.add(name)
        if name not in allowed:
            problems.append("system call outside SystemCallFilter: " + line.strip())
        if name == "socket":
            fam = re.search(r"socket\((AF_[A-Z0-9]+)", line)
            if fam and fam.group(1) not in families:
                problems.append("socket family outside RestrictAddressFamilies: " + line.strip())
        if name in ("mmap", "mprotect", "pkey_mprotect"):
            wx = "PROT_WRITE" in line and "PROT_EXEC" in line
            if wx or (name != "mmap" and "PROT_EXEC" in line):
                problems.append("MemoryDenyWriteExecute would refuse: " + line.strip())
        writes = None
        if name in ("open", "openat", "creat") and (name == "creat" or WRITE_FLAGS.search(line)):
            writes = QUOTED.findall(line)[:1]
        elif name in ("mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat",
                      "renameat2", "rmdir", "link", "linkat", "symlink", "symlinkat", "truncate"):
            writes = QUOTED.findall(line)
        for path in writes or []:
            full = os.path.normpath(path)
            # A thread's own /proc entries (pthread_setname_np writes .../task/TID/comm) stay
            # writable: ProtectSystem covers /usr, /boot, /etc and the rest, not /proc/self.
            if not (full == state_dir or full.startswith(state_dir + "/") or full == "/dev/null"
                    or full.startswith(("/proc/self/", "/proc/thread-self/"))):
                problems.append("writes outside the state directory: " + line.strip())
    return problems, used


def main():
    build, source = sys.argv[1], sys.argv[2]
    for tool in ("strace", "systemd-analyze"):
        if not shutil.which(tool):
            print("SKIP: no " + tool)
            return 77
    settings = unit_settings(os.path.join(source, "packaging", "systemd", "dfd-host@.service"))
    groups = syscall_groups()
    out = tempfile.mkdtemp(prefix="dfd-sandbox-")
    try:
        os.chmod(out, 0o711)  # the run directories inside are the host user's
        pki = os.path.join(out, "pki")
        subprocess.run([os.path.join(source, "scripts", "pki"), pki, "server"], check=True,
                       stdout=subprocess.DEVNULL)
        # Not as root: the units run dfd-host as `dfd`, and some libraries act differently for
        # root (SQLite fchown()s its journal to the database's owner only when run as root).
        uid = 65534 if os.geteuid() == 0 else None
        failed = False
        for label, tls in (("plain HTTP", None), ("HTTPS on both planes", pki)):
            run = os.path.join(out, "run-" + ("tls" if tls else "plain"))
            os.mkdir(run)
            trace = os.path.join(run, "trace")
            print("--- %s" % label)
            # -qq: no attach/exit notes; -s 512: whole paths in the trace.
            notify_test.run_lifecycle(build, abstract=True, tmp=run, uid=uid, pki=tls,
                                      wrap=["strace", "-f", "-qq", "-s", "512", "-o", trace])
            problems, used = check_trace(trace, settings, groups, os.path.join(run, "state"))
            print("%s: %d distinct system calls in %d lines of trace, %d problems"
                  % (label, len(used), sum(1 for _ in open(trace)), len(problems)))
            shown = set()
            for p in problems:
                what = p.split(": ")[0] + " " + (CALL.match(p.split(": ", 1)[1]) or [None, ""])[0]
                if what not in shown:
                    shown.add(what)
                    print("FAIL: " + p)
            failed = failed or bool(problems)
        if failed:
            return 1
        print("PASS")
        return 0
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A stand-in for `systemctl` and `journalctl` on a machine whose PID 1 is not systemd (the test
machine), used by tests/docs/deploy_guide.sh to run the systemd commands of docs/deploy.md.

It is NOT systemd, and it says so: it starts a unit's ExecStart= as the unit's User=/Group= with
the unit's Environment=/EnvironmentFile= (read from the installed unit file and its drop-ins), in
its WorkingDirectory=, with its UMask=, its StateDirectory=/RuntimeDirectory=/CacheDirectory=/
LogsDirectory= created and owned by that user (and STATE_DIRECTORY=... set), and for Type=notify
a NOTIFY_SOCKET it listens on: `start` returns once the service sent READY=1 (or fails when it
exits first or sends nothing within TimeoutStartSec=, at most 90 s). It does NOT apply the
sandboxing (ProtectSystem=, ReadOnlyPaths=, SystemCallFilter=, CapabilityBoundingSet=, ...),
cgroups, Restart=, ExecStartPre=/ExecStop= or dependencies. What a unit writes to stdout/stderr
goes to DIR/logs/UNIT.log, which `journalctl -u UNIT` prints.

  systemctl [--now] enable|disable UNIT...    the real systemctl's offline enable/disable (the
                                              [Install] symlinks), plus start/stop with --now
  systemctl start|stop|restart|reload UNIT...
  systemctl status|is-active UNIT...          exit 0 when active, 3 when not
  systemctl daemon-reload                     nothing to do
  journalctl -u UNIT [-n N] [--no-pager]

Every started unit has a supervisor (a forked copy of this script, its own session) that owns the
notify socket, reaps the service and records its state in DIR/state/UNIT.json (pid, state,
invocation id, supervisor pid). `stop` sends SIGTERM to the main PID, waits for it (at most
TimeoutStopSec=, 90 s by default, capped at 30 s here), then SIGKILLs the service's process group
(the rest of its "cgroup"). Environment: DFD_SYSTEMCTL_SHIM_DIR (required: state, logs, and the
test's own drop-ins in DIR/system/UNIT.d/*.conf and units in DIR/system/, after the system's), DFD_SYSTEMCTL_REAL (default /usr/bin/systemctl).
"""
import grp
import json
import os
import pwd
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system",
             "/usr/lib/systemd/system"]
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHIM_DIR = os.environ.get("DFD_SYSTEMCTL_SHIM_DIR", "")
REAL = os.environ.get("DFD_SYSTEMCTL_REAL", "/usr/bin/systemctl")


def die(msg: str, code: int = 1) -> None:
    print(f"systemctl (test shim): {msg}", file=sys.stderr)
    sys.exit(code)


def full_name(name: str) -> str:
    return name if re.search(r"\.(service|socket|target|timer)$", name) else name + ".service"


class Unit:
    """One unit file plus its drop-ins, specifiers resolved."""

    def __init__(self, name: str):
        self.name = full_name(name)
        m = re.match(r"^([^@]+)@([^.]*)\.(\w+)$", self.name)
        self.prefix = m.group(1) if m else self.name.rsplit(".", 1)[0]
        self.instance = m.group(2) if m else ""
        template = f"{m.group(1)}@.{m.group(3)}" if m else None
        self.path = self._find([self.name] + ([template] if template else []))
        if not self.path:
            die(f"Unit {self.name} not found.", 5)
        files = [self.path]
        for d in UNIT_DIRS + ([os.path.join(SHIM_DIR, "system")] if SHIM_DIR else []):
            for base in [template, self.name]:
                dd = os.path.join(d, f"{base}.d") if base else None
                if dd and os.path.isdir(dd):
                    files += sorted(os.path.join(dd, f) for f in os.listdir(dd) if f.endswith(".conf"))
        self.entries: List[Tuple[str, str, str]] = []  # (section, key, value), in file order
        for f in files:
            self._parse(f)

    @staticmethod
    def _find(names: List[str]) -> Optional[str]:
        for n in names:
            for d in UNIT_DIRS + ([os.path.join(SHIM_DIR, "system")] if SHIM_DIR else []):
                p = os.path.join(d, n)
                if os.path.isfile(p):
                    return p
        return None

    def _parse(self, path: str) -> None:
        section = ""
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i].strip()
            i += 1
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, _, value = line.partition("=")
            self.entries.append((section, key.strip(), self.specifiers(value.strip())))

    def specifiers(self, s: str) -> str:
        table = {"i": self.instance, "I": self.instance, "n": self.name,
                 "N": self.name.rsplit(".", 1)[0], "p": self.prefix, "%": "%",
                 "H": socket.gethostname()}
        return re.sub(r"%(.)", lambda m: table.get(m.group(1), m.group(0)), s)

    def values(self, key: str, section: str = "Service") -> List[str]:
        """Every assignment of key; an empty assignment resets the list (systemd's rule)."""
        out: List[str] = []
        for sec, k, v in self.entries:
            if sec == section and k == key:
                out = [] if v == "" else out + [v]
        return out

    def value(self, key: str, default: str = "", section: str = "Service") -> str:
        v = self.values(key, section)
        return v[-1] if v else default


def read_env_file(path: str, env: Dict[str, str]) -> None:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            k, _, v = line.partition("=")
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            env[k.strip()] = v


def expand_argv(line: str, env: Dict[str, str]) -> List[str]:
    """ExecStart=: prefixes dropped; a word "$VAR" becomes its value split at white space,
    "${VAR}" anywhere its value as it is (systemd.service(5), "Command lines")."""
    line = line.lstrip("@-:+!")
    out: List[str] = []
    for word in shlex.split(line):
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            out += env.get(m.group(1), "").split()
        else:
            out.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda x: env.get(x.group(1), ""), word))
    return out


def state_path(unit: str) -> str:
    return os.path.join(SHIM_DIR, "state", unit + ".json")


def log_path(unit: str) -> str:
    return os.path.join(SHIM_DIR, "logs", unit + ".log")


def read_state(unit: str) -> dict:
    try:
        with open(state_path(unit), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"state": "inactive"}


def write_state(unit: str, st: dict) -> None:
    tmp = state_path(unit) + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(st, f)
    os.replace(tmp, state_path(unit))


def ours(st: dict) -> bool:
    """The recorded main PID runs and is the one we started (its INVOCATION_ID matches)."""
    pid = st.get("pid")
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"INVOCATION_ID={st.get('invocation')}".encode() in f.read().split(b"\0")
    except OSError:
        return False


def active(st: dict) -> bool:
    return st.get("state") in ("active", "reloading", "activating") and ours(st)


def make_dirs(u: Unit, uid: Optional[int], gid: Optional[int], env: Dict[str, str]) -> List[str]:
    made_runtime = []
    for key, base, var in [("StateDirectory", "/var/lib", "STATE_DIRECTORY"),
                           ("RuntimeDirectory", "/run", "RUNTIME_DIRECTORY"),
                           ("CacheDirectory", "/var/cache", "CACHE_DIRECTORY"),
                           ("LogsDirectory", "/var/log", "LOGS_DIRECTORY")]:
        paths = []
        for v in u.values(key):
            for rel in v.split():
                p = os.path.join(base, rel)
                os.makedirs(p, exist_ok=True)
                mode = int(u.value(key + "Mode", "0755"), 8)
                os.chmod(p, mode)
                if uid is not None:
                    os.chown(p, uid, gid if gid is not None else -1)
                paths.append(p)
                if key == "RuntimeDirectory":
                    made_runtime.append(p)
        if paths:
            env[var] = ":".join(paths)
    return made_runtime


def supervise(u: Unit, report: int) -> None:
    """The forked supervisor: start the service, tell the caller how the start went through
    `report`, then follow the service until it exits. Never returns."""
    def tell(msg: str) -> None:
        nonlocal report
        if report >= 0:
            os.write(report, msg.encode())
            os.close(report)
            report = -1

    st = {"state": "activating", "supervisor": os.getpid(), "invocation": os.urandom(16).hex()}
    try:
        user, group = u.value("User"), u.value("Group")
        pw = pwd.getpwnam(user) if user else None
        uid = pw.pw_uid if pw else None
        gid = grp.getgrnam(group).gr_gid if group else (pw.pw_gid if pw else None)
        env = {"PATH": BASE_PATH, "LANG": "C.UTF-8", "INVOCATION_ID": st["invocation"]}
        if pw:
            env.update(USER=pw.pw_name, LOGNAME=pw.pw_name, HOME=pw.pw_dir, SHELL=pw.pw_shell)
        for v in u.values("Environment"):
            for a in shlex.split(v):
                k, _, val = a.partition("=")
                env[k] = val
        for v in u.values("EnvironmentFile"):
            optional = v.startswith("-")
            path = v.lstrip("-")
            if os.path.exists(path):
                read_env_file(path, env)
            elif not optional:
                raise RuntimeError(f"EnvironmentFile {path} not found")
        runtime = make_dirs(u, uid, gid, env)
        sock = None
        sock_path = os.path.join(SHIM_DIR, "notify", u.name)
        notify = u.value("Type", "simple") == "notify"
        if notify:
            if os.path.exists(sock_path):
                os.unlink(sock_path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(sock_path)
            os.chmod(sock_path, 0o777)  # the service runs as User=
            env["NOTIFY_SOCKET"] = sock_path
        starts = u.values("ExecStart")
        if not starts:
            raise RuntimeError("no ExecStart=")
        argv = expand_argv(starts[0], env)
        cwd = u.value("WorkingDirectory", "/" if uid is None else (pw.pw_dir if pw else "/"))
        cwd = cwd.lstrip("-")
        if cwd == "~":
            cwd = pw.pw_dir if pw else "/root"
        if not os.path.isdir(cwd):
            cwd = "/"
        log = open(log_path(u.name), "ab")
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            user=uid, group=gid,
            extra_groups=os.getgrouplist(pw.pw_name, gid) if pw and gid is not None else None,
            umask=int(u.value("UMask", "0022"), 8), process_group=0, close_fds=True)
    except Exception as e:  # pylint: disable=broad-except
        st.update(state="failed", result=str(e))
        write_state(u.name, st)
        tell(f"fail: {e}")
        os._exit(1)
    stop_s = re.sub(r"[^0-9.]", "", u.value("TimeoutStopSec", "30")) or "30"
    st.update(pid=proc.pid, since=time.time(), argv=argv, timeout_stop=float(stop_s))
    if not notify:
        st["state"] = "active"
        write_state(u.name, st)
        tell("ok")
    else:
        write_state(u.name, st)
    deadline = time.time() + min(90, float(re.sub(r"[^0-9.]", "", u.value("TimeoutStartSec", "90")) or 90))
    while True:
        if sock is not None:
            r, _, _ = select.select([sock], [], [], 0.1)
            if r:
                data = sock.recv(4096).decode(errors="replace")
                ready = False
                for line in data.split("\n"):
                    k, _, v = line.partition("=")
                    if (k, v) == ("READY", "1"):
                        st["state"] = "active"
                        st["ready_count"] = st.get("ready_count", 0) + 1
                        ready = True
                    elif (k, v) == ("RELOADING", "1"):
                        st["state"] = "reloading"
                    elif (k, v) == ("STOPPING", "1"):
                        st["state"] = "deactivating"
                    elif k == "STATUS":
                        st["status"] = v
                write_state(u.name, st)  # before the caller hears "ok": it may ask for status
                if ready:
                    tell("ok")
        else:
            time.sleep(0.1)
        rc = proc.poll()
        if rc is not None:
            st.update(state="inactive" if rc in (0, -signal.SIGTERM) else "failed", exit=rc)
            write_state(u.name, st)
            tell(f"fail: the service exited with {rc} before READY=1 (see journalctl -u {u.name})")
            break
        if st["state"] == "activating" and time.time() > deadline:
            proc.kill()
            tell(f"fail: no READY=1 within the start timeout (see journalctl -u {u.name})")
            deadline = float("inf")
    if sock is not None:
        sock.close()
        os.unlink(sock_path)
    for p in runtime:
        subprocess.run(["rm", "-rf", p], check=False)
    os._exit(0)


def start(name: str) -> int:
    u = Unit(name)
    if active(read_state(u.name)):
        return 0
    for d in ("state", "logs", "notify"):
        os.makedirs(os.path.join(SHIM_DIR, d), exist_ok=True)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        supervise(u, w)
    os.close(w)
    msg = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        msg += chunk
    os.close(r)
    text = msg.decode(errors="replace")
    if text != "ok":
        print(f"Job for {u.name} failed (test shim): {text or 'the supervisor died'}", file=sys.stderr)
        return 1
    return 0


def stop(name: str) -> int:
    """By the recorded PID; works after the unit file is gone (a purged package)."""
    unit = full_name(name)
    st = read_state(unit)
    pid = st.get("pid")
    if not ours(st):
        return 0
    os.kill(pid, signal.SIGTERM)
    limit = min(30.0, float(st.get("timeout_stop", 30)))
    deadline = time.time() + limit
    while ours(read_state(unit)) and time.time() < deadline:
        time.sleep(0.1)
    try:  # the rest of its "cgroup": whatever is left in its process group
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    deadline = time.time() + 10
    while read_state(unit).get("state") not in ("inactive", "failed") and time.time() < deadline:
        time.sleep(0.1)
    return 0


def reload(name: str) -> int:
    u = Unit(name)
    st = read_state(u.name)
    if not active(st):
        print(f"{u.name} is not active, cannot reload.", file=sys.stderr)
        return 1
    for line in u.values("ExecReload"):
        argv = expand_argv(line, {"MAINPID": str(st["pid"])})
        if subprocess.run(argv, check=False).returncode != 0:
            print(f"Job for {u.name} failed (test shim): {' '.join(argv)}", file=sys.stderr)
            return 1
    return 0


def status(name: str, verbose: bool) -> int:
    st = read_state(full_name(name))
    is_active = active(st)
    state = st.get("state", "inactive") if is_active else (
        "failed" if st.get("state") == "failed" else "inactive")
    if not verbose:
        print(state)
        return 0 if is_active else 3
    u = Unit(name)
    enabled = subprocess.run([REAL, "is-enabled", u.name], capture_output=True, text=True,
                             check=False).stdout.strip() or "disabled"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(st["since"])) if "since" in st else ""
    print(f"● {u.name} - {u.value('Description', section='Unit')}")
    print(f"     Loaded: loaded ({u.path}; {enabled})")
    detail = "running" if is_active else f"exit {st.get('exit', st.get('result', '-'))}"
    print(f"     Active: {state} ({detail}){' since ' + since if since else ''}")
    if is_active:
        print(f"   Main PID: {st['pid']} ({os.path.basename(st.get('argv', ['?'])[0])})")
    if st.get("status"):
        print(f"     Status: \"{st['status']}\"")
    print("       Note: started by the test shim tests/docs/systemctl_shim.py, not by systemd")
    return 0 if is_active else 3


def journal(args: List[str]) -> int:
    unit, lines = None, 10
    it = iter(args)
    for a in it:
        if a in ("-u", "--unit"):
            unit = full_name(next(it, ""))
        elif a in ("-n", "--lines"):
            lines = int(next(it, "10"))
        elif a.startswith("-u"):
            unit = full_name(a[2:])
    if not unit:
        die("journalctl (test shim) needs -u UNIT")
    try:
        with open(log_path(unit), encoding="utf-8", errors="replace") as f:
            tail = f.read().splitlines()[-lines:]
    except OSError:
        tail = ["-- No entries --"]
    print("\n".join(tail))
    return 0


def main() -> int:
    if not SHIM_DIR:
        die("DFD_SYSTEMCTL_SHIM_DIR is not set")
    prog, args = sys.argv[1], sys.argv[2:]
    if prog == "journalctl":
        return journal(args)
    now = "--now" in args
    args = [a for a in args if a not in ("--now", "--no-pager", "-q", "--quiet")]
    if not args:
        die("a command, please")
    cmd, units = args[0], args[1:]
    rc = 0
    if cmd == "daemon-reload":
        return 0
    if not units:
        die(f"{cmd}: which unit?")
    for name in units:
        if cmd == "enable":
            rc |= subprocess.run([REAL, "enable", full_name(name)], check=False).returncode
            if now:
                rc |= start(name)
        elif cmd == "disable":
            if now:
                rc |= stop(name)
            rc |= subprocess.run([REAL, "disable", full_name(name)], check=False).returncode
        elif cmd == "start":
            rc |= start(name)
        elif cmd == "stop":
            rc |= stop(name)
        elif cmd == "restart":
            rc |= stop(name) or start(name)
        elif cmd == "reload":
            rc |= reload(name)
        elif cmd in ("status", "is-active"):
            r = status(name, cmd == "status")
            rc = r if r else rc
        else:
            die(f"{cmd}: not supported by the test shim")
    return rc


if __name__ == "__main__":
    sys.exit(main())

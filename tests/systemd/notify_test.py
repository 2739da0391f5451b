#!/usr/bin/env python3
"""Issue 14 (systemd): dfd-host speaks systemd's notification protocol to a real socket.

An all-in-one dfd-host (info-sqlite, auth-sqlite, broker-local, storage-fs, digest-openssl, a
[content] data plane, and the test-only test-info plugin, healthy only once a file exists) runs
on loopback ports with NOTIFY_SOCKET naming an AF_UNIX datagram socket this test bound, as
systemd would. Checked, by counting datagrams in the order they arrived (no timing):

1. readiness: while test-info is unhealthy /readyz answers 503 and the host sends STATUS lines
   naming it, never READY=1; the file is created; READY=1 arrives, and /readyz then answers 200;
2. SIGHUP rescan: a file copied into the storage root is not in the catalog; SIGHUP; RELOADING=1
   (with MONOTONIC_USEC), then READY=1, by which time the index holds the file
   (dfd_content_files on /metrics); the catalog lists the file as available (announced with
   file.available through the broker) and its bytes download with the manifest's token;
3. SIGTERM: STOPPING=1 is the last datagram, and the host exits 0;
4. a NOTIFY_SOCKET nobody listens on neither blocks nor fails the host: it serves, logs one
   warning, and exits 0 on SIGTERM.

usage: notify_test.py BUILD_DIR [--abstract] [--wrap 'CMD ARGS']
  --abstract   NOTIFY_SOCKET is an abstract name ("@dfd-notify-...") instead of a path
  --wrap       a command prefix for dfd-host (unit_sandbox_test.py runs it under strace)
Other scripts import run_lifecycle() (unit_sandbox_test.py).
"""
import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEADLINE_S = 30  # every wait below ends with a failure after this long


def fail(message):
    raise AssertionError(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, tls=None):
    """(status, body bytes); status 0 when nothing answers. `tls`: an ssl.SSLContext for https."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10, context=tls) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, OSError):
        return 0, b""


def wait_for(what, check, proc=None):
    """check()'s first true value; fails after DEADLINE_S, or at once when `proc` has exited."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            fail("dfd-host exited (%d) while waiting for %s" % (proc.returncode, what))
        time.sleep(0.05)
    fail("timed out waiting for " + what)


class NotifySocket:
    """The service manager's end: a bound AF_UNIX datagram socket, read in arrival order."""

    def __init__(self, directory, abstract):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "dfd-notify-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(directory, "notify.sock")
            self.sock.bind(self.address)
        self.received = []  # every message, as a dict of its KEY=VALUE lines

    def next(self, what):
        """The next datagram (waits up to DEADLINE_S)."""
        self.sock.settimeout(DEADLINE_S)
        try:
            raw = self.sock.recv(4096)
        except socket.timeout:
            fail("no datagram while waiting for " + what)
        msg = dict(line.split("=", 1) for line in raw.decode().split("\n") if "=" in line)
        self.received.append(msg)
        return msg

    def until(self, key, what):
        """Reads datagrams up to and including the first with KEY=1; returns those before it."""
        before = []
        while True:
            msg = self.next(what)
            if msg.get(key) == "1":
                return before, msg
            before.append(msg)

    def pending(self):
        """Datagrams already queued, without waiting."""
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                raw = self.sock.recv(4096)
                out.append(dict(l.split("=", 1) for l in raw.decode().split("\n") if "=" in l))
        except BlockingIOError:
            pass
        self.received.extend(out)
        return out

    def close(self):
        self.sock.close()


class AioHost:
    """A real all-in-one dfd-host in a temporary directory, stopped by PID."""

    def __init__(self, build, tmp, notify_address, wrap=(), gate=True, uid=None, pki=None):
        """`pki`: a scripts/pki directory: HTTPS on both planes with its server.pem/.key."""
        build = os.path.abspath(build)
        self.tmp = tmp
        self.files = os.path.join(tmp, "files")
        self.state = os.path.join(tmp, "state")
        os.makedirs(self.files, exist_ok=True)
        os.makedirs(self.state, exist_ok=True)
        self.gate = os.path.join(tmp, "plugin-healthy")
        with open(os.path.join(self.files, "first.txt"), "w") as f:
            f.write("served from the start\n")
        with open(os.path.join(tmp, "admin-pw"), "w") as f:
            f.write("admin-password-1\n")
        cp, dp = free_port(), free_port()
        self.base = "%s://127.0.0.1:%d" % ("https" if pki else "http", cp)
        self.tls = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem")) if pki else None
        server_tls = ""
        if pki:  # a copy, so that the key belongs to the user the host runs as
            os.makedirs(os.path.join(tmp, "tls"), exist_ok=True)
            for name in ("server.pem", "server.key"):
                shutil.copy(os.path.join(pki, name), os.path.join(tmp, "tls", name))
            server_tls = 'tls_cert = "%s/tls/server.pem"\ntls_key = "%s/tls/server.key"\n' % (tmp, tmp)
        self.config = os.path.join(tmp, "aio.toml")
        test_plugins = os.path.join(build, "tests", "host", "plugins")
        gate_line = 'healthy_file = "%s"\n' % self.gate if gate else ""
        with open(self.config, "w") as f:
            f.write(f"""plugin_path = ["{test_plugins}"]

[server]
id = "notify-aio"
zone = "zone-a"
listen = "127.0.0.1:{cp}"
threads = 2
state_dir = "{self.state}"
shutdown_grace_ms = 2000
{server_tls}
[content]
listen = "127.0.0.1:{dp}"
chunk_size = 65536
heartbeat_interval_ms = 500
rescan_interval_s = 0

[[plugin]]
name = "digest-openssl"

[[plugin]]
name = "storage-fs"
root = "{self.files}"
settle_ms = 0

[[plugin]]
name = "auth-sqlite"
db = "{self.state}/auth.db"
kdf_iterations = 1000

[[plugin]]
name = "broker-local"

[[plugin]]
name = "info-sqlite"
db = "{self.state}/catalog.db"
admin_email = "admin@example.com"
admin_password_file = "{tmp}/admin-pw"
heartbeat_timeout_ms = 3000

[[plugin]]
name = "test-info"
{gate_line}""")
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        if notify_address is not None:
            env["NOTIFY_SOCKET"] = notify_address
        self.log_path = os.path.join(tmp, "host.log")
        self.log_file = open(self.log_path, "w")
        if uid is not None:  # as that user (root only): its own temporary directory
            for root, dirs, files in os.walk(tmp):
                for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                    os.chown(name, uid, uid)
            wrap = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + list(wrap)
        self.wrapped = bool(wrap)
        if "strace" in wrap:  # a sanitized build: LeakSanitizer cannot run under ptrace
            env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        argv = list(wrap) + [os.path.join(build, "bin", "dfd-host"), "--config", self.config]
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def readyz(self):
        return http("GET", self.base + "/readyz", tls=self.tls)[0]

    def pid(self):
        """dfd-host's PID: when wrapped, the last wrapper's child (setpriv execs what it runs;
        strace -o blocks the signals it gets, so they go to its child)."""
        if not self.wrapped:
            return self.proc.pid
        path = "/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)
        return int(wait_for("the wrapped dfd-host", lambda: open(path).read().split()[:1])[0])

    def signal(self, sig):
        os.kill(self.pid(), sig)

    def wait_exit(self):
        try:
            return self.proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            fail("dfd-host did not exit")

    def kill(self):
        """Ends dfd-host (and a wrapper: a killed strace would leave its tracee running)."""
        if self.proc.poll() is None:
            if self.wrapped:
                path = "/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)
                try:
                    for child in open(path).read().split():
                        os.kill(int(child), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()

    def metric(self, name):
        """The value of an unlabelled series on /metrics (loopback: no admin token), or None."""
        status, body = http("GET", self.base + "/metrics", tls=self.tls)
        for line in body.decode().splitlines() if status == 200 else []:
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    # --- the info API -----------------------------------------------------------------------
    def login(self):
        status, body = http("POST", self.base + "/v1/auth/login",
                            {"email": "admin@example.com", "password": "admin-password-1"}, tls=self.tls)
        if status != 200:
            fail("login: %d %s" % (status, body))
        return json.loads(body)["token"]

    def listed(self, token, name):
        """The catalog entry named `name`, or None."""
        status, body = http("GET", self.base + "/v1/files?limit=100", token=token, tls=self.tls)
        if status != 200:
            return None
        for f in json.loads(body)["files"]:
            if f["name"] == name:
                return f
        return None

    def download(self, token, file_id):
        status, body = http("GET", "%s/v1/files/%d" % (self.base, file_id), token=token, tls=self.tls)
        if status != 200:
            fail("manifest: %d %s" % (status, body))
        m = json.loads(body)
        url = "%s/v1/content/%s" % (m["locations"][0]["url"], m["uid"])
        status, data = http("GET", url, token=m["download_token"], tls=self.tls)
        if status != 200:
            fail("download: %d" % status)
        return data


def run_lifecycle(build, abstract=False, wrap=(), tmp=None, uid=None, pki=None):
    """Steps 1-3 above, in `tmp` (kept) or a temporary directory (removed), as user `uid` if
    given (through setpriv, outside `wrap`), over HTTPS with a scripts/pki directory `pki`.
    Returns the host's log."""
    keep = tmp is not None
    tmp = tmp or tempfile.mkdtemp(prefix="dfd-notify-")
    notify = NotifySocket(tmp, abstract)
    host = AioHost(build, tmp, notify.address, wrap, uid=uid, pki=pki)
    try:
        # 1. Not ready while test-info waits for its file: STATUS names it, no READY=1.
        wait_for("/readyz 503", lambda: host.readyz() == 503, host.proc)
        first = notify.next("the first STATUS")
        if "READY" in first or "test-info" not in first.get("STATUS", ""):
            fail("first datagram should be a STATUS naming test-info: %r" % first)
        early = notify.pending()
        if any("READY" in m for m in early):
            fail("READY=1 while /readyz answers 503: %r" % early)
        if host.readyz() != 503:
            fail("/readyz should still answer 503")
        open(host.gate, "w").close()
        before, ready = notify.until("READY", "READY=1")
        readyz = host.readyz()
        if readyz != 200:
            fail("READY=1 arrived but /readyz answers %d" % readyz)
        if "serving" not in ready.get("STATUS", ""):
            fail("READY=1 without a STATUS saying what it serves: %r" % ready)
        print("ready: %r (after %d STATUS datagrams)" % (ready, 1 + len(early) + len(before)))

        # 2. A file copied in, then SIGHUP: RELOADING=1, READY=1, then announced.
        token = host.login()
        wait_for("first.txt listed", lambda: host.listed(token, "first.txt"))
        # 16 MiB: hashing it takes long enough that a READY=1 sent before the rescan finished
        # would be caught by the index check below.
        late = b"copied in while the server runs\n" * (1 << 19)
        with open(os.path.join(tmp, "late.bin.tmp"), "wb") as f:
            f.write(late)
        shutil.copy(os.path.join(tmp, "late.bin.tmp"), os.path.join(host.files, "late.bin"))
        if host.listed(token, "late.bin"):
            fail("late.bin listed before SIGHUP (rescan_interval_s = 0)")
        if notify.pending():
            fail("datagrams before SIGHUP: %r" % notify.received[-1])
        host.signal(signal.SIGHUP)
        reloading = notify.next("RELOADING=1")
        if reloading.get("RELOADING") != "1" or not reloading.get("MONOTONIC_USEC", "").isdigit():
            fail("after SIGHUP expected RELOADING=1 with MONOTONIC_USEC: %r" % reloading)
        again = notify.next("READY=1 after the rescan")
        if again.get("READY") != "1":
            fail("after RELOADING=1 expected READY=1: %r" % again)
        # READY=1 comes after the rescan finished: the index already holds the file.
        files = host.metric("dfd_content_files")
        if files != 2:
            fail("READY=1 after RELOADING=1 but the index holds %r files, not 2" % files)
        entry = wait_for("late.bin listed as available",
                         lambda: (lambda e: e if e and e["available"] else None)(
                             host.listed(token, "late.bin")))
        if host.download(token, entry["id"]) != late:
            fail("late.bin's bytes differ")
        print("SIGHUP: RELOADING=1, READY=1, late.bin announced and served")

        # 3. SIGTERM: STOPPING=1, exit 0.
        host.signal(signal.SIGTERM)
        stopping = notify.next("STOPPING=1")
        if stopping.get("STOPPING") != "1":
            fail("after SIGTERM expected STOPPING=1: %r" % stopping)
        code = host.wait_exit()
        if code != 0:
            fail("dfd-host exited %d" % code)
        if notify.pending():
            fail("datagrams after STOPPING=1: %r" % notify.received[-1])
        print("SIGTERM: STOPPING=1, exit 0")
        return host.log()
    except BaseException:
        sys.stderr.write("--- dfd-host log ---\n" + host.log())
        raise
    finally:
        host.kill()
        notify.close()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def run_without_listener(build):
    """Step 4: NOTIFY_SOCKET names a socket nobody bound."""
    tmp = tempfile.mkdtemp(prefix="dfd-notify-")
    host = AioHost(build, tmp, os.path.join(tmp, "nobody-listens.sock"), gate=False)
    try:
        wait_for("/readyz 200", lambda: host.readyz() == 200, host.proc)
        host.signal(signal.SIGHUP)
        wait_for("the SIGHUP logged", lambda: "SIGHUP: rescanning" in host.log())
        host.signal(signal.SIGTERM)
        code = host.wait_exit()
        log = host.log()
        if code != 0:
            fail("dfd-host exited %d with an unused NOTIFY_SOCKET" % code)
        warnings = [l for l in log.splitlines() if "notification not sent" in l]
        if len(warnings) != 1 or " warn" not in warnings[0]:
            fail("expected one warning about the unsent notification: %r" % warnings)
        print("NOTIFY_SOCKET without a listener: served, one warning, exit 0")
    except BaseException:
        sys.stderr.write("--- dfd-host log ---\n" + host.log())
        raise
    finally:
        host.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--abstract", action="store_true")
    ap.add_argument("--wrap", default="")
    args = ap.parse_args()
    run_lifecycle(args.build, args.abstract, shlex.split(args.wrap))
    run_without_listener(args.build)
    print("PASS")


if __name__ == "__main__":
    main()

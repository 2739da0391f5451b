#!/usr/bin/python3
"""The status page in a real browser (issue 14): a real cluster (scripts/cluster up --plain:
RabbitMQ, one info server, three file servers), one file server killed (SIGKILL: its heartbeats
stop), the info server's GET /v1/servers waited on until it says so, one `dfd get` through the
two that are left; then headless Chromium (selenium + chromedriver) opens /ui, logs in as the
cluster's admin and the DOM must show the killed server DOWN and the other two UP, every sample
file with its three locations (the killed one's marked down), the download in "Recent
downloads", the token rate, and no console error (a Content-Security-Policy violation would be
one). A screenshot is saved under the build dir and its path printed. Logging out must forget
the token and revoke it on the server.

Usage: status_page_browser_test.py REPO_DIR BUILD_DIR
Exit 0 pass, 1 fail, 77 skip (no chromium, chromedriver or selenium).
Everything it starts (the cluster, chromedriver, chromium) is stopped by PID on exit.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
KILLED = "fs-b"
SAMPLES = ["hello.txt", "small.bin", "odd.bin", "big.bin"]
DOWNLOADED = "small.bin"

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("SKIP: python3-selenium is not installed (scripts/setup installs it)")
    sys.exit(SKIP)


class Failure(Exception):
    pass


def say(msg):
    print("ui-test: " + msg, flush=True)


def check(cond, msg):
    if not cond:
        raise Failure(msg)
    say("ok - " + msg)


def wait_for(what, predicate, timeout_s, step_s=0.25):
    """Polls predicate() until it returns a true value (returned) or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure("timed out after %d s waiting for %s" % (timeout_s, what))
        time.sleep(step_s)


def cluster_env(path):
    """cluster.env's variables (shell syntax), read by bash."""
    out = subprocess.run(["bash", "-c", 'set -a; source "$1"; env -0', "bash", path],
                         check=True, capture_output=True, env={"PATH": os.environ["PATH"]})
    env = {}
    for item in out.stdout.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode()] = v.decode()
    return env


def api(base, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError:
        return 0, None


def descendants(pid):
    """PIDs of every live descendant of pid (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


class Browser:
    """Headless Chromium through chromedriver. open() starts them; close() (also after an open()
    that was interrupted half way) leaves no process of theirs behind."""

    def __init__(self, tmp, log_path):
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,1700", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-sync",
                    "--user-data-dir=" + os.path.join(tmp, "chromium-profile")):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.options = opts
        self.service = Service(CHROMEDRIVER, log_path=log_path)
        self.driver = None
        self.pids = []

    def open(self):
        self.driver = webdriver.Chrome(service=self.service, options=self.options)
        return self.driver

    def close(self):
        process = getattr(self.service, "process", None)
        if process is not None:
            self.pids += [process.pid] + descendants(process.pid)
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception as e:  # noqa: BLE001 - still kill by PID below
                say("driver.quit: %s" % e)
        try:
            self.service.stop()
        except Exception:  # noqa: BLE001
            pass
        for pid in set(self.pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while any(alive(p) for p in self.pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p for p in set(self.pids) if alive(p)]
        if left:
            raise Failure("browser processes still alive: %s" % left)


def rows_text(driver, css):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def run(repo, build, tmp):
    cluster = os.path.join(repo, "scripts", "cluster")
    cdir = os.path.join(tmp, "cluster")
    env = dict(os.environ, DFD_BUILD_DIR=build)
    t0 = time.monotonic()
    up = subprocess.run([cluster, "up", "--dir", cdir, "--plain", "--sample-size", "1M"],
                        env=env, capture_output=True, text=True)
    if up.returncode != 0:
        print(up.stdout + up.stderr)
        raise Failure("scripts/cluster up --plain exited %d" % up.returncode)
    say("cluster up in %.1f s" % (time.monotonic() - t0))
    e = cluster_env(os.path.join(cdir, "cluster.env"))
    server, email, password = e["DFD_SERVER"], e["DFD_DEMO_EMAIL"], e["DFD_DEMO_PASSWORD"]
    ids = e["DFD_FILESERVER_IDS"].split()
    pids = e["DFD_FILESERVER_PIDS"].split()
    check(ids == ["fs-a", "fs-b", "fs-c"], "three file servers: %s" % ids)

    status, login = api(server, "/v1/auth/login", body={"email": email, "password": password})
    check(status == 200 and login["user"]["role"] == "admin", "the cluster's demo user is an admin")
    token = login["token"]

    os.kill(int(pids[ids.index(KILLED)]), signal.SIGKILL)
    say("killed %s (pid %s)" % (KILLED, pids[ids.index(KILLED)]))

    def killed_down():
        st, body = api(server, "/v1/servers", token)
        if st != 200:
            return None
        health = {s["server_id"]: s["healthy"] for s in body["servers"]}
        return health if health.get(KILLED) is False else None
    health = wait_for("the info server to mark %s down" % KILLED, killed_down, 30)
    check(health == {"fs-a": True, "fs-b": False, "fs-c": True},
          "GET /v1/servers: %s down, the others up" % KILLED)

    # The cluster's own readiness check took manifests too: count small.bin's before ours.
    files = {f["name"]: f["id"] for f in api(server, "/v1/files", token)[1]["files"]}
    before = [x for x in api(server, "/v1/status/audit?event=manifest&limit=200", token)[1]["entries"]
              if x["file_id"] == files[DOWNLOADED]]
    check(len(before) < 20, "%d earlier manifests of %s (fewer than the page shows)" %
          (len(before), DOWNLOADED))

    dfd_env = dict(os.environ, DFD_SERVER=server, XDG_CONFIG_HOME=os.path.join(tmp, "xdg"))
    dfd = os.path.join(build, "bin", "dfd")
    subprocess.run([dfd, "login", "--email", email, "--password-stdin"], input=password + "\n",
                   env=dfd_env, check=True, capture_output=True, text=True)
    get = subprocess.run([dfd, "get", DOWNLOADED, "-o", os.path.join(tmp, DOWNLOADED),
                          "--no-progress"], env=dfd_env, capture_output=True, text=True)
    if get.returncode != 0:
        print(get.stdout + get.stderr)
        raise Failure("dfd get %s exited %d" % (DOWNLOADED, get.returncode))
    say("dfd get %s with %s down: verified" % (DOWNLOADED, KILLED))

    browser = Browser(tmp, os.path.join(tmp, "chromedriver.log"))
    try:
        d = browser.open()
        d.get(server + "/ui")
        wait = WebDriverWait(d, 20)
        wait.until(lambda drv: drv.find_element(By.ID, "login-view").is_displayed())
        check(not d.find_element(By.ID, "status-view").is_displayed(),
              "before login only the login form shows")
        d.find_element(By.ID, "email").send_keys(email)
        d.find_element(By.ID, "password").send_keys(password)
        d.find_element(By.ID, "login-button").click()

        check_page(d, wait, server, email, ids, before, build)
        check_user_view(d, wait, server, token)
    finally:
        browser.close()
        say("chromedriver and chromium stopped")


def check_page(d, wait, server, email, ids, before, build):
    """The logged-in page's DOM, a screenshot, then logout."""
    shot = os.path.join(build, "tests", "ui", "status-page.png")
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    try:
        check_dom(d, wait, email, ids, before)
    except Failure:
        d.save_screenshot(shot)
        print("screenshot (of the failure): " + shot, flush=True)
        raise
    check(d.save_screenshot(shot), "screenshot saved")
    print("screenshot: " + shot, flush=True)
    page_token = d.execute_script("return sessionStorage.getItem('dfd.status.token')")
    d.find_element(By.ID, "logout").click()
    wait.until(lambda drv: drv.find_element(By.ID, "login-view").is_displayed())
    check(d.execute_script("return sessionStorage.getItem('dfd.status.token') === null"),
          "logout forgets the token")
    check(not d.find_elements(By.CSS_SELECTOR, "tr[data-server-id], tr[data-file-name], "
                                               "tr[data-download]"),
          "logout leaves no data of the session in the page")
    check(api(server, "/v1/users/me", page_token)[0] == 401,
          "logout revoked the page's token on the server")


def check_user_view(d, wait, server, admin_token):
    """A user who is not an admin: servers and files, no locations, no admin data; the page
    refreshes by itself."""
    user, pw = "viewer@dfd.local", "viewer-password-1"
    st, _ = api(server, "/v1/users", admin_token, {"email": user, "password": pw, "role": "user"})
    check(st == 201, "a non-admin user created (POST /v1/users: %d)" % st)
    d.find_element(By.ID, "email").clear()
    d.find_element(By.ID, "email").send_keys(user)
    d.find_element(By.ID, "password").send_keys(pw)
    d.find_element(By.ID, "login-button").click()
    wait.until(lambda drv: drv.find_elements(By.CSS_SELECTOR, 'tr[data-file-name="big.bin"]') and
               drv.find_elements(By.CSS_SELECTOR, 'tr[data-server-id="%s"]' % KILLED))
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-server-id="%s"]' % KILLED)
    check(row.get_attribute("data-health") == "down", "a user sees %s DOWN too" % KILLED)
    files = d.find_element(By.CSS_SELECTOR, 'tr[data-file-name="big.bin"]')
    check(not files.find_elements(By.CSS_SELECTOR, "[data-location]") and
          "admin only" in files.text, "a user sees files without locations: %r" % files.text)
    check(d.find_element(By.ID, "downloads-note").text == "Needs an admin account." and
          not d.find_element(By.ID, "downloads-table").is_displayed() and
          not d.find_element(By.ID, "tokens-view").is_displayed(),
          "a user sees no downloads and no token rate")
    first = d.find_element(By.ID, "updated").text
    WebDriverWait(d, 15).until(lambda drv: drv.find_element(By.ID, "updated").text != first)
    check(True, "the page refreshed by itself (%s -> %s)" %
          (first, d.find_element(By.ID, "updated").text))
    errors = [m for m in d.get_log("browser") if m.get("level") == "SEVERE"]
    check(not errors, "no console error as a user: %s" % errors)


def check_dom(d, wait, email, ids, before):
    """Waits until the page filled in, then checks what it shows."""
    def page_ready(drv):
        return (drv.find_elements(By.CSS_SELECTOR, 'tr[data-server-id="%s"]' % KILLED)
                and drv.find_elements(By.CSS_SELECTOR, "#downloads tr[data-download]")
                and drv.find_element(By.ID, "sum-rate").text != "–")
    try:
        wait.until(page_ready)
    except TimeoutException:
        raise Failure("the page did not fill in 20 s; body: %s" %
                      d.find_element(By.TAG_NAME, "body").text[:2000])
    check(d.execute_script("return sessionStorage.getItem('dfd.status.token') !== null"),
          "the token is kept in sessionStorage")

    for sid in ids:
        row = d.find_element(By.CSS_SELECTOR, 'tr[data-server-id="%s"]' % sid)
        want = "down" if sid == KILLED else "up"
        check(row.get_attribute("data-health") == want and
              (("DOWN" if want == "down" else "UP") in row.text.split()),
              "%s is shown %s: %r" % (sid, want.upper(), row.text))
    zones = rows_text(d, "#zones h3")
    check(zones == ["zone-a — 1 of 1 up", "zone-b — 0 of 1 up", "zone-c — 1 of 1 up"],
          "zones with their servers: %s" % zones)
    check(d.find_element(By.ID, "sum-servers").text == "2 / 3", "summary: 2 / 3 servers up")

    for name in SAMPLES:
        row = d.find_element(By.CSS_SELECTOR, 'tr[data-file-name="%s"]' % name)
        locs = {c.get_attribute("data-location"): c.get_attribute("data-health")
                for c in row.find_elements(By.CSS_SELECTOR, "[data-location]")}
        check(locs == {"fs-a": "up", "fs-b": "down", "fs-c": "up"},
              "%s listed with its locations %s" % (name, locs))
    downloads = rows_text(d, "#downloads tr[data-download]")
    ours = [r for r in downloads if DOWNLOADED in r and email in r]
    check(len(ours) > len(before),
          "the dfd get of %s by %s is in Recent downloads (%d rows, %d before it): %s" %
          (DOWNLOADED, email, len(ours), len(before), downloads[:3]))
    tokens = d.find_element(By.ID, "tokens-text").text
    check("tokens/s over the last minute" in tokens, "token issuance: %s" % tokens)
    check(int(d.find_element(By.ID, "sum-tokens").text) >= 1, "tokens issued counted")

    errors = [m for m in d.get_log("browser") if m.get("level") == "SEVERE"]
    check(not errors, "no console error (CSP violations included): %s" % errors)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    repo, build = (os.path.abspath(a) for a in sys.argv[1:])
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            print("SKIP: %s is missing (scripts/setup installs chromium and chromium-driver)" % path)
            return SKIP
    # A SIGTERM (ctest's timeout, a CI cancel) unwinds like an exception: the finally blocks
    # stop the browser and the cluster.
    def terminate(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup
        sys.exit(143)
    signal.signal(signal.SIGTERM, terminate)
    tmp = tempfile.mkdtemp(prefix="dfd-ui-test.")
    t0 = time.monotonic()
    rc = 0
    try:
        run(repo, build, tmp)
    except Failure as e:
        print("FAIL: %s" % e, flush=True)
        rc = 1
    finally:
        cdir = os.path.join(tmp, "cluster")
        if os.path.isdir(cdir):
            subprocess.run([os.path.join(repo, "scripts", "cluster"), "down", "--dir", cdir],
                           capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    say("%s in %.1f s" % ("passed" if rc == 0 else "FAILED", time.monotonic() - t0))
    return rc


if __name__ == "__main__":
    sys.exit(main())

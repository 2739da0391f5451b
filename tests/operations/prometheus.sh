#!/usr/bin/env bash
# Issue 14 (observe): Debian's prometheus scrapes a real dfd deployment with the scrape config of
# docs/operations/prometheus.yml, and every expression of docs/operations/dfd-dashboard.json is
# evaluated through Prometheus' HTTP API.
#
# configs/all-in-one.toml runs as one dfd-host (info + file server, no RabbitMQ) with its TLS lines
# on, an admin token and the access log on; dfd logs in and downloads two files (traffic on both
# planes). The docs' prometheus.yml, with its host names, CA and token paths pointed at this host
# and a 1 s scrape interval, must pass `promtool check config`; prometheus (127.0.0.1, a temporary
# --storage.tsdb.path, stopped by PID) must then scrape both jobs over HTTPS with the bearer token;
# /api/v1/query must return a dfd_* and a process_* series of the host; and every dashboard
# expression (Grafana's $job/$instance/$__rate_interval filled in) must be accepted. Which
# expressions return data is printed; those over series that this deployment always has
# (process_*, dfd_http_*, dfd_content_*, dfd_info_*) must. The access log is checked on the way:
# JSON lines, the request id a client sent, no token.
source "$(dirname "$0")/../deploy/lib.sh"
need_build
for tool in prometheus promtool python3 openssl curl; do
  command -v "$tool" >/dev/null || fail "'$tool' is missing (scripts/setup installs it)"
done

DOC_PROM=$SRC_DIR/docs/operations/prometheus.yml
DASHBOARD=$SRC_DIR/docs/operations/dfd-dashboard.json
promtool check config --syntax-only "$DOC_PROM" >"$T/promtool-doc.txt" 2>&1 || {
  cat "$T/promtool-doc.txt" >&2
  fail "docs/operations/prometheus.yml does not pass promtool check config"
}
pass "docs/operations/prometheus.yml: promtool check config --syntax-only"

# --------------------------------------------------------------------------- the dfd host
mkdir -p "$T/files" "$T/state"
"$SRC_DIR/scripts/cluster" samples "$T/files" --sample-size 3M >/dev/null
"$SRC_DIR/scripts/pki" "$T/pki" server >/dev/null
# shellcheck disable=SC2016  # ${DFD_ACCESS_LOG:-} is for dfd-host to expand
sed -E -e 's/^# (tls_(cert|key) = )/\1/' \
  -e '/^\[content\]/a access_log = "${DFD_ACCESS_LOG:-}"' \
  "$SRC_DIR/configs/all-in-one.toml" >"$T/aio.toml"
grep -q '^tls_cert' "$T/aio.toml" || fail "configs/all-in-one.toml has no commented tls_cert line"
openssl rand -hex 24 >"$T/admin-token"
chmod 600 "$T/admin-token"
read -r cport dport pport < <(free_ports 3)
password=$(openssl rand -hex 12)
env DFD_STATE_DIR="$T/state" DFD_STORAGE_ROOT="$T/files" \
  DFD_CONTROL_LISTEN="127.0.0.1:$cport" DFD_CONTENT_LISTEN="127.0.0.1:$dport" \
  DFD_TLS_CERT="$T/pki/server.pem" DFD_TLS_KEY="$T/pki/server.key" \
  DFD_ADMIN_TOKEN_FILE="$T/admin-token" DFD_ACCESS_LOG="$T/access.log" \
  DFD_ADMIN_EMAIL=ops@dfd.local DFD_ADMIN_PASSWORD="$password" \
  "$HOST" --config "$T/aio.toml" </dev/null >"$T/host.log" 2>&1 &
host_pid=$!
CLEANUPS+=("kill -KILL $host_pid 2>/dev/null")
export DFD_SERVER=https://127.0.0.1:$cport XDG_CONFIG_HOME=$T/xdg DFD_CA_BUNDLE=$T/pki/ca.pem
wait_healthz "$DFD_SERVER" $host_pid "$T/host.log" "the all-in-one dfd-host"
grep -q "access log to '$T/access.log'" "$T/host.log" || fail "dfd-host did not say where its access log goes"
pass "all-in-one dfd-host up (HTTPS, admin token, access log)"

printf '%s\n' "$password" | "$DFD" login --email ops@dfd.local --password-stdin >/dev/null || fail "dfd login"
wait_listed "$T/ls.txt" big.bin small.bin
for f in big.bin small.bin; do
  "$DFD" get "$(file_id "$f")" -o "$T/got-$f" --no-progress >"$T/get-$f.log" 2>&1 || {
    cat "$T/get-$f.log" >&2
    fail "dfd get $f"
  }
done
uid=$(sha256sum <"$T/files/big.bin" | cut -d' ' -f1)
headers=$(curl --cacert "$T/pki/ca.pem" -s -D - -o /dev/null -H 'X-Request-Id: ops-check-1' \
  -H 'Authorization: Bearer not-a-real-token' "https://127.0.0.1:$dport/v1/content/$uid?token=QUERY-SECRET")
grep -qi '^x-request-id: ops-check-1' <<<"$headers" || fail "the data plane did not echo X-Request-Id: $headers"
pass "traffic: dfd login, ls, get big.bin and small.bin; a refused request with X-Request-Id"

# --------------------------------------------------------------------------- prometheus
sed -E -e 's/^(  (scrape|evaluation)_interval:) 15s/\1 1s/' \
  -e "s#/etc/prometheus/dfd/ca.pem#$T/pki/ca.pem#" \
  -e "s#/etc/prometheus/dfd/admin-token#$T/admin-token#" \
  -e "s#\"[a-z0-9-]+\.dfd\.example:[0-9]+\"#\"127.0.0.1:$cport\"#" \
  "$DOC_PROM" >"$T/prometheus.yml"
grep -q 'dfd.example' "$T/prometheus.yml" && fail "a target of docs/operations/prometheus.yml was not rewritten"
promtool check config "$T/prometheus.yml" >"$T/promtool.txt" 2>&1 || {
  cat "$T/promtool.txt" >&2
  fail "the test's copy of prometheus.yml does not pass promtool check config"
}
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$pport" --log.level=warn </dev/null >"$T/prometheus.log" 2>&1 &
prom_pid=$!
CLEANUPS+=("kill -TERM $prom_pid 2>/dev/null; for _ in \$(seq 1 100); do kill -0 $prom_pid 2>/dev/null || break; sleep 0.1; done; kill -KILL $prom_pid 2>/dev/null")
ready=0
for _ in $(seq 1 300); do
  [ "$(http_code "http://127.0.0.1:$pport/-/ready")" = 200 ] && ready=1 && break
  kill -0 $prom_pid 2>/dev/null || {
    cat "$T/prometheus.log" >&2
    fail "prometheus exited during start"
  }
  sleep 0.2
done
[ $ready = 1 ] || {
  tail -n 20 "$T/prometheus.log" >&2
  fail "prometheus is not ready after 60 s"
}
pass "prometheus ready on 127.0.0.1:$pport (pid $prom_pid)"

python3 - "http://127.0.0.1:$pport" "$DASHBOARD" <<'PY' || { tail -n 20 "$T/prometheus.log" >&2; fail "Prometheus queries"; }
import json, sys, time, urllib.parse, urllib.request
base, dashboard = sys.argv[1], sys.argv[2]

def query(expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400: the expression was refused
        return json.load(e)

def wait_for(expr, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = query(expr)
        if r.get("status") == "success" and r["data"]["result"]:
            return r["data"]["result"]
        time.sleep(0.5)
    print(f"FAIL: no data for {what}: {expr} -> {query(expr)}", file=sys.stderr)
    sys.exit(1)

for job in ("dfd-info", "dfd-fileservers"):
    wait_for(f'up{{job="{job}"}} == 1', f"a successful scrape of job {job} (HTTPS + bearer token)")
print("ok: both jobs of prometheus.yml scraped over HTTPS with the bearer token")
r = wait_for('dfd_build_info{job="dfd-info"}', "a dfd_* series")
print(f"ok: dfd_build_info -> version {r[0]['metric'].get('version')} at {r[0]['metric']['instance']}")
r = wait_for('process_resident_memory_bytes{job="dfd-info"} > 1e6', "a process_* series")
print(f"ok: process_resident_memory_bytes -> {float(r[0]['value'][1]) / 2**20:.1f} MiB")
# Enough samples for rate() over the dashboard's window.
wait_for('count_over_time(up{job="dfd-info"}[1m]) >= 8', "eight scrapes")

doc = json.load(open(dashboard))
exprs = []
def walk(panels):
    for p in panels:
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
        walk(p.get("panels", []))
walk(doc["panels"])
for v in doc["templating"]["list"]:  # label_values(SELECTOR, LABEL) is Grafana's: check SELECTOR
    q = v.get("query")
    if isinstance(q, dict) and q["query"].startswith("label_values("):
        exprs.append(("variable " + v["name"], q["query"][len("label_values("):].rsplit(",", 1)[0]))
if len(exprs) < 20:
    print(f"FAIL: only {len(exprs)} expressions in the dashboard", file=sys.stderr)
    sys.exit(1)
# Every dfd/process series this deployment always has must show on the dashboard.
must_have_data = ("process_", "dfd_http_requests_total", "dfd_content_bytes_sent_total",
                  "dfd_content_responses_total", "dfd_info_catalog_files", "dfd_build_info",
                  "dfd_content_access_log_lines_total")
errors, empty = [], []
print(f"{'data':5} {'panel':45} expression")
for title, expr in exprs:
    e = (expr.replace("$__rate_interval", "1m").replace('"$job"', '".+"')
             .replace('"$instance"', '".+"').replace("$job", ".+").replace("$instance", ".+"))
    r = query(e)
    if r.get("status") != "success":
        errors.append(f"{title}: {expr}: {r.get('errorType')}: {r.get('error')}")
        continue
    has = bool(r["data"]["result"])
    print(f"{'yes' if has else 'no':5} {title[:45]:45} {expr}")
    if not has:
        empty.append(expr)
        if any(m in expr for m in must_have_data) and "5.." not in expr and "dropped" not in expr:
            errors.append(f"{title}: {expr}: no data, but this deployment has the series")
print(f"{len(exprs)} expressions accepted: {len(exprs) - len(empty)} with data, {len(empty)} without")
if errors:
    print("FAIL:\n  " + "\n  ".join(errors), file=sys.stderr)
    sys.exit(1)
PY
pass "every dashboard expression accepted by Prometheus"

# --------------------------------------------------------------------------- access log
python3 - "$T/access.log" "$uid" <<'PY' || fail "access log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
text = open(sys.argv[1]).read()
assert lines, "no access-log line"
served = [l for l in lines if l["status"] == 206 and l.get("file_name") == "big.bin"]
assert served, "no 206 for big.bin in the access log"
assert all(l["complete"] and l["bytes"] > 0 for l in served), served
refused = [l for l in lines if l["request_id"] == "ops-check-1"]
assert len(refused) == 1 and refused[0]["status"] == 403, refused
assert refused[0]["path"] == "/v1/content/" + sys.argv[2], refused
for secret in ("QUERY-SECRET", "not-a-real-token", "Bearer", "token="):
    assert secret not in text, secret
print(f"ok: access log: {len(lines)} JSON lines, {len(served)} ranges of big.bin, the refused request under its id, no token")
PY

stop_host $prom_pid prometheus
stop_host $host_pid dfd-host
pass "prometheus and dfd-host stopped by PID"

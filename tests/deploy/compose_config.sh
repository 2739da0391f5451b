#!/usr/bin/env bash
# docker/compose.yaml is a valid compose file (validated offline; there is no Docker engine here),
# and it has what issues 6 and 12 ask: rabbitmq, info, zone-a x3, zone-b, zone-c, healthchecks,
# volumes; TLS on every hop (every dfd server gets a certificate and key from mounted files,
# amqps:// broker URLs, a CA for the client), one broker user and one event key per server, each
# server mounting only its own secrets, guest and passwords nowhere in the file.
source "$(dirname "$0")/lib.sh"
command -v docker-compose >/dev/null || {
  echo "SKIP: docker-compose is not installed"
  exit 77
}
cd "$SRC_DIR"
docker-compose -f docker/compose.yaml config >"$T/config.yaml" 2>"$T/err" || {
  cat "$T/err" >&2
  fail "docker-compose config rejected docker/compose.yaml"
}
python3 - "$T/config.yaml" docker/compose.yaml <<'PY' || fail "compose.yaml misses something (see above)"
import sys, yaml
text = open(sys.argv[1]).read()
raw = open(sys.argv[2]).read()
c = yaml.safe_load(text)
svc = c["services"]
bad = []
need = ["rabbitmq", "info", "fs-a1", "fs-a2", "fs-a3", "fs-b1", "fs-c1", "secrets", "demo-data", "client"]
bad += ["no service " + n for n in need if n not in svc]
for n in ["fileserver-a.toml", "fileserver-b.toml", "fileserver-c.toml", "info.toml",
          "dockerfile: docker/Dockerfile", "/readyz"]:
    if n not in text:
        bad.append("missing in the resolved file: " + n)
servers = [n for n in need if n == "info" or n.startswith("fs-")]
zone_a = [n for n in servers if n.startswith("fs-a")]
if len(zone_a) != 3:
    bad.append("zone-a has %d servers, want 3" % len(zone_a))
for n in servers:
    s = svc.get(n, {})
    env = s.get("environment", {})
    vols = [v if isinstance(v, str) else "%s:%s" % (v.get("source"), v.get("target")) for v in s.get("volumes", [])]
    if "healthcheck" not in s:
        bad.append(n + ": no healthcheck")
    elif "https://" not in " ".join(s["healthcheck"]["test"]):
        bad.append(n + ": healthcheck is not https")
    for k in ["DFD_TLS_CERT", "DFD_TLS_KEY", "DFD_AMQP_CA_FILE", "DFD_AMQP_PASSWORD_FILE",
              "DFD_EVENTS_DIR"]:
        if not env.get(k, "").startswith("/run/dfd/"):
            bad.append("%s: %s is not a mounted file: %r" % (n, k, env.get(k)))
    url = env.get("DFD_AMQP_URL", "")
    if not url.startswith("amqps://%s@" % env.get("DFD_SERVER_ID")):
        bad.append("%s: broker URL %r is not amqps:// as its own user" % (n, url))
    if n != "info" and not env.get("DFD_PUBLIC_URL", "").startswith("https://"):
        bad.append(n + ": public URL is not https")
    own = [v[:-3] if v.endswith(":ro") else v for v in vols if v.startswith("secrets-")]
    if own != ["secrets-%s:/run/dfd/secrets" % n]:
        bad.append("%s mounts secrets %r, want only its own" % (n, own))
if svc.get("secrets", {}).get("command") != servers:
    bad.append("service secrets makes keys for %r, want %r" % (svc.get("secrets", {}).get("command"), servers))
if not svc.get("client", {}).get("environment", {}).get("DFD_CA_BUNDLE"):
    bad.append("client has no DFD_CA_BUNDLE")
for word in ["guest:", "guest@", "DFD_AMQP_PASSWORD:", "RABBITMQ_DEFAULT_PASS", "amqp://"]:
    if word in raw:
        bad.append("docker/compose.yaml contains " + word)
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
grep -q 'scripts/setup' docker/Dockerfile || fail "docker/Dockerfile does not run scripts/setup"
pass "docker-compose -f docker/compose.yaml config: TLS, per-server broker users and keys"

# docker/secrets.sh (the `secrets` service) on this machine: files owned by the given uids, mode
# 0600, a definitions.json whose users match the password files and that has no guest. Needs
# dfd-host keygen (the image has it) and root for chown (skipped otherwise).
if [ "$(id -u)" = 0 ] && [ -x "${DFD_BUILD_DIR:-/nonexistent}/bin/dfd-host" ] &&
  "$DFD_BUILD_DIR/bin/dfd-host" keygen --out "$T/probe" --name probe >/dev/null 2>&1; then
  mkdir -p "$T/bin"
  ln -s "$DFD_BUILD_DIR/bin/dfd-host" "$T/bin/dfd-host"
  PATH=$T/bin:$PATH DFD_SECRETS_DIR=$T/secrets DFD_PKI_SCRIPT=$SRC_DIR/scripts/pki DFD_UID=4242 \
    RABBITMQ_UID=4343 sh docker/secrets.sh info fs-a1 fs-b1 >"$T/secrets.log" 2>&1 || {
    cat "$T/secrets.log" >&2
    fail "docker/secrets.sh failed"
  }
  python3 - "$T/secrets" <<'PY' || fail "docker/secrets.sh output (see above)"
import base64, hashlib, json, os, stat, sys
d = sys.argv[1]
bad = []
defs = json.load(open(os.path.join(d, "rabbitmq/definitions.json")))
users = {u["name"]: u for u in defs["users"]}
if set(users) != {"info", "fs-a1", "fs-b1"}:
    bad.append("broker users %r" % sorted(users))
for h in ["info", "fs-a1", "fs-b1"]:
    for f in ["tls.pem", "tls.key", h + ".key", "amqp-password"]:
        st = os.stat(os.path.join(d, h, f))
        if st.st_uid != 4242 or stat.S_IMODE(st.st_mode) != 0o600:
            bad.append("%s/%s: uid %d mode %o" % (h, f, st.st_uid, stat.S_IMODE(st.st_mode)))
    pw = open(os.path.join(d, h, "amqp-password"), "rb").read()
    raw = base64.b64decode(users.get(h, {}).get("password_hash", ""))
    if hashlib.sha256(raw[:4] + pw).digest() != raw[4:]:
        bad.append(h + ": password hash does not match its password file")
topics = {t["user"]: t["write"] for t in defs["topic_permissions"]}
if topics.get("info") != r"^token\.(issued|revoked)$":
    bad.append("info topic permission %r" % topics.get("info"))
if topics.get("fs-a1") != r"^(file\.(available|removed)|server\.heartbeat)\.fs\-a1$":
    bad.append("fs-a1 topic permission %r" % topics.get("fs-a1"))
trusted = {h: sorted(os.listdir(os.path.join(d, h, t)))
           for h, t in [("info", "trusted-by-info"), ("fs-a1", "trusted-by-fs"), ("fs-b1", "trusted-by-fs")]}
if trusted != {"info": ["fs-a1.pub", "fs-b1.pub"], "fs-a1": ["info.pub"], "fs-b1": ["info.pub"]}:
    bad.append("trusted keys %r" % trusted)
if os.stat(os.path.join(d, "rabbitmq/tls.key")).st_uid != 4343:
    bad.append("rabbitmq/tls.key is not RabbitMQ's")
if [e["name"] for e in defs.get("exchanges", [])] != ["dfd"]:
    bad.append("definitions.json does not declare the exchange dfd")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
  pass "docker/secrets.sh: owner-only key files, broker users matching their passwords, trust folders"
else
  echo "skip: docker/secrets.sh run (needs root and dfd-host keygen)"
fi

#!/usr/bin/env bash
# docker/compose.yaml is a valid compose file (validated offline; there is no Docker engine here),
# and it has what issue 6 asks: rabbitmq, info, zone-a x3, zone-b, zone-c, healthchecks, volumes.
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
python3 - "$T/config.yaml" <<'PY' || fail "compose.yaml misses something (see above)"
import sys, re
text = open(sys.argv[1]).read()
need = ["  rabbitmq:", "  info:", "  fs-a:", "  fs-b:", "  fs-c:", "replicas: 3", "healthcheck:",
        "/readyz", "fileserver-a.toml", "fileserver-b.toml", "fileserver-c.toml", "info.toml",
        "demo-data:", "dockerfile: docker/Dockerfile"]
missing = [n for n in need if n not in text]
if missing:
    print("missing in the resolved compose file:", missing)
    sys.exit(1)
PY
grep -q 'scripts/setup' docker/Dockerfile || fail "docker/Dockerfile does not run scripts/setup"
pass "docker-compose -f docker/compose.yaml config"

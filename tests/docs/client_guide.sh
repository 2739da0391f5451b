#!/usr/bin/env bash
# Every example of docs/client.md, run in order against a real cluster (scripts/cluster: TLS,
# RabbitMQ, an info server, three file servers in zone-a/b/c holding hello.txt, small.bin, odd.bin
# and a 64 MiB big.bin). tests/docs/doc_examples.py explains what is checked.
# The document's https://info.example.org:9200 is the cluster's info server; its CA is trusted
# through DFD_CA_BUNDLE (as a publicly trusted certificate would be); `dfd login` reads the demo
# user's password (an admin) from stdin. The commands run in a scratch home folder (the document's
# /home/you); `dfd` is the build's; `cmake --install build` installs this build.
# Usage: client_guide.sh BUILD_DIR SOURCE_DIR [--keep]   (--keep: leave the cluster running)
set -euo pipefail
BUILD_DIR=$(cd "$1" && pwd)
SRC_DIR=$(cd "$2" && pwd)
KEEP=${3:-}
[ -x "$BUILD_DIR/bin/dfd" ] && [ -x "$BUILD_DIR/bin/dfd-host" ] ||
  { echo "build dfd and dfd-host (target dfd-deploy) first" >&2; exit 1; }
command -v rabbitmq-server >/dev/null || { echo "skip: no rabbitmq-server (scripts/setup)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/dfd-client-guide.XXXXXX")
cleanup() {
  local rc=$?
  if [ -z "$KEEP" ]; then
    DFD_BUILD_DIR=$BUILD_DIR "$SRC_DIR/scripts/cluster" down --dir "$T/cluster" >/dev/null 2>&1 || true
  fi
  if [ $rc = 0 ] && [ -z "$KEEP" ]; then rm -rf "$T"; else echo "(files kept in $T)"; fi
  exit $rc
}
trap cleanup EXIT

DFD_BUILD_DIR=$BUILD_DIR "$SRC_DIR/scripts/cluster" up --dir "$T/cluster" --sample-size 64M >"$T/cluster.log" 2>&1 ||
  { tail -n 40 "$T/cluster.log" >&2; echo "FAIL: scripts/cluster up" >&2; exit 1; }
# shellcheck disable=SC1091
source "$T/cluster/cluster.env"
mkdir -p "$T/home"
(umask 077 && printf '%s\n' "$DFD_DEMO_PASSWORD" >"$T/password")
INFO_URL=${DFD_SERVER%%,*}
export PATH=$BUILD_DIR/bin:$PATH DFD_CA_BUNDLE
unset DFD_SERVER DFD_CONFIG XDG_CONFIG_HOME DFD_CLIENT_CERT DFD_CLIENT_KEY
python3 "$SRC_DIR/tests/docs/doc_examples.py" "$SRC_DIR/docs/client.md" \
  --workdir "$T/home" --home "$T/home" --stdin-file "$T/password" \
  --replace "https://info.example.org:9200=$INFO_URL" \
  --replace "/etc/dfd/ca.pem=$DFD_CA_BUNDLE" --replace "/home/you=$T/home" \
  --replace "cmake --install build =cmake --install $BUILD_DIR "

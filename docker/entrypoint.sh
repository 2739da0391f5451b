#!/bin/sh
# Container entrypoint: fills in what differs between replicas of one service before it runs the
# command (dfd-host --config ..., dfd ..., or anything else).
#
#   DFD_SERVER_ID   default: "$DFD_ID_PREFIX-<container hostname>" (unique per replica; it is
#                   also the server's durable queue name)
#   DFD_PUBLIC_URL  default: https://<container IP>:<port of DFD_CONTENT_LISTEN> when DFD_TLS_CERT
#                   is set, else http:// (what the manifests tell clients in the same network;
#                   with TLS the certificate must name that address: compose sets the URL to the
#                   container's name instead)
set -eu

host=$(hostname)
if [ -z "${DFD_SERVER_ID:-}" ] && [ -n "${DFD_ID_PREFIX:-}" ]; then
  DFD_SERVER_ID="$DFD_ID_PREFIX-$host"
  export DFD_SERVER_ID
fi
if [ -z "${DFD_PUBLIC_URL:-}" ] && [ -n "${DFD_CONTENT_LISTEN:-}" ]; then
  ip=$(hostname -i 2>/dev/null | awk '{print $1}')
  scheme=http
  [ -z "${DFD_TLS_CERT:-}" ] || scheme=https
  DFD_PUBLIC_URL="$scheme://${ip:-$host}:${DFD_CONTENT_LISTEN##*:}"
  export DFD_PUBLIC_URL
fi
mkdir -p "${DFD_STATE_DIR:-/var/lib/dfd}"
exec "$@"

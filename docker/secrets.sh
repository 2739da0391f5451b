#!/bin/sh
# The compose deployment's keys, certificates and broker users, made once into Docker volumes
# (service `secrets` of docker/compose.yaml runs this as root, then exits; later runs keep every
# file that exists, so certificates and passwords never change under running servers).
#
#   dfd-compose-secrets HOST...      e.g. info fs-a1 fs-a2 fs-a3 fs-b1 fs-c1
#
# Writes (each host sees only its own folder: compose mounts one volume per host):
#   /secrets/pki/             the private CA (ca.key never leaves this volume) - scripts/pki
#   /secrets/ca/ca.pem        the CA certificate every host and client trusts
#   /secrets/HOST/tls.pem, tls.key        HOST's certificate (subjectAltName DNS:HOST, localhost)
#   /secrets/HOST/HOST.key, HOST.pub      HOST's Ed25519 event signing key (dfd-host keygen)
#   /secrets/HOST/amqp-password           HOST's RabbitMQ password (random)
#   /secrets/info/trusted-by-info/*.pub   the file servers' public keys (the info server's
#                                         [events] trusted_keys; DFD_EVENTS_DIR=/run/dfd/secrets)
#   /secrets/fs-*/trusted-by-fs/info.pub  the info server's public key (the file servers')
#   /secrets/rabbitmq/                    rabbitmq.conf (TLS listener only), definitions.json
#                                         (one user per host with the permissions of its role,
#                                         no guest), its certificate and the CA
# Host files belong to DFD_UID (the image's `dfd` user), mode 0600; RabbitMQ's to RABBITMQ_UID.
# To bring your own: put your files in these volumes (or bind-mount folders with the same names),
# this script then only fills in what is missing.
set -eu

OUT=${DFD_SECRETS_DIR:-/secrets}
DFD_UID=${DFD_UID:-10001}
RABBITMQ_UID=${RABBITMQ_UID:-999}
PKI=${DFD_PKI_SCRIPT:-/opt/dfd/scripts/pki}
[ $# -ge 1 ] || {
  echo "usage: dfd-compose-secrets HOST..." >&2
  exit 2
}
umask 077

# The CA and one certificate per host and for the broker (scripts/pki keeps what exists).
mkdir -p "$OUT/pki" "$OUT/ca" "$OUT/rabbitmq"
"$PKI" "$OUT/pki" "$@" rabbitmq >/dev/null
cp "$OUT/pki/ca.pem" "$OUT/ca/ca.pem"
chmod 0644 "$OUT/ca/ca.pem"

# amqp_user NAME PASSWORD_FILE: a definitions.json user entry (rabbit_password_hashing_sha256:
# base64(salt . sha256(salt . password)), 4 random bytes of salt).
amqp_user() {
  salt=$(mktemp)
  head -c 4 /dev/urandom >"$salt"
  hash=$({
    cat "$salt"
    { cat "$salt" "$2"; } | openssl dgst -sha256 -binary
  } | openssl base64 -A)
  rm -f "$salt"
  printf '{"name":"%s","password_hash":"%s","hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}' "$1" "$hash"
}

# The permissions of each role, the same as scripts/rabbitmq user gives (scripts/lib/
# rabbitmq-users.sh; docs/broker.md "Users and permissions"); ID = the server id with every
# character but [A-Za-z0-9_] escaped. info: configure/write/read ^(dfd|ID)$, publishes
# ^token\.(issued|revoked)$ only; a file server: configure ^ID$ (its queue, not the exchange),
# write/read ^(dfd|ID)$, publishes ^(file\.(available|removed)|server\.heartbeat)\.ID$ only.
# In JSON every backslash is doubled.
json_regex_id() { printf '%s' "$1" | sed 's/[^A-Za-z0-9_]/\\\\&/g'; }
permission() {
  q=$(json_regex_id "$1")
  conf="^(dfd|$q)\$"
  [ "$1" = info ] || conf="^$q\$"
  printf '{"user":"%s","vhost":"/","configure":"%s","write":"^(dfd|%s)$","read":"^(dfd|%s)$"}' "$1" "$conf" "$q" "$q"
}
topic_permission() {
  if [ "$1" = info ]; then
    write='^token\\.(issued|revoked)$' read='^(file|server)\\.'
  else
    write="^(file\\\\.(available|removed)|server\\\\.heartbeat)\\\\.$(json_regex_id "$1")\$" read='^token\\.'
  fi
  printf '{"user":"%s","vhost":"/","exchange":"dfd","write":"%s","read":"%s"}' "$1" "$write" "$read"
}

users="" perms="" topics=""
for host in "$@"; do
  case $host in *[!A-Za-z0-9._-]* | "") echo "bad host name '$host'" >&2 && exit 2 ;; esac
  d=$OUT/$host
  mkdir -p "$d"
  [ -s "$d/tls.pem" ] || cp "$OUT/pki/$host.pem" "$d/tls.pem"
  [ -s "$d/tls.key" ] || cp "$OUT/pki/$host.key" "$d/tls.key"
  [ -s "$d/$host.key" ] || dfd-host keygen --out "$d" --name "$host" >/dev/null
  [ -s "$d/amqp-password" ] || openssl rand -hex 24 | tr -d '\n' >"$d/amqp-password"
  users="$users${users:+,}$(amqp_user "$host" "$d/amqp-password")"
  perms="$perms${perms:+,}$(permission "$host")"
  topics="$topics${topics:+,}$(topic_permission "$host")"
done
# Who trusts whom: the info server every file server listed here, a file server the info server
# only. Rebuilt every run, so adding a host name enrolls it.
for host in "$@"; do
  d=$OUT/$host
  rm -rf "$d/trusted-by-info" "$d/trusted-by-fs"
  if [ "$host" = info ]; then
    mkdir "$d/trusted-by-info"
    for other in "$@"; do [ "$other" = info ] || cp "$OUT/$other/$other.pub" "$d/trusted-by-info/"; done
  else
    mkdir "$d/trusted-by-fs"
    cp "$OUT/info/info.pub" "$d/trusted-by-fs/"
  fi
  chown -R "$DFD_UID:$DFD_UID" "$d"
  find "$d" -type d -exec chmod 0700 {} +
  find "$d" -type f -exec chmod 0600 {} +
done

# RabbitMQ: TLS only (no plain listener), the users above and no other (definitions loaded at
# boot replace the default guest user).
r=$OUT/rabbitmq
[ -s "$r/tls.pem" ] || cp "$OUT/pki/rabbitmq.pem" "$r/tls.pem"
[ -s "$r/tls.key" ] || cp "$OUT/pki/rabbitmq.key" "$r/tls.key"
cp "$OUT/ca/ca.pem" "$r/ca.pem"
cat >"$r/rabbitmq.conf" <<EOF
listeners.tcp = none
listeners.ssl.default = 5671
ssl_options.cacertfile = /etc/dfd-rabbitmq/ca.pem
ssl_options.certfile = /etc/dfd-rabbitmq/tls.pem
ssl_options.keyfile = /etc/dfd-rabbitmq/tls.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
loopback_users.guest = true
load_definitions = /etc/dfd-rabbitmq/definitions.json
EOF
# Rewritten every run from the password files (which are kept), so it always matches them.
# The exchange exists before any host starts: a file server's user may not declare it.
exchange='{"name":"dfd","vhost":"/","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}'
printf '{"vhosts":[{"name":"/"}],"users":[%s],"permissions":[%s],"topic_permissions":[%s],"exchanges":[%s]}\n' \
  "$users" "$perms" "$topics" "$exchange" >"$r/definitions.json"
chown -R "$RABBITMQ_UID:$RABBITMQ_UID" "$r"
chmod 0700 "$r"
chmod 0600 "$r"/*
echo "dfd-compose-secrets: keys, certificates and broker users for $* in $OUT"

#!/usr/bin/env bash
# docs.deploy_guide: every ```console command of docs/deploy.md, in order, as root, against the
# packages scripts/package builds from BUILD_DIR (dpkg -i ... dpkg --purge), on loopback.
# tests/docs/doc_examples.py runs them (each must exit 0 unless the document shows `echo $?`).
#
# What the test substitutes, and nothing else (docs/deploy.md, "How this guide is tested"):
# - systemctl / journalctl: tests/docs/systemctl_shim.py (PID 1 here is not systemd). It runs a
#   unit's ExecStart= as its User= with its Environment=/EnvironmentFile= from the installed unit
#   file, waits for READY=1 on a NOTIFY_SOCKET for Type=notify, and uses the real systemctl for
#   the offline part of enable/disable (the [Install] symlinks). No sandboxing is applied.
# - RabbitMQ: the system's rabbitmq-server unit, run by the shim with a drop-in
#   (SHIM/system/rabbitmq-server.service.d/) giving it a private node name, Erlang ports, data
#   and log folders under T; its config file is the one the guide writes, in T/etc-rabbitmq
#   (the guide's /etc/rabbitmq). `rabbitmqctl` is /usr/lib/rabbitmq/bin/rabbitmqctl pointed at
#   that node (the /usr/sbin wrapper would switch to the system node's user and cookie).
# - Prometheus: the system's prometheus unit, with a drop-in giving it T/etc-prometheus (a copy
#   of /etc/prometheus/prometheus.yml, the guide's /etc/prometheus), a data folder in T and a
#   loopback port.
# - Ports: the guide's fixed ports (5671, 9090, 9200, 9211-9213, 9101-9103) become free ones.
# - `scripts/package build` and build/packages/ become BUILD_DIR; ~ is a scratch home.
# It refuses to run when dfd or dfd-server is installed, or /srv/dfd or /etc/dfd exists, and it
# removes what it made also on failure: stops every unit it started (by PID), disables them,
# purges the packages, deletes /srv/dfd. Usage: deploy_guide.sh BUILD_DIR SOURCE_DIR [--keep]
set -euo pipefail
BUILD_DIR=$(cd "$1" && pwd)
SRC_DIR=$(cd "$2" && pwd)
KEEP=${3:-}
HERE=$SRC_DIR/tests/docs
skip() {
  echo "skip: $*"
  exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i, a system user)"
for tool in rabbitmq-server prometheus promtool openssl dpkg cpack curl setpriv; do
  command -v "$tool" >/dev/null || [ -x "/usr/lib/rabbitmq/bin/$tool" ] || skip "no $tool (scripts/setup)"
done
# The machine-wide lock of every test that installs dfd's packages (RESOURCE_LOCK dpkg orders
# one ctest run only; build trees side by side run separate ones).
# shellcheck source=scripts/lib/package-lock.sh
source "$SRC_DIR/scripts/lib/package-lock.sh"
package_lock 900
for p in dfd dfd-server dfd-sdk-dev; do
  if dfd_package_present "$p"; then
    echo "FAIL: $p is (partly) installed on this machine; this test installs and purges it" >&2
    exit 1
  fi
done
for d in /srv/dfd /etc/dfd /var/lib/dfd; do
  [ ! -e "$d" ] || { echo "FAIL: $d exists; this test makes and removes it" >&2; exit 1; }
done

umask 022
T=$(mktemp -d "${TMPDIR:-/tmp}/dfd-deploy-guide.XXXXXX")
chmod 755 "$T"  # the services' users (dfd, rabbitmq, prometheus) reach their files under it
SHIM=$T/shim
mkdir -p "$SHIM/system" "$T/bin" "$T/home" "$T/etc-rabbitmq" "$T/etc-prometheus"

EPMD_PORT=
cleanup() {
  local rc=$?
  set +e
  if [ -z "$KEEP" ] || [ $rc != 0 ]; then
    # Every unit the shim started, by the PID it recorded (the shim checks the PID is still its).
    for f in "$SHIM"/state/*.json; do
      [ -e "$f" ] || continue
      unit=$(basename "$f" .json)
      DFD_SYSTEMCTL_SHIM_DIR=$SHIM python3 "$HERE/systemctl_shim.py" systemctl stop "$unit"
      # Its supervisor ends with the service; if not, by PID, once sure the PID is still that
      # supervisor (its environment names this shim folder).
      sup=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("supervisor",""))' "$f")
      if [ -n "$sup" ] && tr '\0' '\n' 2>/dev/null <"/proc/$sup/environ" | grep -qxF "DFD_SYSTEMCTL_SHIM_DIR=$SHIM"; then
        kill "$sup" 2>/dev/null
      fi
    done
    [ -z "$EPMD_PORT" ] || ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1
    for l in /etc/systemd/system/*.wants/dfd-*.service; do
      [ -L "$l" ] && systemctl disable "$(basename "$l")" >/dev/null 2>&1
    done
    for p in dfd-server dfd dfd-sdk-dev; do
      dfd_package_present "$p" && dpkg --purge "$p" >/dev/null
    done
    rm -rf /srv/dfd
  fi
  if [ $rc = 0 ] && [ -z "$KEEP" ]; then rm -rf "$T"; else echo "(files kept in $T)"; fi
  exit $rc
}
trap cleanup EXIT

# Free loopback ports, distinct: 12 for the guide's, the broker's Erlang distribution and epmd,
# and the base of the CLI's range of 11.
read -r -a P <<<"$(python3 - <<'EOF'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
out = []
while len(out) < 12:
    p = random.randrange(30000, 32700)
    if all(abs(p - q) > 11 for q in out) and all(free(p + i) for i in range(11 if len(out) == 11 else 1)):
        out.append(p)
print(*out)
EOF
)"
AMQPS=${P[0]} PROM=${P[1]} INFO=${P[2]} FSA=${P[3]} FSB=${P[4]} FSC=${P[5]}
DATA_A=${P[6]} DATA_B=${P[7]} DATA_C=${P[8]} DIST_PORT=${P[9]} EPMD_PORT=${P[10]} CTL_PORT=${P[11]}

# systemctl and journalctl: the shim; rabbitmqctl: the real CLI, pointed at the private node.
for prog in systemctl journalctl; do
  printf '#!/bin/sh\nexec python3 %q %s "$@"\n' "$HERE/systemctl_shim.py" "$prog" >"$T/bin/$prog"
done
R=$T/rabbitmq
NODE="dfd-guide-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')@localhost"
mkdir -p "$R/home" "$R/cli-home" "$R/mnesia" "$R/log"
head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F' >"$R/home/.erlang.cookie"
cp "$R/home/.erlang.cookie" "$R/cli-home/.erlang.cookie"
chmod 400 "$R/home/.erlang.cookie" "$R/cli-home/.erlang.cookie"
chmod 700 "$R/home" "$R/cli-home"
echo '[].' >"$R/enabled_plugins"
echo '[].' >"$R/advanced.config"
: >"$R/rabbitmq-env.conf"
chown -R rabbitmq:rabbitmq "$R/home" "$R/mnesia" "$R/log"
cat >"$T/bin/rabbitmqctl" <<EOF
#!/bin/sh
# The guide's rabbitmqctl, against the test's private node (see tests/docs/deploy_guide.sh).
export HOME=$R/cli-home RABBITMQ_CONF_ENV_FILE=$R/rabbitmq-env.conf
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
export RABBITMQ_CTL_DIST_PORT_MIN=$CTL_PORT RABBITMQ_CTL_DIST_PORT_MAX=$((CTL_PORT + 10))
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
exec /usr/lib/rabbitmq/bin/rabbitmqctl -n $NODE "\$@"
EOF
chmod 755 "$T"/bin/*
mkdir -p "$SHIM/system/rabbitmq-server.service.d" "$SHIM/system/prometheus.service.d"
cat >"$SHIM/system/rabbitmq-server.service.d/test.conf" <<EOF
[Service]
WorkingDirectory=$R
Environment=HOME=$R/home RABBITMQ_NODENAME=$NODE RABBITMQ_DIST_PORT=$DIST_PORT
Environment=ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$EPMD_PORT
Environment=RABBITMQ_MNESIA_BASE=$R/mnesia RABBITMQ_LOG_BASE=$R/log RABBITMQ_PID_FILE=$R/mnesia/rabbitmq.pid
Environment=RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins RABBITMQ_PLUGINS_EXPAND_DIR=$R/mnesia/plugins-expand
Environment=RABBITMQ_CONFIG_FILE=$T/etc-rabbitmq/rabbitmq.conf RABBITMQ_ADVANCED_CONFIG_FILE=$R/advanced.config
Environment=RABBITMQ_CONF_ENV_FILE=$R/rabbitmq-env.conf
Environment="RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
EOF
cp /etc/prometheus/prometheus.yml "$T/etc-prometheus/prometheus.yml"
mkdir -p "$T/prometheus-data"
chown prometheus:prometheus "$T/prometheus-data"
echo "ARGS=\"--config.file=$T/etc-prometheus/prometheus.yml --storage.tsdb.path=$T/prometheus-data --web.listen-address=127.0.0.1:$PROM\"" >"$T/prometheus.args"
printf '[Service]\nEnvironmentFile=%s\n' "$T/prometheus.args" >"$SHIM/system/prometheus.service.d/test.conf"

export PATH=$T/bin:$PATH DFD_SYSTEMCTL_SHIM_DIR=$SHIM
unset DFD_SERVER DFD_CA_BUNDLE DFD_CONFIG XDG_CONFIG_HOME
echo "deploy_guide: ports amqps $AMQPS, prometheus $PROM, info $INFO, fs control $FSA $FSB $FSC, data $DATA_A $DATA_B $DATA_C; files in $T"
# DFD_DEPLOY_GUIDE_DOC: another copy of the guide (to check that a broken step fails the test).
python3 "$HERE/doc_examples.py" "${DFD_DEPLOY_GUIDE_DOC:-$SRC_DIR/docs/deploy.md}" --workdir "$T/home" --home "$T/home" --stop-on-failure \
  --replace "scripts/package build=$SRC_DIR/scripts/package $BUILD_DIR" \
  --replace "build/packages/=$BUILD_DIR/packages/" \
  --replace "/etc/rabbitmq/=$T/etc-rabbitmq/" --replace "/etc/prometheus/=$T/etc-prometheus/" \
  --replace ":5671=:$AMQPS" --replace "localhost:9090=127.0.0.1:$PROM" \
  --replace ":9200=:$INFO" --replace ":9211=:$FSA" --replace ":9212=:$FSB" --replace ":9213=:$FSC" \
  --replace ":9101=:$DATA_A" --replace ":9102=:$DATA_B" --replace ":9103=:$DATA_C"

# What the guide's last section promises: nothing of dfd is left.
left=()
for d in /etc/dfd /var/lib/dfd /usr/bin/dfd-host /usr/bin/dfd /lib/systemd/system/dfd-host@.service; do
  [ ! -e "$d" ] || left+=("$d")
done
id dfd >/dev/null 2>&1 && left+=("user dfd")
for f in "$SHIM"/state/dfd-*.json; do
  [ -e "$f" ] || continue
  if systemctl is-active "$(basename "$f" .json)" >/dev/null; then left+=("$(basename "$f" .json) running"); fi
done
ls /etc/systemd/system/*.wants/dfd-* >/dev/null 2>&1 && left+=("enable symlinks")
[ ${#left[@]} = 0 ] || { echo "FAIL: left after the guide's purge: ${left[*]}"; exit 1; }
echo "ok: every command of docs/deploy.md ran; nothing of dfd is left"

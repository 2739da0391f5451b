# shellcheck shell=bash
# scripts/cluster --netns: zones that are really apart (sourced by scripts/cluster, not run).
#
# Layout (NAME = dfd-<first 8 hex of sha256(DIR)>, so two clusters never share a namespace):
#
#   root namespace            RabbitMQ, the info server(s), PostgreSQL: on 127.0.0.1 as without
#                             --netns; a relay (netns-relay.py) listens on the same 127.0.0.1
#                             ports inside the namespaces below and forwards to them
#   NAME-client               the client's namespace: veth "to-fs-a" 10.250.1.1/30,
#                             "to-fs-b" 10.250.2.1/30, "to-fs-c" 10.250.3.1/30; reaches the info
#                             server at DFD_SERVER (127.0.0.1 through the relay)
#   NAME-fs-a (-b, -c)        one file server each: veth "to-client" 10.250.N.2/30, shaped on
#                             egress (the download direction) with tbf at the zone's rate; its
#                             data plane listens on 10.250.N.2, its control plane on 127.0.0.1
#                             (reached from the root namespace through the relay, so /healthz and
#                             /metrics stay on loopback); it reaches the broker at 127.0.0.1
#                             through the relay
#
# Only private addresses inside these namespaces; the root namespace gets no interface, address,
# route or qdisc. Deleting a namespace deletes its veth ends and their qdiscs, so `down` (and a
# failed `up`) removes everything by deleting every namespace named NAME-*.
# Certificates: each file server's leaf also carries its 10.250.N.2 as an IP SAN (scripts/pki
# NAME@IP); the broker and info certificates are unchanged (127.0.0.1 through the relay).

# shellcheck disable=SC2034  # NETNS, HOST_PREFIX and LINK_ARGS are set and read by scripts/cluster
NETNS=0
NETNS_LINKS_DEFAULT=zone-a=200mbit,zone-b=100mbit,zone-c=50mbit
NETNS_LINKS=""
NETNS_SUBNET=10.250
NETNS_LATENCY=${DFD_NETNS_LATENCY:-50ms} # tbf queue: this long at the rate
HOST_PREFIX=() # prefix of the dfd-host command (ip netns exec NS) while a file server starts
LINK_ARGS=()   # `scripts/cluster link` arguments (zone-b=20mbit ...)

netns_on() { [ "$NETNS" = 1 ]; }
netns_tag() { printf '%s' "$DIR" | sha256sum | cut -c1-8; }
# netns_name ROLE: the namespace of ROLE (client, fs-a, ...) of this cluster DIR.
netns_name() { echo "dfd-$(netns_tag)-$1"; }
# netns_fs_addr I / netns_client_addr I: both ends of zone I's link (I = 0, 1, 2).
netns_fs_addr() { echo "$NETNS_SUBNET.$(($1 + 1)).2"; }
netns_client_addr() { echo "$NETNS_SUBNET.$(($1 + 1)).1"; }
netns_ours() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^dfd-$(netns_tag)-" || true; }

# netns_rate_ok RATE: a tc rate we accept (e.g. 50mbit, 1.5gbit, 800kbit; not 0).
netns_rate_ok() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?(bit|kbit|mbit|gbit)$ && ! $1 =~ ^[0.]+[a-z]+$ ]]; }

# netns_burst RATE: tbf's bucket in bytes: 10 ms at RATE, at least 32 KiB (well above the
# 1500-byte MTU, and half of a 64 KiB GSO packet, which tbf then splits).
netns_burst() {
  awk -v r="$1" 'BEGIN {
    n = r + 0; u = r; sub(/^[0-9.]+/, "", u)
    m = (u == "gbit") ? 1e9 : (u == "mbit") ? 1e6 : (u == "kbit") ? 1e3 : 1
    b = int(n * m / 8 / 100); if (b < 32768) b = 32768; print b }'
}

# netns_links SPEC: prints "zone rate" lines for every zone (the defaults, overridden by SPEC,
# a comma-separated list of zone-X=RATE). Dies on an unknown zone or a bad rate.
netns_links() {
  local -A rate=()
  local kv z r zones=()
  # shellcheck disable=SC2153  # ZONES: scripts/cluster's
  for z in "${ZONES[@]}"; do zones+=("zone-$z"); done
  for kv in ${NETNS_LINKS_DEFAULT//,/ } ${1//,/ }; do
    z=${kv%%=*}
    r=${kv#*=}
    [[ " ${zones[*]} " == *" $z "* ]] || die "--link: unknown zone '$z' (zones: ${zones[*]})"
    netns_rate_ok "$r" || die "--link $z: bad rate '$r' (e.g. 100mbit, 1gbit, 500kbit)"
    rate[$z]=$r
  done
  for z in "${zones[@]}"; do echo "$z ${rate[$z]}"; done
}

# netns_shape NS RATE: tbf at RATE on NS's link to the client (replaces the old one).
netns_shape() {
  ip netns exec "$1" tc qdisc replace dev to-client root tbf rate "$2" burst "$(netns_burst "$2")" \
    latency "$NETNS_LATENCY"
}

# netns_pki_names NAME...: the certificate names for scripts/pki; a file server's gets its
# namespace address (fs-a@10.250.1.2).
netns_pki_names() {
  local n i
  for n in "$@"; do
    for i in "${!ZONES[@]}"; do
      [ "$n" = "fs-${ZONES[$i]}" ] && n="$n@$(netns_fs_addr "$i")"
    done
    echo "$n"
  done
}

# netns_ports_of WORD...: the ports in WORDs (a port number, or a URL such as
# amqps://127.0.0.1:5671/ or https://127.0.0.1:9200; commas separate several), space-separated.
netns_ports_of() {
  local w all="$*" found=()
  for w in ${all//,/ }; do
    if [[ $w =~ ^[0-9]+$ ]]; then
      found+=("$w")
    elif [[ $w =~ :([0-9]+)(/.*)?$ ]]; then
      found+=("${BASH_REMATCH[1]}")
    fi
  done
  printf '%s\n' "${found[@]}" | sort -un | tr '\n' ' '
}

# netns_up "CONTROL_PORTS" "BROKER" "INFO": makes the namespaces, links and shaping, and starts
# the relay: the broker's ports into every file server's namespace, the info servers' into the
# client's, and the I-th of CONTROL_PORTS from here to the I-th file server's control plane.
# BROKER and INFO: ports or URLs (netns_ports_of); the broker's also include every port of
# DFD_AMQP_URLS / DFD_AMQPS_URLS when scripts/rabbitmq set them (a cluster of nodes). Everything
# it makes is removed by netns_down.
netns_up() {
  local control=() i z ns client fs_ports client_ports
  read -r -a control <<<"$1"
  fs_ports=$(netns_ports_of "$2" "${DFD_AMQP_URLS:-}" "${DFD_AMQPS_URLS:-}")
  client_ports=$(netns_ports_of "$3")
  fs_ports=${fs_ports% } client_ports=${client_ports% }
  { command -v ip && command -v tc; } >/dev/null || die "--netns needs ip and tc (iproute2)"
  [ "$(id -u)" = 0 ] || die "--netns needs root (ip netns add)"
  netns_down >/dev/null
  mkdir -p "$DIR/netns"
  netns_links "$NETNS_LINKS" >"$DIR/netns/links"
  client=$(netns_name client)
  ip netns add "$client" || die "ip netns add $client failed"
  ip netns exec "$client" ip link set lo up
  local relay_args=("$client=${client_ports// /,}")
  for i in "${!ZONES[@]}"; do
    z=${ZONES[$i]}
    ns=$(netns_name "fs-$z")
    ip netns add "$ns" || die "ip netns add $ns failed"
    ip netns exec "$ns" ip link set lo up
    ip link add "to-fs-$z" netns "$client" type veth peer name to-client netns "$ns" ||
      die "cannot make the veth pair $client/to-fs-$z - $ns/to-client"
    ip netns exec "$client" ip addr add "$(netns_client_addr "$i")/30" dev "to-fs-$z"
    ip netns exec "$client" ip link set "to-fs-$z" up
    ip netns exec "$ns" ip addr add "$(netns_fs_addr "$i")/30" dev to-client
    ip netns exec "$ns" ip link set to-client up
    local rate
    rate=$(awk -v z="zone-$z" '$1 == z {print $2}' "$DIR/netns/links")
    netns_shape "$ns" "$rate" || die "tc tbf $rate on $ns/to-client failed"
    relay_args+=("$ns=${fs_ports// /,}" "@$ns=${control[$i]}")
    say "zone-$z: namespace $ns, $(netns_fs_addr "$i") <-> $client $(netns_client_addr "$i"), tbf $rate"
  done
  netns_start_relay "${relay_args[@]}"
}

# netns_start_relay NS=PORTS...: starts netns-relay.py (its PID in DIR/pids and STARTED_PIDS)
# and waits until it listens.
netns_start_relay() {
  local log=$DIR/logs/netns-relay.log i
  mkdir -p "$DIR/logs"
  env DFD_CLUSTER_DIR="$DIR" setsid python3 "$REPO/scripts/lib/netns-relay.py" "$@" </dev/null >"$log" 2>&1 &
  NETNS_RELAY_PID=$!
  echo "$NETNS_RELAY_PID" >>"$DIR/pids"
  STARTED_PIDS+=("$NETNS_RELAY_PID")
  for ((i = 0; i < 100; i++)); do
    grep -qx ready "$log" 2>/dev/null && return 0
    kill -0 "$NETNS_RELAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  show_log_tail "$log"
  die "the namespace relay (pid $NETNS_RELAY_PID) did not start"
}

# netns_down: deletes every namespace of this DIR (their veths and qdiscs go with them). The
# callers have stopped the servers and the relay by PID first; a process someone else started in
# a namespace (a client still running) is left alone: it keeps its namespace until it exits,
# without a name, and nothing can reach it.
netns_down() {
  command -v ip >/dev/null || return 0
  local ns
  for ns in $(netns_ours); do
    ip netns del "$ns" && say "deleted namespace $ns (and its veth and tbf)"
  done
}

# netns_env: the cluster.env lines of --netns.
netns_env() {
  local z fs=()
  for z in "${ZONES[@]}"; do fs+=("$(netns_name "fs-$z")"); done
  printf 'export DFD_NETNS=1\n'
  printf 'export DFD_CLIENT_NETNS=%q\n' "$(netns_name client)"
  printf 'export DFD_FILESERVER_NETNS=%q\n' "${fs[*]}"
  printf 'export DFD_LINKS=%q\n' "$(netns_links_csv)"
  printf 'export DFD_NETNS_RELAY_PID=%q\n' "$NETNS_RELAY_PID"
}
netns_links_csv() { awk '{printf "%s%s=%s", (NR > 1 ? "," : ""), $1, $2}' "$DIR/netns/links"; }

# netns_cmd_link zone-X=RATE...: `scripts/cluster link`: changes the rates of running links and
# DFD_LINKS in cluster.env.
netns_cmd_link() {
  [ $# -gt 0 ] || die "link: give zone-X=RATE (e.g. zone-b=20mbit)"
  grep -qs '^export DFD_NETNS=1' "$DIR/cluster.env" ||
    die "no --netns cluster in $DIR"
  local kv z r new
  new=$(NETNS_LINKS_DEFAULT=$(netns_links_csv) netns_links "$(
    IFS=,
    echo "$*"
  )") || exit 1
  for kv in "$@"; do
    z=${kv%%=*}
    r=${kv#*=}
    netns_shape "$(netns_name "fs-${z#zone-}")" "$r" || die "tc on the link of $z failed"
    say "$z: tbf $r"
  done
  printf '%s\n' "$new" >"$DIR/netns/links"
  sed -i "s|^export DFD_LINKS=.*|export DFD_LINKS=$(netns_links_csv)|" "$DIR/cluster.env"
}

# netns_status: each link's namespace and qdisc rate; exit 1 when one is missing.
netns_status() {
  local bad=0 ns z
  for z in "${ZONES[@]}"; do
    ns=$(netns_name "fs-$z")
    if r=$(ip netns exec "$ns" tc qdisc show dev to-client 2>/dev/null | grep -o 'rate [^ ]*'); then
      printf '%-8s %-8s %s\n' "zone-$z" link "$ns $r"
    else
      printf '%-8s %-8s %s\n' "zone-$z" link "$ns gone"
      bad=1
    fi
  done
  return $bad
}

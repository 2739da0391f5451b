# shellcheck shell=bash
# scripts/cluster's RabbitMQ cluster mode (`up --rabbitmq-nodes N`), sourced by scripts/cluster.
# With N > 1: scripts/rabbitmq starts N clustered nodes (--nodes N), every host's broker section
# lists all N nodes (`urls = ["${DFD_AMQP_URLS}"]` in the config copy it runs, DFD_AMQP_URLS =
# the N URLs of that host's broker user, comma-separated), so its queue is a quorum queue
# replicated to every node, and cluster.env gains DFD_RABBITMQ_NODES, DFD_AMQP_URLS and
# DFD_RABBITMQ_PIDS. With N = 1 (the default) nothing changes.
# Uses scripts/cluster's globals: DIR, RABBIT_NODES, AMQP_SCHEME, BROKER_USERS, and the
# variables of DIR/rabbitmq/rabbitmq.env once it is sourced.

RABBIT_NODES=${RABBIT_NODES:-1}

rabbit_cluster_on() { [ "$RABBIT_NODES" -gt 1 ]; }

# Checks the --rabbitmq-nodes value.
rabbit_cluster_check() {
  case $RABBIT_NODES in '' | *[!0-9]*) die "--rabbitmq-nodes: a number, got '$RABBIT_NODES'" ;; esac
  if [ "$RABBIT_NODES" -lt 1 ] || [ "$RABBIT_NODES" -gt 9 ]; then
    die "--rabbitmq-nodes: 1 to 9, got $RABBIT_NODES"
  fi
}

# Appends scripts/rabbitmq's --nodes option to the caller's array `rabbit_args`.
rabbit_cluster_add_args() {
  if rabbit_cluster_on; then rabbit_args+=(--nodes "$RABBIT_NODES"); fi
}

# The AMQP ports of the nodes (node order) for the scheme in use, from rabbitmq.env's URL list.
rabbit_cluster_ports() {
  local list=$DFD_AMQP_URLS
  [ "$AMQP_SCHEME" = amqp ] || list=${DFD_AMQPS_URLS:?scripts/rabbitmq --tls wrote no DFD_AMQPS_URLS}
  printf '%s\n' "$list" | tr ',' '\n' | sed -E 's|.*:([0-9]+)/$|\1|'
}

# rabbit_cluster_urls [USER]: every node's URL, comma-separated (with USER@, or guest:guest@ when
# the cluster runs without broker users, or no user at all when USER is "-").
rabbit_cluster_urls() {
  local user=${1:-} port node_urls=()
  for port in $(rabbit_cluster_ports); do
    if [ "$user" = - ]; then
      node_urls+=("$AMQP_SCHEME://127.0.0.1:$port/")
    elif [ "$BROKER_USERS" = 1 ]; then
      node_urls+=("$AMQP_SCHEME://$user@127.0.0.1:$port/")
    else
      node_urls+=("$AMQP_SCHEME://guest:guest@127.0.0.1:$port/")
    fi
  done
  (IFS=,; echo "${node_urls[*]}")
}

# rabbit_cluster_config FILE: in the config copy FILE, the broker's `url = ...` line becomes
# `urls = ["${DFD_AMQP_URLS}"]` (every node, from the host's environment).
rabbit_cluster_config() {
  rabbit_cluster_on || return 0
  # shellcheck disable=SC2016  # a literal ${
  grep -q '^url = "\${DFD_AMQP_URL' "$1" || die "$1: no 'url = \"\${DFD_AMQP_URL...' line to list the RabbitMQ nodes in"
  # shellcheck disable=SC2016  # a literal ${...} for dfd-host to expand
  sed -i -E 's|^url = "\$\{DFD_AMQP_URL[^"]*"|urls = ["${DFD_AMQP_URLS}"]  # scripts/cluster --rabbitmq-nodes|' "$1"
}

# rabbit_cluster_host_env NAME: host NAME's DFD_AMQP_URLS line (cluster mode only).
rabbit_cluster_host_env() {
  rabbit_cluster_on || return 0
  echo "DFD_AMQP_URLS=$(rabbit_cluster_urls "$1")"
}

# The cluster.env lines of the RabbitMQ cluster (cluster mode only).
rabbit_cluster_exports() {
  rabbit_cluster_on || return 0
  printf 'export DFD_RABBITMQ_NODES=%q\n' "$RABBIT_NODES"
  printf 'export DFD_RABBITMQ_PIDS=%q\n' "$DFD_RABBITMQ_PIDS"
  if [ "$BROKER_USERS" = 1 ]; then
    printf 'export DFD_AMQP_URLS=%q\n' "$(rabbit_cluster_urls -)"
  else
    printf 'export DFD_AMQP_URLS=%q\n' "$(rabbit_cluster_urls)"
  fi
}

# shellcheck shell=bash
# A RabbitMQ cluster of N nodes on loopback, sourced by scripts/rabbitmq ("start DIR --nodes N",
# "stop-node", "start-node" and every other command on a cluster DIR). Uses scripts/rabbitmq's
# functions (launch, do_stop, export_env, pick_ports, alive) on one node at a time: each node is a
# single-node broker directory DIR/node-I with its own rabbitmq.env, and they share
#   - one Erlang cookie (copied into every node's private HOME before it first starts),
#   - one private epmd port (nodes find each other through it; 127.0.0.1 only),
# and are joined into one cluster: on each node 2..N, what rabbitmqctl stop_app, join_cluster
# NODE-1 and start_app do, in one `rabbitmqctl eval`.
# DIR/rabbitmq.env holds node 1's single-node variables (so a single-node caller works on a
# cluster unchanged) plus DFD_RABBITMQ_NODES, DFD_AMQP_URLS, DFD_AMQPS_URLS (comma-separated, node
# order) and DFD_RABBITMQ_PIDS (space-separated, node order), rewritten by start-node.

CLUSTER_DIR=  # the cluster's DIR while a node's DIR is selected

is_cluster() { [ -f "$ENV_FILE" ] && grep -q '^DFD_RABBITMQ_NODES=' "$ENV_FILE"; }

# Selects node $1 of the cluster in $CLUSTER_DIR: DIR, ENV_FILE and its variables.
use_node() {
  DIR=$CLUSTER_DIR/node-$1
  ENV_FILE=$DIR/rabbitmq.env
  DFD_AMQPS_PORT=''
  DFD_RABBITMQ_PKI=''
  load_env
}

cluster_load() {
  CLUSTER_DIR=$DIR
  # shellcheck disable=SC1090,SC1091
  . "$CLUSTER_DIR/rabbitmq.env"
  CLUSTER_NODES=$DFD_RABBITMQ_NODES
}

# Rewrites DIR/rabbitmq.env of the cluster from the nodes' own env files.
cluster_write_env() {
  local i urls=() surls=() pids=() tmp=$CLUSTER_DIR/rabbitmq.env.tmp
  for i in $(seq 1 "$CLUSTER_NODES"); do
    (use_node "$i" && echo "$DFD_AMQP_URL ${DFD_AMQPS_URL:--} $DFD_RABBITMQ_PID") >"$tmp.$i"
    local u s p
    read -r u s p <"$tmp.$i"
    rm -f "$tmp.$i"
    urls+=("$u")
    [ "$s" = - ] || surls+=("$s")
    pids+=("$p")
  done
  {
    # Node 1's variables, except its directory: DFD_RABBITMQ_DIR is the cluster's.
    grep -v '^DFD_RABBITMQ_DIR=' "$CLUSTER_DIR/node-1/rabbitmq.env"
    echo "DFD_RABBITMQ_DIR=$CLUSTER_DIR"
    echo "DFD_RABBITMQ_NODES=$CLUSTER_NODES"
    echo "DFD_AMQP_URLS=$(IFS=,; echo "${urls[*]}")"
    [ ${#surls[@]} -eq 0 ] || echo "DFD_AMQPS_URLS=$(IFS=,; echo "${surls[*]}")"
    echo "DFD_RABBITMQ_PIDS=\"${pids[*]}\""  # quoted: shell syntax
  } >"$tmp"
  mv "$tmp" "$CLUSTER_DIR/rabbitmq.env"
}

# start DIR --nodes N [--tls PKI]: the PKI (if any) is made by do_start's caller.
cluster_start() {
  local n=$1 i
  CLUSTER_DIR=$DIR
  CLUSTER_NODES=$n
  if [ -f "$CLUSTER_DIR/rabbitmq.env" ]; then
    local old
    for old in $(sed -n 's/^DFD_RABBITMQ_PIDS\{0,1\}=//p' "$CLUSTER_DIR/rabbitmq.env" | tr -d '"'); do
      alive "$old" && die "a broker is already running for $CLUSTER_DIR (pid $old)"
    done
  fi
  local per=4 ports
  read -r -a ports <<<"$(pick_ports $((1 + per * n)))"
  [ ${#ports[@]} -eq $((1 + per * n)) ] || die "could not pick free ports on 127.0.0.1"
  local tag cookie
  tag=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cookie=$(head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F')
  local pids=() failed=0 t0=$SECONDS t_up
  # From here on `stop DIR` finds the nodes, even if this start is interrupted.
  echo "DFD_RABBITMQ_NODES=$n" >"$CLUSTER_DIR/rabbitmq.env"
  for i in $(seq 1 "$n"); do
    mkdir -p "$CLUSTER_DIR/node-$i/home"
    chmod 700 "$CLUSTER_DIR/node-$i/home"
    printf '%s' "$cookie" >"$CLUSTER_DIR/node-$i/home/.erlang.cookie"
    chmod 400 "$CLUSTER_DIR/node-$i/home/.erlang.cookie"
    # shellcheck disable=SC2030,SC2034  # this node's settings, for launch in this subshell only
    (
      DIR=$CLUSTER_DIR/node-$i
      ENV_FILE=$DIR/rabbitmq.env
      RABBITMQ_NODENAME="dfd-$tag-$i@localhost"
      DFD_RABBITMQ_EPMD_PORT=${ports[0]}
      DFD_AMQP_PORT=${ports[$((1 + per * (i - 1)))]}
      DFD_RABBITMQ_DIST_PORT=${ports[$((2 + per * (i - 1)))]}
      DFD_RABBITMQ_CTL_PORT=${ports[$((3 + per * (i - 1)))]}
      DFD_AMQPS_PORT=
      [ -z "$DFD_RABBITMQ_PKI" ] || DFD_AMQPS_PORT=${ports[$((4 + per * (i - 1)))]}
      DFD_RABBITMQ_PID=
      launch
    ) >"$CLUSTER_DIR/node-$i.start.log" 2>&1 &
    pids+=($!)
  done
  for i in $(seq 1 "$n"); do
    wait "${pids[$((i - 1))]}" || failed=$i
  done
  if [ "$failed" != 0 ]; then
    cluster_stop_all
    die "node $failed did not start: $(tail -n 3 "$CLUSTER_DIR/node-$failed.start.log")"
  fi
  t_up=$((SECONDS - t0))
  cluster_write_env
  use_node 1
  local first=$RABBITMQ_NODENAME
  # Nodes 2..N join node 1 one after the other (a join changes the cluster's schema; joined at
  # the same time they were no faster here): what rabbitmqctl stop_app, join_cluster NODE-1 and
  # start_app do, in one CLI call (each call starts an Erlang VM: 1-3 s on a loaded machine).
  for i in $(seq 2 "$n"); do
    use_node "$i"
    export_env
    if ! echo "ok = rabbit:stop(), ok = rabbit_mnesia:join_cluster('$first', disc), ok = rabbit:start()." |
      "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" eval >>"$DIR/log/join.log" 2>&1; then
      local why
      why=$(tail -n 3 "$DIR/log/join.log")
      cluster_stop_all
      die "node $i could not join $first: $why"
    fi
  done
  cluster_write_env
  local line
  line=$(sed -n 's/^DFD_AMQP_URLS=//p' "$CLUSTER_DIR/rabbitmq.env")
  echo "scripts/rabbitmq: cluster of $n nodes (dfd-$tag-1..$n@localhost) ready: ${line//guest:guest@/}" \
    "(nodes up in ${t_up} s, joined in $((SECONDS - t0 - t_up)) s)"
}

cluster_stop_node() {
  use_node "$1"
  do_stop_node
}

# Stops the node selected with use_node, by PID; epmd stays for the other nodes.
do_stop_node() {
  local keep=${DFD_RABBITMQ_EPMD_PORT:-}
  DFD_RABBITMQ_EPMD_PORT=
  do_stop
  DFD_RABBITMQ_EPMD_PORT=$keep
}

# SIGKILL to node $1's process group (the server script, the VM and its helpers), no shutdown.
cluster_kill_node() {
  use_node "$1"
  alive "$DFD_RABBITMQ_PID" || die "node $1 is not running"
  kill -KILL -- "-$DFD_RABBITMQ_PID" 2>/dev/null || kill -KILL "$DFD_RABBITMQ_PID"
  for _ in $(seq 1 50); do
    alive "$DFD_RABBITMQ_PID" || return 0
    sleep 0.1
  done
  die "node $1 (pid $DFD_RABBITMQ_PID) still runs after SIGKILL"
}

cluster_stop_all() {
  local i
  for i in $(seq "$CLUSTER_NODES" -1 1); do
    [ -f "$CLUSTER_DIR/node-$i/rabbitmq.env" ] || continue
    (cluster_stop_node "$i") || true
  done
  local port
  port=$(sed -n 's/^DFD_RABBITMQ_EPMD_PORT=//p' "$CLUSTER_DIR/node-1/rabbitmq.env" 2>/dev/null || true)
  [ -z "$port" ] || ERL_EPMD_PORT=$port ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
}

cluster_start_node() {
  local i=$1
  (
    use_node "$i"
    alive "$DFD_RABBITMQ_PID" && die "node $i is running already (pid $DFD_RABBITMQ_PID)"
    for _ in $(seq 1 100); do
      port_free "$DFD_AMQP_PORT" && { [ -z "${DFD_AMQPS_PORT:-}" ] || port_free "$DFD_AMQPS_PORT"; } && break
      sleep 0.1
    done
    launch
  )
  cluster_write_env
}

# The first node that runs (for ctl and user), selected; dies when none does.
use_running_node() {
  local i
  for i in $(seq 1 "$CLUSTER_NODES"); do
    use_node "$i"
    alive "$DFD_RABBITMQ_PID" && return 0
  done
  die "no node of the cluster in $CLUSTER_DIR is running"
}

node_index() {  # checks that $1 is a node number of the cluster
  case $1 in '' | *[!0-9]*) die "node number expected, got '$1'" ;; esac
  if [ "$1" -lt 1 ] || [ "$1" -gt "$CLUSTER_NODES" ]; then
    die "node $1: the cluster has nodes 1..$CLUSTER_NODES"
  fi
}

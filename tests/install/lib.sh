# shellcheck shell=bash
# Shared by the install tests (sourced after tests/deploy/lib.sh, which gives fail, pass, $T,
# CLEANUPS, http_code, file_id and free_ports): one all-in-one dfd-host from an installed layout
# serves a verified download to an installed client.

# serve_and_get BIN_DIR CONFIG PLUGIN_DIRS FILES STATE [RUN_AS...]
# Starts BIN_DIR/dfd-host --config CONFIG (all-in-one: no RabbitMQ) serving FILES with state in
# STATE, through the command prefix RUN_AS (e.g. setpriv ... to run it as another user); checks
# that every dfd plugin it mapped comes from PLUGIN_DIRS (one directory, or several separated by
# ':'), leaving their paths in SERVE_MAPS; logs in with BIN_DIR/dfd, waits for the catalog,
# downloads big.bin and compares it with the source; stops the host with SIGTERM (exit 0).
serve_and_get() {
  local bin=$1 cfg=$2 plugin_dirs=$3 files=$4 state=$5
  shift 5
  local cport dport password work=$T/serve
  read -r cport dport < <(free_ports 2)
  password=$(openssl rand -hex 12)
  mkdir -p "$work"
  "$@" env DFD_STATE_DIR="$state" DFD_STORAGE_ROOT="$files" \
    DFD_CONTROL_LISTEN="127.0.0.1:$cport" DFD_CONTENT_LISTEN="127.0.0.1:$dport" \
    DFD_ADMIN_EMAIL=installed@dfd.local DFD_ADMIN_PASSWORD="$password" \
    "$bin/dfd-host" --config "$cfg" </dev/null >"$work/host.log" 2>&1 &
  SERVE_PID=$!
  CLEANUPS+=("kill -KILL $SERVE_PID 2>/dev/null")
  local server=http://127.0.0.1:$cport
  wait_healthz "$server" "$SERVE_PID" "$work/host.log" "$bin/dfd-host"
  local maps outside dir dirs
  maps=$(grep -o '/[^ ]*/libdfd-[^ /]*\.so$' "/proc/$SERVE_PID/maps" | sort -u)
  [ -n "$maps" ] || fail "dfd-host (pid $SERVE_PID) mapped no dfd plugin"
  outside=$maps
  IFS=: read -ra dirs <<<"$plugin_dirs"
  for dir in "${dirs[@]}"; do outside=$(grep -v "^$dir/" <<<"$outside" || true); done
  [ -z "$outside" ] || fail "dfd-host loaded plugins from outside $plugin_dirs: $outside"
  # shellcheck disable=SC2034  # read by the tests that source this file
  SERVE_MAPS=$maps
  pass "$bin/dfd-host serves $cfg with $(wc -l <<<"$maps") plugins from $plugin_dirs"

  export DFD_SERVER=$server XDG_CONFIG_HOME=$work/xdg
  unset DFD_CA_BUNDLE
  DFD=$bin/dfd
  printf '%s\n' "$password" | "$DFD" login --email installed@dfd.local --password-stdin >/dev/null ||
    fail "$DFD login"
  wait_listed "$work/ls.txt" big.bin
  "$DFD" get "$(file_id big.bin)" -o "$work/got.bin" --no-progress >"$work/get.log" 2>&1 || {
    cat "$work/get.log" >&2
    fail "$DFD get big.bin"
  }
  cmp -s "$work/got.bin" "$files/big.bin" || fail "the downloaded big.bin differs from the source"
  pass "$DFD login, ls and a verified get of big.bin"

  stop_host "$SERVE_PID" "$bin/dfd-host"
  pass "dfd-host stopped on SIGTERM (exit 0)"
}

# install_components PREFIX COMPONENT...: `cmake --install $BUILD_DIR --prefix PREFIX --component C`
# for each component (the packages: dfd, dfd-server, dfd-sdk-dev); fails with the log otherwise.
install_components() {
  local prefix=$1 c
  shift
  for c in "$@"; do
    cmake --install "$BUILD_DIR" --prefix "$prefix" --component "$c" >>"$T/install.log" 2>&1 || {
      cat "$T/install.log" >&2
      fail "cmake --install --component $c"
    }
  done
}

# check_loads DFD_HOST CONFIG LIBRARY: `DFD_HOST --config CONFIG --check` succeeds and names
# LIBRARY (the plugin came from that file, through the real loader). Logs in $T/check.log.
check_loads() {
  local host=$1 cfg=$2 lib=$3
  "$host" --config "$cfg" --check >"$T/check.log" 2>&1 || {
    cat "$T/check.log" >&2
    fail "$host --config $cfg --check"
  }
  grep -qF "$lib" "$T/check.log" || {
    cat "$T/check.log" >&2
    fail "$host --config $cfg --check did not load $lib"
  }
}

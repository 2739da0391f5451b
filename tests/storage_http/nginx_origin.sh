#!/usr/bin/env bash
# nginx as a storage-http origin for tests, on 127.0.0.1 only, all its files under DIR:
#   nginx_origin.sh start DIR PORT   serves DIR/www at http://127.0.0.1:PORT/ (Range support is
#                                    nginx's own); returns once it answers, DIR/nginx.pid holds
#                                    the master's PID, DIR/access.log one line per request
#                                    ("$status $request_method $uri $http_range $body_bytes_sent")
#   nginx_origin.sh stop DIR         SIGTERM to that PID, waits (10 s at most) until it is gone
# Used by the C++ tests (through a watchdog) and by the shell tests of tests/storage_http.
set -euo pipefail

cmd=${1:?usage: nginx_origin.sh start DIR PORT | stop DIR}
dir=${2:?DIR}

case "$cmd" in
start)
  port=${3:?PORT}
  mkdir -p "$dir/www" "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
  log_format origin '\$status \$request_method \$uri \$http_range \$body_bytes_sent';
  access_log $dir/access.log origin;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  sendfile on;
  server {
    listen 127.0.0.1:$port;
    root $dir/www;
    location / { }
  }
}
CONF
  setsid nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' </dev/null >>"$dir/nginx.out" 2>&1 &
  for _ in $(seq 1 100); do
    if [ -s "$dir/nginx.pid" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
      exit 0
    fi
    sleep 0.05
  done
  cat "$dir/nginx.out" "$dir/error.log" >&2 2>/dev/null || true
  echo "nginx_origin.sh: nginx did not answer on 127.0.0.1:$port" >&2
  exit 1
  ;;
stop)
  [ -s "$dir/nginx.pid" ] || exit 0
  pid=$(cat "$dir/nginx.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    # Gone, or a zombie (its parent, init here, reaps it when it gets round to it).
    st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    if [ -z "$st" ] || [ "$st" = Z ]; then
      rm -f "$dir/nginx.pid"
      exit 0
    fi
    sleep 0.02
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/nginx.pid"
  ;;
*)
  echo "usage: nginx_origin.sh start DIR PORT | stop DIR" >&2
  exit 2
  ;;
esac

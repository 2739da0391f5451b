# shellcheck shell=bash
# RabbitMQ users for dfd roles, sourced by scripts/rabbitmq ("user DIR ..."). Needs export_env
# done and RABBIT_BIN, RABBITMQ_NODENAME set. Everything happens in ONE `rabbitmqctl eval` call
# (each CLI call costs 0.5-0.7 s; separate add_user + set_permissions + set_topic_permissions
# calls would cost three times that per user). The expression, which holds the passwords, goes
# to rabbitmqctl on stdin, never on its command line; a PASSWORD given as @FILE is read from the
# first line of FILE, so it is on no command line at all.
#
# Permissions (vhost /; docs/broker.md "Users and permissions"), ID = the server id, regex-escaped:
#   info        configure/write/read ^(dfd|ID)$
#               topic write ^token\.(issued|revoked)$   topic read ^(file|server)\.
#   fileserver  configure ^ID$ (its queue only: it cannot delete the exchange),
#               write/read ^(dfd|ID)$
#               topic write ^(file\.(available|removed)|server\.heartbeat)\.ID$   topic read ^token\.

# An Erlang binary literal holding $1 (UTF-8).
erl_bin() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '<<"%s"/utf8>>' "$s"
}

# $1 with every character but [A-Za-z0-9_] backslash-escaped: a literal in a PCRE regex.
regex_literal() {
  printf '%s' "$1" | sed 's/[^A-Za-z0-9_]/\\&/g'
}

valid_id() {  # printable ASCII without space, 1-255 bytes (dfd server ids; queue names)
  [ -n "$1" ] && [ ${#1} -le 255 ] && ! printf '%s' "$1" | LC_ALL=C grep -q '[^!-~]'
}

do_users() {
  [ $# -ge 1 ] || usage
  local ops=() name password role id q
  if [ "$1" = --delete ]; then
    { [ $# -eq 2 ] && [ -n "$2" ]; } || usage
    ops+=("ok = rabbit_auth_backend_internal:delete_user($(erl_bin "$2"), Act)")
  else
    while [ $# -gt 0 ]; do
      [ $# -ge 3 ] || usage
      name=$1 password=$2 role=$3
      shift 3
      id=$name
      if [ $# -gt 0 ] && [ "$1" != -- ]; then
        id=$1
        shift
      fi
      if [ $# -gt 0 ]; then
        [ "$1" = -- ] || usage
        shift
      fi
      if [ "${password#@}" != "$password" ]; then
        [ -r "${password#@}" ] || die "user '$name': cannot read password file '${password#@}'"
        IFS= read -r password <"${password#@}" || [ -n "$password" ] ||
          die "user '$name': password file '${password#@}' is empty"
      fi
      valid_id "$name" || die "user name '$name': printable ASCII without space, 1-255 bytes"
      valid_id "$id" || die "server id '$id': printable ASCII without space, 1-255 bytes"
      [ -n "$password" ] || die "user '$name': empty password"
      q=$(regex_literal "$id")
      local conf write read twrite tread
      case $role in
        info)
          conf="^(dfd|$q)\$" write=$conf read=$conf
          twrite='^token\.(issued|revoked)$' tread='^(file|server)\.'
          ;;
        fileserver)
          conf="^$q\$" write="^(dfd|$q)\$" read="^(dfd|$q)\$"
          twrite="^(file\\.(available|removed)|server\\.heartbeat)\\.$q\$" tread='^token\.'
          ;;
        *) die "role '$role': info or fileserver" ;;
      esac
      ops+=("Put($(erl_bin "$name"), $(erl_bin "$password"))")
      ops+=("ok = rabbit_auth_backend_internal:set_permissions($(erl_bin "$name"), VHost, $(erl_bin "$conf"), $(erl_bin "$write"), $(erl_bin "$read"), Act)")
      ops+=("ok = rabbit_auth_backend_internal:set_topic_permissions($(erl_bin "$name"), VHost, <<\"dfd\">>, $(erl_bin "$twrite"), $(erl_bin "$tread"), Act)")
    done
    # The exchange exists before any host starts: a file server's user may not create it.
    ops+=("_ = rabbit_exchange:declare(rabbit_misc:r(VHost, exchange, <<\"dfd\">>), topic, true, false, false, [], Act)")
  fi
  local expr='Act = <<"scripts/rabbitmq">>, VHost = <<"/">>,
Put = fun(U, P) -> case rabbit_auth_backend_internal:exists(U) of
  true -> ok = rabbit_auth_backend_internal:change_password(U, P, Act);
  false -> ok = rabbit_auth_backend_internal:add_user(U, P, Act) end end'
  local op
  for op in "${ops[@]}"; do expr+=",
$op"; done
  expr+=", done."
  local out
  if ! out=$(printf '%s\n' "$expr" | "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" eval 2>&1); then
    # The expression holds passwords: show only RabbitMQ's answer, cut.
    die "rabbitmqctl eval failed: $(printf '%s' "$out" | grep -v '<<' | head -c 600)"
  fi
}

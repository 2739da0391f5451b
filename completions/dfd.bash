# bash completion for dfd (issue 13): commands, options, file names for get/info.
# Installed by `cmake --install` as share/bash-completion/completions/dfd (bash-completion loads it
# on the first `dfd <TAB>`); or `source completions/dfd.bash` from a checkout.
# tests/client/cli_habits_test.sh checks that every option `dfd COMMAND --help` prints is here.

_dfd_commands="login logout ls info get user revoke help"
_dfd_user_commands="add list disable enable passwd"
# Options that read the next word as their value.
_dfd_value_opts=" --server --cacert --cert --key --timeout --email -o --output -d --dir
  --parallel --connections --per-server --zone --limit-rate --per-server-rate --stall-timeout
  --silent-after --min-speed --min-speed-time --deadline --manifest --name --role "
_dfd_global_opts="--server --cacert --cert --key --timeout -h --help --version"

# The options of one command (after the global ones, which every command takes too).
_dfd_command_opts() {
  case $1 in
  # Before the command name (dfd moves options after it): every command's options.
  "") echo "$(_dfd_command_opts get) $(_dfd_command_opts login) $(_dfd_command_opts user-add)" ;;
  login) echo "--email --password-stdin" ;;
  logout | revoke | help) echo "" ;;
  ls) echo "--json" ;;
  info) echo "--json" ;;
  get)
    echo "-o --output -d --dir --parallel --connections --per-server --zone" \
      "--limit-rate --per-server-rate -q --quiet -v --verbose --no-progress --json --force" \
      "--stall-timeout --silent-after --min-speed --min-speed-time --deadline --manifest" \
      "--allow-insecure-locations"
    ;;
  user) echo "" ;;
  user-add) echo "--name --role --password-stdin" ;;
  user-list) echo "--json" ;;
  user-passwd) echo "--password-stdin" ;;
  user-*) echo "" ;;
  esac
}

# File names from the catalog, for `dfd get`/`dfd info`: quick and silent on any error (not
# logged in, no server): at most 2 s, nothing printed.
_dfd_file_names() {
  local dfd=${COMP_WORDS[0]}
  command -v timeout >/dev/null 2>&1 || return 0
  timeout 2 "$dfd" ls --json 2>/dev/null |
    sed -n 's/^ *"name": "\(.*\)",\{0,1\}$/\1/p' 2>/dev/null
}

_dfd() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()

  # The option before the cursor reads a value: complete that value.
  case $prev in
  --cacert | --cert | --key | --manifest)
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
    ;;
  -o | --output)
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return 0
    ;;
  -d | --dir)
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    return 0
    ;;
  --role)
    mapfile -t COMPREPLY < <(compgen -W "user admin" -- "$cur")
    return 0
    ;;
  --server | --timeout | --email | --zone | --connections | --per-server | --parallel | \
    --limit-rate | --per-server-rate | --stall-timeout | --silent-after | --min-speed | \
    --min-speed-time | --deadline | --name)
    return 0
    ;;
  esac

  # The command so far: the first word that is a command name (and `user`'s own command).
  local i w cmd="" sub=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
    -*) [[ $_dfd_value_opts == *[[:space:]]$w[[:space:]]* ]] && ((i++)) ;;
    *)
      if [ -z "$cmd" ]; then
        cmd=$w
      elif [ "$cmd" = user ] && [ -z "$sub" ]; then
        sub=$w
      fi
      ;;
    esac
  done

  if [[ $cur == -* ]]; then
    local key=$cmd
    [ -n "$sub" ] && key=$cmd-$sub
    mapfile -t COMPREPLY < <(compgen -W "$_dfd_global_opts $(_dfd_command_opts "$key")" -- "$cur")
    return 0
  fi
  case $cmd in
  "") mapfile -t COMPREPLY < <(compgen -W "$_dfd_commands" -- "$cur") ;;
  help) mapfile -t COMPREPLY < <(compgen -W "$_dfd_commands" -- "$cur") ;;
  user) [ -z "$sub" ] && mapfile -t COMPREPLY < <(compgen -W "$_dfd_user_commands" -- "$cur") ;;
  get | info)
    local IFS=$'\n'
    mapfile -t COMPREPLY < <(compgen -W "$(_dfd_file_names)" -- "$cur")
    ;;
  esac
  return 0
}

complete -F _dfd dfd

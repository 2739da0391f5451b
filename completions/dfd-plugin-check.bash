# bash completion for dfd-plugin-check (issue 15): options, kinds, log levels, plugin libraries
# (libdfd-*.so) and config files. Installed by `cmake --install` as
# share/bash-completion/completions/dfd-plugin-check; or `source` it from a checkout.
_dfd_plugin_check() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  case $prev in
  --kind)
    mapfile -t COMPREPLY < <(compgen -W "storage auth broker digest" -- "$cur")
    return
    ;;
  --log-level)
    mapfile -t COMPREPLY < <(compgen -W "trace debug info warn error off" -- "$cur")
    return
    ;;
  --plugin)
    mapfile -t COMPREPLY < <(compgen -f -X '!*libdfd-*.so' -- "$cur"; compgen -d -- "$cur")
    return
    ;;
  --config)
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return
    ;;
  --filter) return ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "--kind --plugin --config --filter --list --log-level
    --help --version" -- "$cur")
}
complete -F _dfd_plugin_check dfd-plugin-check

# shellcheck shell=bash
# Credentials out of what the scripts print (sourced by scripts/cluster and scripts/demo).
#
#   mask_secrets                  filter, stdin to stdout: every credential replaced by ***:
#                                 the password of a URL (scheme://user:PASSWORD@host), the value
#                                 of a key ending in password, passwd, secret or token
#                                 (KEY=VALUE, KEY: VALUE, "key": "value", --password VALUE),
#                                 Bearer tokens, and each string in MASK_LITERALS
#   mask_literal_files FILE...    adds the first line of each readable FILE (a password kept in
#                                 a file, e.g. DIR/secrets/amqp-info) to MASK_LITERALS

MASK_LITERALS=()

mask_literal_files() {
  local f s
  for f in "$@"; do
    if [ ! -f "$f" ] || [ ! -r "$f" ]; then continue; fi
    s=$(head -n 1 "$f" 2>/dev/null) || continue
    # Short strings would mask ordinary words; every generated secret is much longer.
    [ ${#s} -lt 8 ] || MASK_LITERALS+=("$s")
  done
}

# mask_sed_escape STRING: STRING as a literal in a sed -E regular expression.
mask_sed_escape() { printf '%s' "$1" | sed -e 's/[][\/.^$*+?(){}|#]/\\&/g'; }

mask_secrets() {
  local args=() s
  for s in "${MASK_LITERALS[@]}"; do args+=(-e "s#$(mask_sed_escape "$s")#***#g"); done
  sed -E "${args[@]}" \
    -e 's#([A-Za-z][A-Za-z0-9+.-]*://[^/:@[:space:]]*:)[^/@[:space:]]+@#\1***@#g' \
    -e 's#((password|passwd|secret|token)"?[[:space:]]*[:=][[:space:]]*"?)[^"'"'"'&,[:space:]]+#\1***#Ig' \
    -e 's#(--(password|passwd|secret|token)[[:space:]]+)[^-[:space:]][^[:space:]]*#\1***#Ig' \
    -e 's#(Bearer[[:space:]]+)[^[:space:]"'"'"']+#\1***#g'
}

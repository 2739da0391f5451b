# zsh -f zsh_complete.zsh COMPLETIONS_DIR OUT_FILE "dfd get --li": the words zsh's completion
# system offers for the end of the line (completions/_dfd through compinit), one per line.
zmodload zsh/zpty
compdir=$1 out=$2 line=$3
: >"$out"
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT='' RPROMPT=''"
zpty -w z "fpath=(${(q)compdir} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "__out=${(q)out}"
zpty -w z 'comptest() { compadd() { builtin compadd -O __hits "$@"; print -l -- $__hits >>$__out; builtin compadd "$@"; }; _main_complete; print END >>$__out; }'
zpty -w z "zle -C comptest-widget complete-word comptest; bindkey '^T' comptest-widget"
zpty -n -w z "$line"$'\x14'
for i in {1..200}; do
  grep -qx END "$out" && break
  sleep 0.05
done
zpty -d z
grep -vx END "$out" | grep -v "^$" | sort -u

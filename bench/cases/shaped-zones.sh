#!/usr/bin/env bash
# Case: zones that are really apart. bench/run's zones cluster (bench/lib/clusters.sh:
# `scripts/cluster up --netns --link ...`) puts each file server and the client in their own network
# namespace, with tbf shaping each file server's link (zone-a=200mbit, zone-b=100mbit,
# zone-c=50mbit: 350 Mbit/s in all). dfd: `dfd get ID` run in the client's namespace; peer:
# `aria2c -x3 -s3 -k1M` in the same namespace from the same three file servers over the same links
# (a manifest's download token in an Authorization header, given through an aria2c input file, not
# the command line). Figure: the share of the links' total rate the download reached (goal: dfd
# >= 90 % and ahead of aria2c). big.bin is 256 MiB (quick: 64 MiB).
# Throttled: the same, with zone-a cut to 20mbit (`scripts/cluster link`) 40 % into the time the
# download would take at the full rate, and restored afterwards; the figure is then the share of
# what the links offered over the download's time (the ideal time under that schedule / the time
# taken); a quick run measures it once, with zone-a cut to 50mbit, and without warm-ups. Without the netns cluster (root, ip netns, branch
# i16-netns) the case reports "skipped".
# BENCH_CLUSTER=zones
set -euo pipefail
CASE_ID=shaped-zones
CASE_TITLE="Shaped zones: three links of 200, 100, 50 Mbit/s"
# shellcheck source=bench/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"
LINKS=$BENCH_LINKS
THROTTLE=${BENCH_THROTTLE:-$(pick zone-a=50mbit zone-a=20mbit)}  # quick: milder, so aria2c's tail stays short
bench_case_init "scripts/cluster up --plain --netns --link $LINKS; dfd get vs aria2c -x3 -s3 -k1M in \$DFD_CLIENT_NETNS; throttled: scripts/cluster link $THROTTLE"
[ -z "${ZONES_NO_NETNS:-}" ] || bench_skip "$ZONES_NO_NETNS"
[ -z "${ZONES_FAILED:-}" ] || bench_die "$ZONES_FAILED"

# rate_bps SPEC: bytes/s of a tc rate ("200mbit", "20mbit", "1gbit", "500kbit").
rate_bps() {
  python3 -c 'import re,sys
m = re.fullmatch(r"([0-9.]+)([kmg]?)bit", sys.argv[1].lower())
print(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)] / 8)' "$1"
}
total=0
declare -A rate
for l in ${LINKS//,/ }; do
  rate[${l%%=*}]=$(rate_bps "${l#*=}")
  total=$(echo "$total + ${rate[${l%%=*}]}" | bc -l)
done
tz=${THROTTLE%%=*}
throttled_total=$(echo "$total - ${rate[$tz]} + $(rate_bps "${THROTTLE#*=}")" | bc -l)

# shellcheck disable=SC1090
source "$ZONES_ENV"
cluster_dir=$DFD_CLUSTER_DIR
[ -n "${DFD_CLIENT_NETNS:-}" ] || bench_die "cluster.env has no DFD_CLIENT_NETNS"
unset DFD_CA_BUNDLE
NS=(ip netns exec "$DFD_CLIENT_NETNS")
export XDG_CONFIG_HOME=$BENCH_WORK/config
INFO=${DFD_SERVER%%,*}  # curl's: the first info server (dfd takes the whole list)
printf '%s\n' "$DFD_DEMO_PASSWORD" | "${NS[@]}" "$DFD" --server "$DFD_SERVER" login --email "$DFD_DEMO_EMAIL" --password-stdin >/dev/null
USER_TOKEN=$(python3 -c 'import json,os; print(json.load(open(os.environ["XDG_CONFIG_HOME"] + "/dfd/credentials"))["token"])')
id=$("${NS[@]}" curl -fsS --max-time 10 -H "Authorization: Bearer $USER_TOKEN" "$INFO/v1/files?limit=1000" |
  python3 -c 'import json,sys
print([f["id"] for f in json.load(sys.stdin)["files"] if f["name"] == "big.bin"][0])')
file=$DFD_SAMPLE_DIR/big.bin
size=$(stat -c %s "$file")
digest=$(sha256sum "$file" | cut -d' ' -f1)
ideal=$(echo "$size / $total" | bc -l)
out=$BENCH_WORK/out
read -r -a roots <<<"$DFD_STORAGE_ROOTS"

# aria_input: an aria2c input file for big.bin: the three locations, the token as a header.
aria_input() {
  "${NS[@]}" curl -fsS --max-time 10 -H "Authorization: Bearer $USER_TOKEN" "$INFO/v1/files/$id" |
    python3 -c 'import json,sys
m = json.load(sys.stdin)
print("\t".join(l["url"].rstrip("/") + "/v1/content/" + m["uid"] for l in m["locations"]))
print("  header=Authorization: Bearer " + m["download_token"])
print("  out=out")' >"$BENCH_WORK/aria.in"
  chmod 600 "$BENCH_WORK/aria.in"
}

# one SIDE THROTTLE(0|1) → "seconds throttle-moment" (the moment: seconds after the start, or 0)
one() {
  local side=$1 thr=$2 t0 t1 pid at=0
  [ "$side" = dfd ] || aria_input
  cat "${roots[@]/%//big.bin}" >/dev/null
  t0=$(now)
  if [ "$side" = dfd ]; then
    "${NS[@]}" timeout "$BENCH_TIMEOUT" "$DFD" --server "$DFD_SERVER" get "$id" -o "$out" --no-progress --json >"$BENCH_WORK/r.json" &
  else
    "${NS[@]}" timeout "$BENCH_TIMEOUT" aria2c -x3 -s3 -k1M -q --allow-overwrite=true --auto-file-renaming=false \
      --console-log-level=warn -d "$BENCH_WORK" -i "$BENCH_WORK/aria.in" &
  fi
  pid=$!
  if [ "$thr" = 1 ]; then
    sleep "$(echo "0.4 * $ideal" | bc -l)"
    "$REPO/scripts/cluster" link --dir "$cluster_dir" "$THROTTLE" >/dev/null
    at=$(since "$t0")
  fi
  wait "$pid" || bench_die "$side failed"
  t1=$(since "$t0")
  [ "$thr" = 0 ] || "$REPO/scripts/cluster" link --dir "$cluster_dir" "$tz=$(grep -o "$tz=[^,]*" <<<"$LINKS" | cut -d= -f2)" >/dev/null
  [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$digest" ] || bench_die "$side wrote other bytes"
  rm -f "$out"
  echo "$t1 $at"
}
# percent SECONDS AT: the share (%) of what the links offered; AT = 0: no throttle.
percent() {
  python3 -c 'import sys
size, total, low, t, at = map(float, sys.argv[1:])
ideal = size / total if at == 0 or size <= total * at else at + (size - total * at) / low
print("%.2f" % (100 * ideal / t))' "$size" "$total" "$throttled_total" "$1" "$2"
}

if [ "$BENCH_QUICK" = 0 ]; then  # warm-up (a full run)
  one dfd 0 >/dev/null
  one aria2c 0 >/dev/null
fi
declare -A res
THROTTLED_RUNS=$(pick 1 "$BENCH_RUNS")  # quick: aria2c takes ~4x longer throttled; one run of it
for r in $(seq "$BENCH_RUNS"); do
  for thr in 0 1; do
    [ "$thr" = 0 ] || [ "$r" -le "$THROTTLED_RUNS" ] || continue
    for side in dfd aria2c; do
      line=$(one "$side" "$thr")
      read -r t at <<<"$line"
      res[$side$thr]+=" $(percent "$t" "$at")"
      [ "$side$thr" != dfd0 ] || cp "$BENCH_WORK/r.json" "$BENCH_WORK/shares.json"
      [ "$side$thr" != dfd1 ] || cp "$BENCH_WORK/r.json" "$BENCH_WORK/shares-throttled.json"
      bench_say "run $r, $side$([ "$thr" = 0 ] || echo ", throttled at ${at}s"): $t s, ${res[$side$thr]##* } % of the links"
    done
  done
done
mib=$(human "$size")
results row --label "$mib over $LINKS" --metric "% of the links' total rate" --better higher \
  --dfd-name "dfd get" --dfd "${res[dfd0]}" --peer-name "aria2c -x3 -s3 -k1M" --peer "${res[aria2c0]}" \
  --goal-min 90 --goal-ratio-min 1 --goal "dfd >= 90 % of the links' rate and ahead of aria2c"
results row --label "$mib, $THROTTLE 40 % into the download" --metric "% of what the links offered" --better higher \
  --dfd-name "dfd get" --dfd "${res[dfd1]}" --peer-name "aria2c -x3 -s3 -k1M" --peer "${res[aria2c1]}" \
  --goal-ratio-min 1 --goal "ahead of aria2c"
share() { json_get "$1" '", ".join("%s %s %%" % (s["zone"], s["share_percent"]) for s in d["servers"])'; }
results note --note "dfd's shares per zone, last run: $(share "$BENCH_WORK/shares.json"); throttled: $(share "$BENCH_WORK/shares-throttled.json")."
results note --note "Links' total rate: $(python3 -c "print('%.1f' % ($total / 1048576))") MiB/s; with $THROTTLE: $(python3 -c "print('%.1f' % ($throttled_total / 1048576))") MiB/s."

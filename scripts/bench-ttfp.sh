#!/usr/bin/env bash
# Time to first playable: how long after an upload's HTTP response the clip can be played, and
# where that time goes.
#
# Runs `shopclip up` on a fresh data directory (JSON logs at debug level), uploads the reference
# clip several times, and for each upload polls the clip until playback.hls appears, then fetches
# the master playlist, the first variant's playlist, its init segment and first media segment
# (and the audio's); the clock stops when all of them have answered 200. The phases come from
# the product's own log lines for the clip (clip_id), stamped by `up` as they happen:
#
#   pickup   the upload's response → the worker starts the task ("transcode: started")
#   exec     → the child process is started, forked and exec'd in its namespaces
#              ("transcode child started")
#   init     → the child runs in its sandbox: loader, sandbox set-up, rlimits, seccomp
#              ("transcode child: running")
#   probe    → the input is opened, probed and the ladder planned ("transcode child probed")
#   encode   → every variant and the audio have their first segment, the provisional master
#              is written ("transcode child playable")
#   publish  → those files and the master are in the blob store and the clip records its
#              playable generation ("transcode: playable")
#   notice   → the clip's playback.hls is seen by this script's polling (every 20 ms)
#   fetch    → master, playlists and first segments all fetched
#
# Prints each round and the medians.
#
# usage: scripts/bench-ttfp.sh [ROUNDS] [INPUT]
#   ROUNDS  uploads, one after the other, each waited on until ready (default 5)
#   INPUT   the clip (default: shared/bench/bbb_vertical_1080x1920_30s.mp4)
# env: TTFP_CONFIG  a config file for `shopclip up` (to compare settings)
#      TTFP_READY=0 delete each clip once playable instead of waiting until it is ready (rounds of
#                   a few seconds; no time to ready)
#      TTFP_BIN     a shopclip binary to run instead of building this checkout's (to compare
#                   commits)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-$(cd .. && pwd)/shared}
[ -d "$shared" ] || shared=/work/shared
rounds=${1:-5}
in=${2:-$shared/bench/bbb_vertical_1080x1920_30s.mp4}
for tool in curl jq; do command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }; done

work=$(mktemp -d /tmp/bench-ttfp.XXXXXX)
bin=${TTFP_BIN:-$work/shopclip}
[ -n "${TTFP_BIN:-}" ] || go build -o "$bin" ./cmd/shopclip
port=$(( 20000 + RANDOM % 10000 ))
api=http://127.0.0.1:$port
config=()
[ -n "${TTFP_CONFIG:-}" ] && config=(--config "$TTFP_CONFIG")
# UTC: the log's times are read back with jq, which takes them in UTC only.
TZ=UTC SHOPCLIP_LOG_LEVEL=debug SHOPCLIP_LOG_FORMAT=json \
  "$bin" up --addr "127.0.0.1:$port" --data "$work/data" "${config[@]}" >"$work/up.log" 2>&1 &
up=$!
trap 'kill -INT $up 2>/dev/null; wait $up 2>/dev/null || true; rm -rf "$work"' EXIT
ready=false
for _ in $(seq 1 300); do
  if curl -fs "$api/readyz" >/dev/null 2>&1; then ready=true; break; fi
  sleep 0.1
done
$ready || { echo "bench: shopclip up did not become ready in 30 s; the end of its log:" >&2; tail -n 20 "$work/up.log" >&2; exit 1; }
key=$("$bin" account create --role creator --name bench --data "$work/data") ||
  { echo "bench: shopclip account create failed (its error is above)" >&2; exit 1; }

# first_uri: sets uri to the first line of the playlist on stdin that is no tag nor blank
# (bash only: no process).
first_uri() {
  local line
  uri=
  while IFS= read -r line; do
    line=${line%$'\r'}
    [[ -n $line && $line != \#* ]] && { uri=$line; return; }
  done
}

# marks ID: the times (Unix seconds) of the log lines that end each phase of clip ID, in phase
# order, "-" for a line not found.
marks() {
  grep -F "\"clip_id\":\"$1\"" "$work/up.log" | jq -rs '
    def ts: capture("^(?<s>[^.Z]+)(?<f>\\.[0-9]+)?Z$") | ((.s + "Z") | fromdate) + ((.f // ".0") | tonumber);
    def at($m): [.[] | select(.msg == $m) | .time | ts] | if length > 0 then min | tostring else "-" end;
    [at("transcode: started"), at("transcode child started"), at("transcode child: running"),
     at("transcode child probed"), at("transcode child playable"), at("transcode: playable")] | join(" ")'
}

phases=(pickup exec init probe encode publish notice fetch)
echo "input: $in ($(du -h "$in" | cut -f1)); $rounds uploads; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %8s' round upload
printf ' %8s' "${phases[@]}"
printf ' %9s %8s\n' playable ready
for r in $(seq 1 "$rounds"); do
  t0=$EPOCHREALTIME
  resp=$(curl -sS -H "Authorization: Bearer $key" -F "file=@$in" -F "title=bench $r" "$api/v1/clips") ||
    { echo "bench: the upload failed (curl's error is above)" >&2; exit 1; }
  t1=$EPOCHREALTIME
  id=$(jq -er .id <<<"$resp") || { echo "bench: the upload was refused: $resp" >&2; exit 1; }
  # From here on, a round runs as few processes as it can (curl only, parsing in bash): on a
  # busy machine each one costs tens of milliseconds that are the benchmark's, not shopclip's.
  while :; do
    clip=$(curl -fsS -H "Authorization: Bearer $key" "$api/v1/clips/$id")
    [[ $clip =~ \"hls\":[[:space:]]*\"([^\"]+)\" ]] && { hls=${BASH_REMATCH[1]}; break; }
    [[ $clip =~ \"status\":[[:space:]]*\"failed\" ]] && { echo "bench: clip failed: $clip" >&2; exit 1; }
    sleep 0.02
  done
  th=$EPOCHREALTIME
  base=$api${hls%master.m3u8}
  # Still processing: its media are its creator's to preview, with the key. The playlists of
  # the first variant and of the audio in one curl, then their init and first segments in
  # another, each on one connection, as a player would.
  master=$(curl -fsS -H "Authorization: Bearer $key" "$api$hls")
  first_uri <<<"$master"
  variant=$uri
  [ -n "$variant" ] || { echo "bench: the master playlist lists no variant:" >&2; echo "$master" >&2; exit 1; }
  audio=
  [[ $master =~ TYPE=AUDIO[^$'\n']*URI=\"([^\"]+)\" ]] && audio=${BASH_REMATCH[1]}
  pls=("$variant" ${audio:+"$audio"})
  fetch=(-fsS -H "Authorization: Bearer $key")
  for i in "${!pls[@]}"; do fetch+=(-o "$work/pl$i" "$base${pls[$i]}"); done
  curl "${fetch[@]}"
  fetch=(-fsS -H "Authorization: Bearer $key")
  for i in "${!pls[@]}"; do
    dir=${pls[$i]%/*}
    IFS= read -rd '' body <"$work/pl$i" || true
    [[ $body =~ EXT-X-MAP:URI=\"([^\"]+)\" ]] || { echo "bench: ${pls[$i]} names no init segment" >&2; exit 1; }
    init=${BASH_REMATCH[1]}
    first_uri <<<"$body"
    seg=$uri
    [ -n "$seg" ] || { echo "bench: ${pls[$i]} lists no segment" >&2; exit 1; }
    fetch+=(-o /dev/null "$base$dir/$init" -o /dev/null "$base$dir/$seg")
  done
  curl "${fetch[@]}"
  t2=$EPOCHREALTIME
  if [ "${TTFP_READY:-1}" = 0 ]; then
    # Deleted: its transcode stops at its next progress report (within a second or so).
    curl -fsS -X DELETE -H "Authorization: Bearer $key" "$api/v1/clips/$id"
    sleep 2
    t3=0
  else
    while [ "$(curl -fsS -H "Authorization: Bearer $key" "$api/v1/clips/$id" | jq -r .status)" != ready ]; do sleep 0.1; done
    t3=$EPOCHREALTIME
  fi
  # Each phase ends at its mark and starts where the one before ended (a missing mark leaves
  # its phase "-" and the next one counted from the last mark found).
  awk -v r="$r" -v t0="$t0" -v t1="$t1" -v th="$th" -v t2="$t2" -v t3="$t3" -v m="$(marks "$id")" 'BEGIN {
    n = split(m, mk, " "); mk[n + 1] = th; mk[n + 2] = t2
    printf "%-5s %8.3f", r, t1 - t0
    prev = t1
    for (i = 1; i <= n + 2; i++) {
      if (mk[i] == "-") { printf " %8s", "-"; continue }
      printf " %8.3f", mk[i] - prev; prev = mk[i]
    }
    printf " %9.3f %8s\n", t2 - t1, (t3 > 0 ? sprintf("%.3f", t3 - t1) : "-")
  }' | tee -a "$work/rounds"
done
median() { sort -g | awk '{a[NR]=$1} END {if (!NR) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-5s' median
for col in $(seq 2 $(( ${#phases[@]} + 4 ))); do
  printf ' %8s' "$(awk -v c="$col" '$c != "-" {print $c}' "$work/rounds" | median)"
done
echo
echo
echo "medians: upload $(awk '{print $2}' "$work/rounds" | median) s," \
  "time to first playable $(awk -v c=$(( ${#phases[@]} + 3 )) '{print $c}' "$work/rounds" | median) s (from the upload's response)," \
  "time to ready $(awk -v c=$(( ${#phases[@]} + 4 )) '{print $c}' "$work/rounds" | median) s"

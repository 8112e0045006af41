#!/usr/bin/env bash
# Time to first playable: how long after an upload's HTTP response the clip can be played, and
# where that time goes.
#
# Runs `shopclip up` on a fresh data directory (JSON logs at debug level) and its client,
# internal/ttfp, which follows the creator's clips as the studio does (GET /v1/clips/live, one
# connection), uploads the reference clip several times, and for each upload waits for the event
# that gives it a playback.hls, then fetches the master playlist, the first variant's playlist,
# its init segment and first media segment (and the audio's) as a player does (on connections it
# keeps, the two playlists side by side); the clock stops when all of them have answered 200.
# The phases come from the product's own log lines for the clip (clip_id), stamped by `up` as
# they happen:
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
#   notice   → the client has the event that gives the clip its playback.hls
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
#      TTFP_LOG     a file to copy up's log (JSON, debug level: the child's lines too) to
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
go build -o "$work/ttfp" ./internal/ttfp
port=$(( 20000 + RANDOM % 10000 ))
api=http://127.0.0.1:$port
config=()
[ -n "${TTFP_CONFIG:-}" ] && config=(--config "$TTFP_CONFIG")
# UTC: the log's times are read back with jq, which takes them in UTC only.
TZ=UTC SHOPCLIP_LOG_LEVEL=debug SHOPCLIP_LOG_FORMAT=json \
  "$bin" up --addr "127.0.0.1:$port" --data "$work/data" "${config[@]}" >"$work/up.log" 2>&1 &
up=$!
trap 'kill -INT $up 2>/dev/null; wait $up 2>/dev/null || true; [ -z "${TTFP_LOG:-}" ] || cp "$work/up.log" "$TTFP_LOG"; rm -rf "$work"' EXIT
ready=false
for _ in $(seq 1 300); do
  if curl -fs "$api/readyz" >/dev/null 2>&1; then ready=true; break; fi
  sleep 0.1
done
$ready || { echo "bench: shopclip up did not become ready in 30 s; the end of its log:" >&2; tail -n 20 "$work/up.log" >&2; exit 1; }
key=$("$bin" account create --role creator --name bench --data "$work/data") ||
  { echo "bench: shopclip account create failed (its error is above)" >&2; exit 1; }

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
r=0
TTFP_KEY=$key "$work/ttfp" -api "$api" -in "$in" -rounds "$rounds" -ready="$([ "${TTFP_READY:-1}" = 0 ] && echo false || echo true)" |
while read -r id t0 t1 th t2 t3; do
  r=$((r + 1))
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
done || { echo "bench: the client failed (its error is above)" >&2; exit 1; }
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

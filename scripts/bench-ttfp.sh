#!/usr/bin/env bash
# Time to first playable: how long after an upload's HTTP response the clip can be played.
# Runs `shopclip up` on a fresh data directory, uploads the reference clip several times, and
# for each upload polls the clip until playback.hls appears, then fetches the master playlist,
# the first variant's playlist, its init segment and first media segment (and the audio's);
# the clock stops when all of them have answered 200. Prints each round and the medians.
#
# usage: scripts/bench-ttfp.sh [ROUNDS] [INPUT]
#   ROUNDS  uploads, one after the other, each waited on until ready (default 5)
#   INPUT   the clip (default: shared/bench/bbb_vertical_1080x1920_30s.mp4)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-$(cd .. && pwd)/shared}
[ -d "$shared" ] || shared=/work/shared
rounds=${1:-5}
in=${2:-$shared/bench/bbb_vertical_1080x1920_30s.mp4}
for tool in curl jq; do command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }; done

work=$(mktemp -d /tmp/bench-ttfp.XXXXXX)
bin=$work/shopclip
go build -o "$bin" ./cmd/shopclip
port=$(( 20000 + RANDOM % 10000 ))
api=http://127.0.0.1:$port
"$bin" up --addr "127.0.0.1:$port" --data "$work/data" >"$work/up.log" 2>&1 &
up=$!
trap 'kill -INT $up 2>/dev/null; wait $up 2>/dev/null; rm -rf "$work"' EXIT
ready=false
for _ in $(seq 1 300); do
  if curl -fs "$api/readyz" >/dev/null 2>&1; then ready=true; break; fi
  sleep 0.1
done
$ready || { echo "bench: shopclip up did not become ready in 30 s; the end of its log:" >&2; tail -n 20 "$work/up.log" >&2; exit 1; }
key=$("$bin" account create --role creator --name bench --data "$work/data") ||
  { echo "bench: shopclip account create failed (its error is above)" >&2; exit 1; }

now() { date +%s.%N; }
get() { curl -fsS -o /dev/null -w '' -H "Authorization: Bearer $key" "$1"; }

echo "input: $in ($(du -h "$in" | cut -f1)); $rounds uploads"
printf '%-6s %14s %14s %14s\n' round upload_s playable_s ready_s
for r in $(seq 1 "$rounds"); do
  t0=$(now)
  resp=$(curl -sS -H "Authorization: Bearer $key" -F "file=@$in" -F "title=bench $r" "$api/v1/clips") ||
    { echo "bench: the upload failed (curl's error is above)" >&2; exit 1; }
  id=$(jq -er .id <<<"$resp") || { echo "bench: the upload was refused: $resp" >&2; exit 1; }
  t1=$(now)
  while :; do
    clip=$(curl -fsS -H "Authorization: Bearer $key" "$api/v1/clips/$id")
    hls=$(jq -r '.playback.hls // empty' <<<"$clip")
    status=$(jq -r .status <<<"$clip")
    [ "$status" = failed ] && { echo "bench: clip failed: $clip" >&2; exit 1; }
    [ -n "$hls" ] && break
    sleep 0.02
  done
  base=$api${hls%master.m3u8}
  # Still processing: its media are its creator's to preview, with the key.
  master=$(curl -fsS -H "Authorization: Bearer $key" "$api$hls")
  variant=$(awk '!/^#/ {print; exit}' <<<"$master")
  [ -n "$variant" ] || { echo "bench: the master playlist lists no variant:" >&2; echo "$master" >&2; exit 1; }
  audio=$(sed -n 's/.*TYPE=AUDIO.*URI="\([^"]*\)".*/\1/p' <<<"$master")
  for pl in $variant $audio; do
    dir=${pl%/*}
    body=$(curl -fsS -H "Authorization: Bearer $key" "$base$pl")
    init=$(sed -n 's/#EXT-X-MAP:URI="\([^"]*\)"/\1/p' <<<"$body")
    seg=$(awk '!/^#/ {print; exit}' <<<"$body")
    [ -n "$seg" ] || { echo "bench: $pl lists no segment" >&2; exit 1; }
    get "$base$dir/$init"
    get "$base$dir/$seg"
  done
  t2=$(now)
  while [ "$(curl -fsS -H "Authorization: Bearer $key" "$api/v1/clips/$id" | jq -r .status)" != ready ]; do sleep 0.1; done
  t3=$(now)
  awk -v r="$r" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {printf "%-6s %14.3f %14.3f %14.3f\n", r, b - a, c - b, d - b}' | tee -a "$work/rounds"
done
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "medians: upload $(awk '{print $2}' "$work/rounds" | median) s," \
  "time to first playable $(awk '{print $3}' "$work/rounds" | median) s (from the upload's response)," \
  "time to ready $(awk '{print $4}' "$work/rounds" | median) s"

#!/usr/bin/env bash
# Benchmark of the transcode engine against the ffmpeg command-line baseline
# (shared/bench/ffmpeg_ladder.sh: the same ladder, settings and HLS output, in
# one ffmpeg process), run alternately in one session so both see the same
# machine. Prints per-round figures and the medians: wall time (and the ratio
# shopclip/ffmpeg), CPU time, peak RSS, total output bytes, and the SSIM of the
# 720p rendition against the source scaled to 720p.
#
# usage: scripts/bench-transcode.sh [ROUNDS] [INPUT]
#   ROUNDS  rounds of (baseline, shopclip) pairs, order alternating (default 3)
#   INPUT   the clip (default: shared/bench/bbb_vertical_1080x1920_30s.mp4)
# env: SHOPCLIP_BIN  the shopclip binary (default: builds ./cmd/shopclip); the script runs
#                    `shopclip transcode --in --out`, the engine as workers run it
#      BASELINE      the baseline script (default: shared/bench/ffmpeg_ladder.sh)
#      SHARED        the shared dir (default: ../shared beside the repo)
#      KEEP=1        keep the work dir
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
shared=${SHARED:-$(cd .. && pwd)/shared}
rounds=${1:-3}
in=${2:-$shared/bench/bbb_vertical_1080x1920_30s.mp4}
baseline=${BASELINE:-$shared/bench/ffmpeg_ladder.sh}
need ffmpeg ffprobe /usr/bin/time
[ -f "$in" ] || { echo "bench: no input $in" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-transcode.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
bin=${SHOPCLIP_BIN:-}
if [ -z "$bin" ]; then
  bin=$work/shopclip
  go build -o "$bin" ./cmd/shopclip
fi
# With the environment a worker gives its transcode child (transcode.ChildEnvironment: glibc's
# malloc settings, nothing else; TestBenchScriptsUseTheChildEnvironment keeps the two the same).
shopclip=(env -i "GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296" "$bin" transcode)

# ssim DIST_PLAYLIST: SSIM (All) of the rendition against the source scaled to its size
ssim() {
  local dims w h
  dims=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$1" | awk -F, 'NF == 2 {print; exit}')
  [ -n "$dims" ] || { echo "bench: ffprobe finds no video in $1" >&2; return 1; }
  w=${dims%,*} h=${dims#*,}
  ssim_of ffmpeg -hide_banner -nostats -i "$1" -i "$in" -lavfi \
    "[0:v]setpts=PTS-STARTPTS[d];[1:v]scale=$w:$h:flags=bicubic,setpts=PTS-STARTPTS[r];[d][r]ssim" -f null -
}

# bytes DIR: size of the HLS ladder in DIR (playlists and segments), leaving
# out what the baseline does not make (clip.mp4, poster, storyboard)
bytes() {
  find "$1" -type f ! -name clip.mp4 ! -name poster.jpg ! -name 'storyboard.*' -printf '%s\n' | awk '{s += $1} END {print s}'
}

echo "input: $in"
echo "rounds: $rounds (ffmpeg and shopclip alternate; the first of each pair switches every round)"
printf '%-6s %-9s %8s %8s %9s %11s %11s\n' round tool wall_s cpu_s rss_MB hls_bytes all_bytes
for r in $(seq 1 "$rounds"); do
  order="ffmpeg shopclip"
  [ $((r % 2)) -eq 0 ] && order="shopclip ffmpeg"
  for tool in $order; do
    out=$work/$tool-$r
    if [ "$tool" = ffmpeg ]; then
      measure ffmpeg sh "$baseline" "$in" "$out"
    else
      measure shopclip "${shopclip[@]}" --in "$in" --out "$out"
    fi
    b=$(bytes "$out")
    echo "$b" >>"$work/$tool.bytes"
    read -r wall cpu rss < <(tail -1 "$work/$tool.times")
    printf '%-6s %-9s %8s %8s %9d %11d %11d\n' "$r" "$tool" "$wall" "$cpu" $((rss / 1024)) "$b" "$(du -sb "$out" | cut -f1)"
  done
done

fw=$(col ffmpeg 1) sw=$(col shopclip 1)
fc=$(col ffmpeg 2) sc=$(col shopclip 2)
fr=$(col ffmpeg 3) sr=$(col shopclip 3)
fb=$(median <"$work/ffmpeg.bytes") sb=$(median <"$work/shopclip.bytes")
fs=$(ssim "$work/ffmpeg-1/1/index.m3u8") || exit 1
ss=$(ssim "$work/shopclip-1/720p/index.m3u8") || exit 1

echo
echo "medians over $rounds rounds"
printf '%-28s %12s %12s %10s\n' "" ffmpeg shopclip ratio
awk -v f="$fw" -v s="$sw" 'BEGIN {printf "%-28s %12.2f %12.2f %10.3f\n", "wall time (s)", f, s, s / f}'
awk -v f="$fc" -v s="$sc" 'BEGIN {printf "%-28s %12.2f %12.2f %10.3f\n", "CPU time (s)", f, s, s / f}'
awk -v f="$fr" -v s="$sr" 'BEGIN {printf "%-28s %12.0f %12.0f %10.3f\n", "peak RSS (MB)", f / 1024, s / 1024, s / f}'
awk -v f="$fb" -v s="$sb" 'BEGIN {printf "%-28s %12d %12d %10.3f\n", "HLS ladder bytes", f, s, s / f}'
awk -v f="$fs" -v s="$ss" 'BEGIN {printf "%-28s %12.5f %12.5f %+10.5f\n", "720p SSIM vs source (diff)", f, s, s - f}'
echo
awk -v f="$fw" -v s="$sw" -v fb="$fb" -v sb="$sb" -v fs="$fs" -v ss="$ss" 'BEGIN {
  ok = (s <= f) && (ss >= fs - 0.005) && (sb <= fb * 1.10) && (sb >= fb * 0.90)
  printf "goal (wall <= 1.0x, SSIM within 0.005, bytes within 10%%): %s\n", ok ? "met" : "NOT met" }'

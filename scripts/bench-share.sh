#!/usr/bin/env bash
# Benchmark of the share renderer (`shopclip share`: product cards burned into
# the clip's MP4) against the ffmpeg command line doing the same work in one
# process: the same filter graph (each card scaled to the engine's size and
# overlaid in its window), libx264 with the same settings and rate caps, the
# audio copied, +faststart. Run alternately in one session; prints per-round
# figures and the medians (wall, CPU, peak RSS, output bytes, ratios
# shopclip/ffmpeg) and the SSIM of shopclip's output against ffmpeg's.
#
# usage: scripts/bench-share.sh [ROUNDS] [SOURCE]
#   ROUNDS  rounds of (ffmpeg, shopclip) pairs, order alternating (default 5)
#   SOURCE  the upload the input is transcoded from (default:
#           shared/bench/bbb_vertical_1080x1920_30s.mp4); the input is its clip.mp4
#           (720p), cached under ~/.cache/shopclip/bench-share by binary and source
# env: SHOPCLIP_BIN  the shopclip binary (default: builds bin/shopclip)
#      SHARED        the shared dir (default: ../shared beside the repo)
#      KEEP=1        keep the work dir
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
shared=${SHARED:-$(cd .. && pwd)/shared}
rounds=${1:-5}
src=${2:-$shared/bench/bbb_vertical_1080x1920_30s.mp4}
need ffmpeg ffprobe /usr/bin/time sha256sum
[ -f "$src" ] || { echo "bench: no source $src" >&2; exit 1; }

work=$(mktemp -d /tmp/bench-share.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
bin=${SHOPCLIP_BIN:-bin/shopclip}
[ -n "${SHOPCLIP_BIN:-}" ] || go build -o "$bin" ./cmd/shopclip

# The input: the engine's 720p progressive MP4 of the source.
key=$( { sha256sum <"$bin"; stat -c '%n %s %Y' "$src"; } | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/shopclip/bench-share/$key
in=$cache/clip.mp4
if [ ! -f "$in" ]; then
  echo "making the input (shopclip transcode, cached in $cache)"
  "$bin" transcode --in "$src" --out "$work/transcode" >"$work/transcode.log" 2>&1 || {
    echo "bench: transcode failed:" >&2; tail -5 "$work/transcode.log" >&2; exit 1; }
  mkdir -p "$cache" && cp "$work/transcode/clip.mp4" "$in.part" && mv "$in.part" "$in"
fi
probe=$(ffprobe -v error -select_streams v:0 \
  -show_entries stream=width,height,color_space,color_range -of csv=p=0 "$in") ||
  { echo "bench: ffprobe $in failed (its error is above)" >&2; exit 1; }
IFS=, read -r fw fh range space <<<"$probe"

# Three RGBA cards (360x154) and the spec: image x y width start_ms end_ms.
cards="card-000.png 0.05 0.10 0.5 1000 6000
card-001.png 0.45 0.55 0.6 9000 17000
card-002.png 0.10 0.95 0.4 20000 28000"
colors=(white@0.9 0xffcc00@0.85 0x2060ff@0.8)
i=0
while read -r img _; do
  ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "color=c=${colors[i]}:s=360x154,format=rgba" \
    -frames:v 1 "$work/$img"
  i=$((i + 1))
done <<<"$cards"
awk 'BEGIN {printf "{\"overlays\":["} {printf "%s{\"image\":\"%s\",\"x\":%s,\"y\":%s,\"width\":%s,\"start_ms\":%s,\"end_ms\":%s}",
  (NR > 1 ? "," : ""), $1, $2, $3, $4, $5, $6} END {print "]}"}' <<<"$cards" >"$work/spec.json"

# The baseline's filter graph: card placement as transcode.placeCard does it
# (width × frame width, even; height from the 360x154 aspect; position even
# and clamped into the frame), the same chains as SharePlan.VideoFilter.
matrix=bt601
case $space in bt709 | fcc | smpte240m) matrix=$space ;; bt2020nc) matrix=bt2020 ;; esac
scale="scale=w=$fw:h=$fh"
[ "$range" = pc ] || scale+=":out_range=tv"
graph=$(awk -v q="'" -v fw="$fw" -v fh="$fh" -v m="$matrix" -v scale="$scale" '
  function even(x, lo, hi) { if (x < lo) return lo; if (x > hi) return hi; x = int(x); x -= x % 2; return x < lo ? lo : x }
  BEGIN { printf "[0:v]%s,format=yuv420p,setsar=1[v0]", scale }
  { w = even($4 * fw, 2, fw); h = even(w * 154 / 360, 2, fh)
    x = even($2 * fw, 0, fw - w); y = even($3 * fh, 0, fh - h); i = NR - 1
    printf ";[%d:v]scale=w=%d:h=%d:out_color_matrix=%s:out_range=tv,format=yuva420p[k%d]", NR, w, h, m, i
    printf ";[v%d][k%d]overlay=x=%d:y=%d:eof_action=repeat:enable=%sif(lt(t,%.3f),gte(t,%.3f))%s[v%d]", i, i, x, y, q, $6 / 1000, $5 / 1000, q, NR }
  END { printf ";[v%d]format=yuv420p[out]\n", NR }' <<<"$cards")
short=$((fw < fh ? fw : fh))
rate=1000; [ "$short" -gt 480 ] && rate=2500; [ "$short" -gt 720 ] && rate=4500
color=(-color_range:v "${range/unknown/tv}")
[ "$space" = unknown ] || color+=(-colorspace:v "$space")
baseline=(ffmpeg -nostdin -hide_banner -loglevel error -y -i "$in")
while read -r img _; do baseline+=(-i "$work/$img"); done <<<"$cards"
baseline+=(-filter_complex "$graph" -map '[out]' -map '0:a?'
  -c:v libx264 -preset veryfast -profile:v high -crf 23 -maxrate "${rate}k" -bufsize "$((2 * rate))k"
  -force_key_frames 'expr:gte(t,n_forced*2)' -forced-idr 1 -sc_threshold 0 -g 250 "${color[@]}"
  -c:a copy -movflags +faststart)

echo "input: $in (${fw}x$fh, from $src)"
echo "filter graph: $graph"
echo "rounds: $rounds (ffmpeg and shopclip alternate; the first of each pair switches every round)"
printf '%-6s %-9s %8s %8s %9s %11s\n' round tool wall_s cpu_s rss_MB bytes
for r in $(seq 1 "$rounds"); do
  order="ffmpeg shopclip"
  [ $((r % 2)) -eq 0 ] && order="shopclip ffmpeg"
  for tool in $order; do
    out=$work/$tool-$r.mp4
    if [ "$tool" = ffmpeg ]; then
      measure ffmpeg "${baseline[@]}" "$out"
    else
      measure shopclip "$bin" share --in "$in" --spec "$work/spec.json" --out "$out"
    fi
    b=$(stat -c %s "$out")
    echo "$b" >>"$work/$tool.bytes"
    read -r wall cpu rss < <(tail -1 "$work/$tool.times")
    printf '%-6s %-9s %8s %8s %9d %11d\n' "$r" "$tool" "$wall" "$cpu" $((rss / 1024)) "$b"
  done
done

fw=$(col ffmpeg 1) sw=$(col shopclip 1)
fc=$(col ffmpeg 2) sc=$(col shopclip 2)
fr=$(col ffmpeg 3) sr=$(col shopclip 3)
fb=$(median <"$work/ffmpeg.bytes") sb=$(median <"$work/shopclip.bytes")
ssim=$(ssim_of ffmpeg -hide_banner -nostats -i "$work/shopclip-1.mp4" -i "$work/ffmpeg-1.mp4" -lavfi \
  "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]ssim" -f null -) || exit 1

echo
echo "medians over $rounds rounds"
printf '%-28s %12s %12s %10s\n' "" ffmpeg shopclip ratio
awk -v f="$fw" -v s="$sw" 'BEGIN {printf "%-28s %12.2f %12.2f %10.3f\n", "wall time (s)", f, s, s / f}'
awk -v f="$fc" -v s="$sc" 'BEGIN {printf "%-28s %12.2f %12.2f %10.3f\n", "CPU time (s)", f, s, s / f}'
awk -v f="$fr" -v s="$sr" 'BEGIN {printf "%-28s %12.0f %12.0f %10.3f\n", "peak RSS (MB)", f / 1024, s / 1024, s / f}'
awk -v f="$fb" -v s="$sb" 'BEGIN {printf "%-28s %12d %12d %10.3f\n", "output bytes", f, s, s / f}'
echo
awk -v s="$ssim" 'BEGIN {printf "SSIM shopclip vs ffmpeg (round 1, whole clip): %.5f (%s)\n", s, (s > 0.97 ? "same render" : "DIFFERENT render")}'

#!/usr/bin/env bash
# Quality benchmark of the ladder over the shared media set: every clip that
# transcodes is run through `shopclip transcode --in --out --config JSON` once
# per mode, and every rendition is measured against the source made into
# what that rendition is meant to be (the ladder's own deinterlacing, HDR
# tone-mapping and rotation from the report, then its frame rate and size,
# scaled from the source in one bicubic step, limited-range yuv420p): bytes,
# SSIM and PSNR (FFmpeg's ssim and psnr filters), and the CPU seconds per
# output minute of the whole transcode.
#
# Slots are the fixed ladder's rungs by short side (1080p, 720p, ...). A
# mode that makes no rendition for a slot (content-aware rungs drop a
# 1080p that adds nothing) is measured there by what a player shows
# instead: its next smaller rendition, upscaled (bicubic) to the slot's size.
# So the mean SSIM per slot compares like with like across modes.
#
# Prints one row per clip, mode, codec and slot, the clips skipped and why,
# and the set totals per mode and codec: video bytes and their ratio to the
# fixed ladder's, mean SSIM and PSNR per slot, CPU seconds per output minute.
#
# usage: scripts/bench-quality.sh
# env: MODES     space-separated NAME=JSON modes (the JSON is the transcode
#                config, as `shopclip transcode --config` takes it); default
#                'fixed={} content={"content_aware":true}'. The first is the
#                baseline of the ratios.
#      CODECS    e.g. "av1": adds the mode codecs={"codecs":["h264","av1"]}
#                (transcode.codecs), measured per codec
#      QUICK=1   a few clips only (a portrait phone clip, a 720p phone clip,
#                a soft thermal clip, an HDR clip)
#      CLIPS     space-separated file names in MEDIA to run instead
#      MEDIA     the media dir (default: ../shared/media beside the repo)
#      SHOPCLIP_BIN  the shopclip binary (default: builds ./cmd/shopclip)
#      KEEP=1    keep the work dir
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib-bench.sh
media=${MEDIA:-$(cd .. && pwd)/shared/media}
need ffmpeg ffprobe jq /usr/bin/time
[ -d "$media" ] || { echo "bench: no media dir $media" >&2; exit 1; }

modes=${MODES:-'fixed={} content={"content_aware":true}'}
if [ -n "${CODECS:-}" ]; then
  modes="$modes codecs={\"codecs\":[\"h264\",\"${CODECS}\"]}"
fi
read -r -a modes <<<"$modes"

work=$(mktemp -d /tmp/bench-quality.XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
bin=${SHOPCLIP_BIN:-}
if [ -z "$bin" ]; then
  bin=$work/shopclip
  go build -o "$bin" ./cmd/shopclip
fi

if [ -n "${CLIPS:-}" ]; then
  read -r -a clips <<<"$CLIPS"
elif [ "${QUICK:-}" = 1 ]; then
  clips=(vertical_1080x1920_h264_aac_android_phone.mp4 phone_h264_aac_720p_geese.mp4
    flir_thermal_h264_aac_1080x1440_vfr.mp4 iphone_hevc_main10_hlg_1080p_rotm90_editlist.mp4)
else
  clips=()
  for f in "$media"/*; do
    case $(basename "$f") in MANIFEST.md | README*) continue ;; esac
    clips+=("$(basename "$f")")
  done
fi

# upright LADDER_JSON: the filters before any scaling that the ladder
# applies (deinterlace, tone-map, rotation), comma-terminated, or "".
upright() {
  jq -r '
    [ (if .deinterlace then "bwdif=mode=send_frame:parity=auto:deint=interlaced" else empty end),
      (if .tone_map then
        "zscale=tin=\(if .tone_map == "hlg" then "arib-std-b67" else "smpte2084" end):min=2020_ncl:pin=2020:rin=\(if .full_range then "full" else "limited" end):t=linear:npl=100",
        "format=gbrpf32le", "zscale=p=709", "tonemap=tonemap=hable:desat=0",
        "zscale=t=709:m=709:r=limited", "format=yuv420p"
       else empty end),
      (.orientation.filters // [] | .[])
    ] | map(. + ",") | join("")' <<<"$1"
}

# quality SRC REF_CHAIN DIST DIST_CHAIN: "SSIM PSNR" of DIST (a playlist)
# against SRC through REF_CHAIN, DIST through DIST_CHAIN (may be empty).
quality() {
  local out s p
  out=$(ffmpeg -nostdin -hide_banner -nostats -i "$3" -noautorotate -i "$1" -lavfi \
    "[0:v]setpts=PTS-STARTPTS${4:+,$4}[d];[1:v]$2[r];[d]split[d1][d2];[r]split[r1][r2];[d1][r1]ssim=shortest=1[o1];[d2][r2]psnr=shortest=1[o2]" \
    -map '[o1]' -map '[o2]' -f null - 2>&1) || { echo "bench: quality of $3 failed:" >&2; tail -n 5 <<<"$out" >&2; return 1; }
  s=$(sed -n 's/.*SSIM .* All:\([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)
  p=$(sed -n 's/.*PSNR .* average:\([0-9.inf]*\).*/\1/p' <<<"$out" | tail -n 1)
  if [ -z "$s" ] || [ -z "$p" ]; then echo "bench: no SSIM/PSNR for $3:" >&2; tail -n 5 <<<"$out" >&2; return 1; fi
  [ "$p" = inf ] && p=99
  echo "$s $p"
}

# rows.tsv: mode codec clip slot name WxH fps bytes ssim psnr
# cpu.tsv:  mode clip cpu_s duration_s
: >"$work/rows.tsv"
: >"$work/cpu.tsv"
: >"$work/skipped.txt"
printf '%-8s %-5s %-46s %-6s %-10s %-10s %8s %9s %8s %7s\n' mode codec clip slot made_from size kbps bytes ssim psnr
for clip in "${clips[@]}"; do
  src=$media/$clip
  case $clip in broken_*)
    echo "$clip: marked broken in MANIFEST.md (corrupt, truncated or adversarial): no trustworthy reference" >>"$work/skipped.txt"; continue ;;
  esac
  if [ -z "$(ffprobe -v error -select_streams v -show_entries stream=index -of csv=p=0 "$src" 2>/dev/null)" ]; then
    echo "$clip: no video stream" >>"$work/skipped.txt"; continue
  fi
  slots=""
  for m in "${modes[@]}"; do
    mode=${m%%=*} cfg=${m#*=}
    out=$work/$mode/${clip%.*}
    mkdir -p "$out"
    if ! /usr/bin/time -f '%U %S' -o "$out.time" "$bin" transcode --in "$src" --out "$out" --config "$cfg" >"$out.json" 2>"$out.stderr"; then
      why=$(jq -r '.error | "\(.code): \(.message)"' "$out.json" 2>/dev/null || tail -n 1 "$out.stderr")
      echo "$clip: $mode transcode refused it: $why" >>"$work/skipped.txt"
      [ "$mode" = "${modes[0]%%=*}" ] && break
      continue
    fi
    rep=$(cat "$out.json")
    ladder=$(jq -c .ladder <<<"$rep")
    dur=$(jq -r '.duration_ms / 1000' <<<"$rep")
    cpu=$(awk '{print $1 + $2}' "$out.time")
    printf '%s\t%s\t%s\t%s\n' "$mode" "$clip" "$cpu" "$dur" >>"$work/cpu.tsv"
    up=$(upright "$ladder")
    # The slots are the baseline's rungs: "short WxH fps" per line.
    if [ -z "$slots" ]; then
      slots=$(jq -r '.rungs[] | "\([.width, .height] | min) \(.width)x\(.height) \(.frame_rate)"' <<<"$ladder")
    fi
    # This mode's renditions: "codec short name WxH fps", by codec family
    # (a second codec's rendition, "720p-av1", has the frame rate of its
    # H.264 rung, "720p").
    rends=$(jq -r '.renditions[] as $r | (first(.ladder.rungs[] | select(.name == ($r.name | sub("-[a-z0-9]+$"; ""))) | .frame_rate) // "30") as $fps
      | "\($r.codecs | split(".")[0]) \([$r.width, $r.height] | min) \($r.name) \($r.width)x\($r.height) \($fps // "30")"' <<<"$rep")
    # shellcheck disable=SC2013 # codec families are single words
    for codec in $(awk '{print $1}' <<<"$rends" | sort -u); do
      while read -r short size fps; do
        w=${size%x*} h=${size#*x}
        ref="${up}setpts=PTS-STARTPTS,fps=fps=$fps,scale=w=$w:h=$h:flags=bicubic:out_range=tv,format=yuv420p,setsar=1"
        # The rendition for this slot, or the largest one below it.
        read -r _ rshort name _ < <(awk -v c="$codec" -v s="$short" '$1 == c && $2 <= s' <<<"$rends" | sort -k2,2nr | head -n 1) || true
        [ -n "${name:-}" ] || continue
        dist=$out/$name/index.m3u8
        chain=""
        [ "$rshort" = "$short" ] || chain="fps=fps=$fps,scale=w=$w:h=$h:flags=bicubic"
        if ! qp=$(quality "$src" "$ref" "$dist" "$chain"); then
          echo "$clip: $mode $codec ${short}p: quality not measured (see above)" >>"$work/skipped.txt"
          name=""; continue
        fi
        read -r s p <<<"$qp"
        bytes=0
        [ "$rshort" = "$short" ] && bytes=$(du -sb "$out/$name" | cut -f1)
        from=$name
        [ "$rshort" = "$short" ] || from="up:$name"
        printf '%s\t%s\t%s\t%sp\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$codec" "$clip" "$short" "$from" "$size" "$fps" "$bytes" "$s" "$p" >>"$work/rows.tsv"
        kbps=$(awk -v b="$bytes" -v d="$dur" 'BEGIN {printf "%.0f", (d > 0 ? b * 8 / d / 1000 : 0)}')
        printf '%-8s %-5s %-46s %-6s %-10s %-10s %8s %9s %8.5f %7.2f\n' "$mode" "$codec" "$clip" "${short}p" "$from" "$size" "$kbps" "$bytes" "$s" "$p"
        name=""
      done <<<"$slots"
    done
    awk -v m="$mode" -v c="$clip" -v cpu="$cpu" -v d="$dur" 'BEGIN {printf "%-8s %-5s %-46s cpu %.2f s for %.2f s: %.1f CPU s per output minute\n", m, "", c, cpu, d, (d > 0 ? cpu / d * 60 : 0)}'
  done
done

echo
echo "skipped:"
sed 's/^/  /' "$work/skipped.txt"

# Totals over the clips every mode made (a clip one mode refused is left out of all).
echo
echo "set totals (clips made by every mode; ratio: video bytes over the ${modes[0]%%=*} ladder's)"
awk -F'\t' -v base="${modes[0]%%=*}" -v nmodes="${#modes[@]}" -v second="${CODECS:+codecs}" '
  FILENAME ~ /cpu.tsv$/ { cpu[$1] += $3; dur[$1] += $4; made[$2]++; next }
  made[$3] == nmodes {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    bytes[k] += $8
    slots[$4] = 1
    ks = k SUBSEP $4
    ssim[ks] += $9; psnr[ks] += $10; cnt[ks]++
    if ($1 == base && $2 == "avc1") { basebytes += $8; bssim[$4] += $9; bcnt[$4]++ }
  }
  END {
    printf "%-8s %-5s %12s %7s", "mode", "codec", "video_bytes", "ratio"
    ns = 0
    for (s in slots) sl[++ns] = s
    # slots largest first
    for (i = 1; i <= ns; i++) for (j = i + 1; j <= ns; j++) if (sl[j] + 0 > sl[i] + 0) { t = sl[i]; sl[i] = sl[j]; sl[j] = t }
    for (i = 1; i <= ns; i++) printf " %19s", sl[i] " ssim/psnr(n)"
    printf " %12s\n", "cpu_s/min"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, a, SUBSEP)
      printf "%-8s %-5s %12d %7.3f", a[1], a[2], bytes[k], (basebytes > 0 ? bytes[k] / basebytes : 0)
      for (j = 1; j <= ns; j++) {
        ks = k SUBSEP sl[j]
        if (cnt[ks]) printf " %7.5f/%5.2f(%3d)", ssim[ks] / cnt[ks], psnr[ks] / cnt[ks], cnt[ks]; else printf " %19s", "-"
      }
      printf " %12.1f\n", (dur[a[1]] > 0 ? cpu[a[1]] / dur[a[1]] * 60 : 0)
    }
    print ""
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, a, SUBSEP)
      if (a[1] == base && a[2] == "avc1") continue
      worst = 0
      for (j = 1; j <= ns; j++) {
        ks = k SUBSEP sl[j]
        if (cnt[ks] && bcnt[sl[j]]) { d = ssim[ks] / cnt[ks] - bssim[sl[j]] / bcnt[sl[j]]; if (d < worst) worst = d }
      }
      r = (basebytes > 0 ? bytes[k] / basebytes : 0)
      if (a[1] == second && a[2] == "avc1") {
        # the second codec mode keeps the H.264 ladder as it was: not a candidate, a check
        printf "%s/avc1 is the %s ladder made beside the second codec: bytes %+.3f%%, worst slot SSIM %+.5f\n", a[1], base, (r - 1) * 100, worst
        continue
      }
      printf "goal %s/%s (>= 25%% fewer bytes, every slot'"'"'s mean SSIM within 0.005): bytes %+.1f%%, worst slot SSIM %+.5f: %s\n",
        a[1], a[2], (r - 1) * 100, worst, (r <= 0.75 && worst >= -0.005) ? "met" : "NOT met"
    }
  }' "$work/cpu.tsv" "$work/rows.tsv"

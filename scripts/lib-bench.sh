# shellcheck shell=bash
# Helpers shared by the bench scripts (sourced, not run). The caller sets
# $work, the run's scratch dir, before calling measure or col.

# need TOOL...: fails unless every TOOL is on PATH
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
  done
}

# measure NAME CMD...: runs CMD under /usr/bin/time, appends "wall cpu maxrss_kb" to $work/NAME.times
measure() {
  local name=$1; shift
  : "${work:?lib-bench: the caller sets work before measure}"
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" || {
    echo "bench: $name failed:" >&2; tail -5 "$work/$name.stderr" >&2; exit 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/time.txt" >>"$work/$name.times"
}

# median: the median of the numbers on stdin, one a line
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
# col NAME N: the median of field N (1 wall, 2 cpu, 3 maxrss_kb) of $work/NAME.times
col() { cut -d' ' -f"$2" "$work/$1.times" | median; }

# ssim_of CMD...: runs CMD, an ffmpeg command ending in an ssim filter, and prints its "All"
# figure; fails with ffmpeg's last lines when it fails or prints none.
ssim_of() {
  local out v
  out=$("$@" 2>&1) || { echo "bench: SSIM measurement failed:" >&2; tail -n 5 <<<"$out" >&2; return 1; }
  v=$(sed -n 's/.*SSIM .* All:\([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)
  [ -n "$v" ] || { echo "bench: ffmpeg printed no SSIM:" >&2; tail -n 5 <<<"$out" >&2; return 1; }
  echo "$v"
}

#!/usr/bin/env bash
# Installs what shopclip needs and is missing, idempotently, on Debian 12.
#   scripts/deps.sh          build and run: FFmpeg 5.1 dev libraries, pkg-config, gcc, redis-server,
#                            a CJK font for the product cards burned into share MP4s
#   scripts/deps.sh --test   also what the tests use: PostgreSQL, strace, the ffmpeg CLI (an independent
#                            checker and the benchmark baseline) and a real MinIO server
# As root it installs with apt-get (and `go install` for MinIO); otherwise it prints the exact
# command to run and fails.
set -euo pipefail

want_test=false
[ "${1:-}" = "--test" ] && want_test=true

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
cache=${SHOPCLIP_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shopclip}

pkgs=(ca-certificates pkg-config gcc libc6-dev libavcodec-dev libavformat-dev libavfilter-dev
      libavutil-dev libswscale-dev libswresample-dev libavdevice-dev redis-server jq curl fonts-droid-fallback)
$want_test && pkgs+=(postgresql postgresql-client ffmpeg time strace)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "shopclip needs these Debian packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian package starts a system redis-server on :6379; shopclip runs its own children and
# does not use it. Leave it as the machine's owner configured it.

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go 1.26 or later is required (https://go.dev/dl/); put it on PATH" >&2
  exit 1
fi

if pkg-config --exists libavformat; then
  v=$(pkg-config --modversion libavformat)
  case $v in
    59.*) ;;
    *) echo "deps: libavformat $v found; shopclip pins go-astiav v0.16.0, built for FFmpeg 5.1 (libavformat 59)" >&2; exit 1 ;;
  esac
fi

if $want_test; then
  minio=$cache/bin/minio
  built=$(go version -m "$minio" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/minio/minio" {print $3}')
  if [ "$built" != "$MINIO_VERSION" ]; then
    echo "deps: building the MinIO server $MINIO_VERSION with go install (about 3 minutes, once)"
    mkdir -p "$cache/bin"
    (cd / && GOBIN=$cache/bin GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION")
  fi
fi
echo "deps: ok"

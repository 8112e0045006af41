#!/usr/bin/env bash
# Installs what shopclip needs and is missing, idempotently, on Debian 12.
#   scripts/deps.sh          build and run: FFmpeg 5.1 dev libraries, pkg-config, gcc, redis-server,
#                            a CJK font for the product cards burned into share MP4s; the Go modules
#   scripts/deps.sh --test   also what the tests use: PostgreSQL, strace, shellcheck, the ffmpeg CLI
#                            (an independent checker and the benchmark baseline), Chromium (the
#                            browser tests drive it headless), npm (when missing) and a real MinIO
#                            server, built once into $SHOPCLIP_TEST_CACHE/bin (default
#                            ~/.cache/shopclip/bin)
# As root it installs with apt-get (and `go install` for MinIO); otherwise it prints the exact
# command to run and fails. Every failure says what failed and what to do; a flaky apt-get update,
# package download or module download is tried a second time before the script gives up.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=false
[ "${1:-}" = "--test" ] && want_test=true

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
cache=${SHOPCLIP_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shopclip}

fail() { echo "deps: $*" >&2; exit 1; }

# twice DESCRIPTION CMD...: runs CMD, and once more after a pause if it fails; its output is
# shown either way. Returns CMD's status from the second try.
twice() {
  local what=$1; shift
  "$@" && return 0
  echo "deps: $what failed; trying once more in 5 s" >&2
  sleep "${SHOPCLIP_DEPS_RETRY_PAUSE:-5}"
  "$@"
}

pkgs=(ca-certificates pkg-config gcc libc6-dev libavcodec-dev libavformat-dev libavfilter-dev
      libavutil-dev libswscale-dev libswresample-dev libavdevice-dev redis-server jq curl fonts-droid-fallback)
$want_test && pkgs+=(postgresql postgresql-client ffmpeg time strace shellcheck chromium)
# npm installs the front-end packages the web tests check against web/package-lock.json. A Node.js
# from elsewhere (NodeSource) brings its own npm, which Debian's npm package would conflict with.
if $want_test && ! command -v npm >/dev/null 2>&1; then pkgs+=(nodejs npm); fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "shopclip needs these Debian packages: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  twice "apt-get update" apt-get update -qq ||
    fail "apt-get update failed (its error is above); check the network and /etc/apt/sources.list, then run this again"
  twice "apt-get install" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    fail "apt-get install ${missing[*]} failed (its error is above); fix that, then run this again"
fi

# The Debian package starts a system redis-server on :6379; shopclip runs its own children and
# does not use it. Leave it as the machine's owner configured it.

command -v go >/dev/null 2>&1 || fail "Go 1.26 or later is required (https://go.dev/dl/); put it on PATH"

if pkg-config --exists libavformat; then
  v=$(pkg-config --modversion libavformat) || fail "pkg-config --modversion libavformat failed"
  case $v in
    59.*) ;;
    *) fail "libavformat $v found; shopclip pins go-astiav v0.16.0, built for FFmpeg 5.1 (libavformat 59)" ;;
  esac
else
  fail "pkg-config does not find libavformat although libavformat-dev is installed; check PKG_CONFIG_PATH"
fi

# The project's Go modules, fetched here (and retried) rather than in the middle of `go build`.
twice "go mod download" go mod download ||
  fail "downloading the Go modules failed (the error is above); check access to the module proxy (GOPROXY=$(go env GOPROXY)), then run this again"

# minio_version BINARY: the github.com/minio/minio module version BINARY was built from, or
# nothing when BINARY is missing or was not built by go install.
minio_version() {
  [ -f "$1" ] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/minio/minio" {print $3}' || true
}

if $want_test; then
  minio=$cache/bin/minio
  if [ "$(minio_version "$minio")" != "$MINIO_VERSION" ]; then
    echo "deps: building the MinIO server $MINIO_VERSION into $cache/bin with go install (about 3 minutes, once)"
    mkdir -p "$cache/bin" || fail "cannot create $cache/bin; set SHOPCLIP_TEST_CACHE to a writable directory"
    build() { (cd / && GOBIN=$cache/bin GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"); }
    twice "the MinIO build" build ||
      fail "building MinIO failed (go install's error is above); check access to the module proxy and the disk space in $cache, then run this again"
    got=$(minio_version "$minio")
    [ "$got" = "$MINIO_VERSION" ] ||
      fail "go install finished but $minio is ${got:+MinIO $got, not $MINIO_VERSION}${got:-missing or not a MinIO build}; remove it and run this again"
    "$minio" --version >/dev/null 2>&1 ||
      fail "$minio was built but does not run ($minio --version failed); remove it and run this again"
    echo "deps: MinIO $MINIO_VERSION built at $minio"
  fi
fi
echo "deps: ok"

#!/usr/bin/env bash
# Starts and stops the real services the test suite shares, on 127.0.0.1 only:
# PostgreSQL :5433 and MinIO :9100 (RELIABILITY.md §3's port plan). Every test gets its own
# database or bucket on them. Redis is not shared: internal/testenv starts a private
# redis-server per test, because asynq's keys cannot be namespaced.
#   scripts/services.sh start   start them (stopping leftovers first); prints the env file's path
#   scripts/services.sh stop    stop what start started
# The env file exports SHOPCLIP_TEST_* for internal/testenv.
set -Eeuo pipefail
state=${SHOPCLIP_TEST_SERVICES_DIR:-/tmp/shopclip-test-services-$(id -u)}
cache=${SHOPCLIP_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shopclip}
PG_PORT=${SHOPCLIP_TEST_PG_PORT:-5433}
MINIO_PORT=${SHOPCLIP_TEST_MINIO_PORT:-9100}

# pgbin: the directory of PostgreSQL's server programs (initdb, pg_ctl), the newest installed
pgbin() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  local dirs=(/usr/lib/postgresql/*/bin)
  if [ ! -x "${dirs[0]}/initdb" ]; then
    echo "services: PostgreSQL's initdb is not installed; run scripts/deps.sh --test (make test-deps)" >&2
    return 1
  fi
  printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1
}

# as_pg runs a PostgreSQL command; as root, as the postgres user (it refuses root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for SECONDS DESCRIPTION LOG COMMAND...: waits until COMMAND succeeds; on timeout shows
# the end of LOG (the state directory is removed when start fails).
wait_for() {
  local secs=$1 what=$2 log=$3; shift 3
  for _ in $(seq 1 $((secs * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "services: $what did not start within $secs s; the end of $log:" >&2
  tail -n 20 "$log" >&2 || true
  return 1
}

# stop_pid PIDFILE NAME: stops the process in PIDFILE if it still is NAME (pids get reused)
stop_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  grep -qa "$2" "/proc/$pid/cmdline" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    [ -e "/proc/$pid" ] || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  local bin
  [ -d "$state" ] || return 0
  stop_pid "$state/minio.pid" minio
  if [ -d "$state/pg/data" ] && bin=$(pgbin); then as_pg "$bin/pg_ctl" -D "$state/pg/data" -m immediate stop >/dev/null 2>&1 || true; fi
  for _ in $(seq 1 50); do
    port_busy "$MINIO_PORT" || port_busy "$PG_PORT" || break
    sleep 0.1
  done
  rm -rf "$state"
}

start() {
  stop
  # A service that fails to start must not leave the others running.
  trap 'stop' ERR
  for p in "$PG_PORT" "$MINIO_PORT"; do
    if port_busy "$p"; then echo "services: port $p on 127.0.0.1 is taken by another program" >&2; exit 1; fi
  done
  mkdir -p "$state/minio"
  chmod 755 "$state"

  local bin
  bin=$(pgbin)
  [ -x "$cache/bin/minio" ] || { echo "services: no MinIO server at $cache/bin/minio; run scripts/deps.sh --test (make test-deps)" >&2; return 1; }
  mkdir -p "$state/pg"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$state/pg"; fi
  as_pg "$bin/initdb" -D "$state/pg/data" -U postgres -A trust --no-sync -E UTF8 >"$state/initdb.log" 2>&1 ||
    { echo "services: initdb failed:" >&2; cat "$state/initdb.log" >&2; return 1; }
  as_pg "$bin/pg_ctl" -D "$state/pg/data" -l "$state/pg/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $state/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null ||
    { echo "services: PostgreSQL did not start; the end of its log:" >&2; tail -n 20 "$state/pg/postgres.log" >&2 || true; return 1; }
  wait_for 30 postgresql "$state/pg/postgres.log" psql -X -q -d "postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable" -c 'select 1'

  minio_secret=secret-$RANDOM$RANDOM
  MINIO_ROOT_USER=shopclip MINIO_ROOT_PASSWORD=$minio_secret MINIO_BROWSER=off MINIO_UPDATE=off \
    nohup "$cache/bin/minio" server --quiet --address "127.0.0.1:$MINIO_PORT" "$state/minio/data" \
    >"$state/minio.log" 2>&1 &
  echo $! >"$state/minio.pid"
  wait_for 60 minio "$state/minio.log" curl -fsS "http://127.0.0.1:$MINIO_PORT/minio/health/cluster"

  cat >"$state/env" <<ENV
export SHOPCLIP_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable'
export SHOPCLIP_TEST_S3_ENDPOINT=127.0.0.1:$MINIO_PORT
export SHOPCLIP_TEST_S3_ACCESS_KEY=shopclip
export SHOPCLIP_TEST_S3_SECRET_KEY=$minio_secret
ENV
  trap - ERR
  echo "$state/env"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

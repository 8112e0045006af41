#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: checks formatting and vet, starts the
# shared services on 127.0.0.1, runs every test with the race detector, and stops the services.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...

trap 'scripts/services.sh stop' EXIT
env_file=$(scripts/services.sh start)
# shellcheck disable=SC1090
. "$env_file"

go test -race -count=1 -timeout 45m ${TESTFLAGS:-} ./...

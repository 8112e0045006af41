#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: checks formatting and vet, starts the
# shared services on 127.0.0.1, runs every test with the race detector, and stops the services.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! mapfile -t gofiles < <(git ls-files '*.go' 2>/dev/null) || [ ${#gofiles[@]} -eq 0 ]; then
  mapfile -t gofiles < <(find . -name '*.go' -not -path './.git/*')
fi
unformatted=$(gofmt -l "${gofiles[@]}") || { echo "gofmt failed (its error is above)" >&2; exit 1; }
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...

trap 'scripts/services.sh stop' EXIT
env_file=$(scripts/services.sh start) || { echo "test: the shared services did not start (see above)" >&2; exit 1; }
# shellcheck disable=SC1090
. "$env_file"

# TESTFLAGS: extra go test flags, split on spaces (for example TESTFLAGS="-run Feed -v").
read -ra testflags <<<"${TESTFLAGS:-}"
go test -race -count=1 -timeout 45m "${testflags[@]}" ./...

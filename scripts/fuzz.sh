#!/usr/bin/env bash
# Every fuzz target in the repository, each for FUZZTIME (default 1m), as `make fuzz` runs
# them: go test -fuzz takes one target a run, so this loops over them. `make test` runs only
# their seed corpora (as ordinary tests); this searches past them. Targets that need Redis
# start their own, as the tests do (internal/testenv). A crasher is kept in its package's
# testdata/fuzz/<Target>/: commit it with the fix, it becomes a seed.
#   FUZZTIME=30s scripts/fuzz.sh          every target, 30 s each
#   scripts/fuzz.sh 'JSON'                 only the targets whose name matches the regexp
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-1m}
only=${1:-}

# file:FuzzName for every fuzz target in the tree's test files (tracked or new).
mapfile -t targets < <(git ls-files --cached --others --exclude-standard '*_test.go' |
  xargs -r grep -HoE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' |
  sed -E 's/^([^:]*):func (Fuzz[A-Za-z0-9_]*)\(.*/\1:\2/' | sort)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2; exit 1
fi

failed=()
ran=0
for t in "${targets[@]}"; do
  file=${t%%:*}
  name=${t##*:}
  if [ -n "$only" ] && ! [[ $name =~ $only ]]; then
    continue
  fi
  pkg=./$(dirname "$file")
  echo "== fuzz $pkg $name for $fuzztime"
  ran=$((ran + 1))
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"; then
    failed+=("$pkg $name")
  fi
done
echo "fuzz: $ran targets, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi

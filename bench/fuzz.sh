#!/bin/bash
# Run every fuzz target of the repository for SECONDS each (default 60),
# one after the other: bash bench/fuzz.sh [SECONDS]
#
# -fuzzminimizetime 100x keeps Go from spending up to a minute minimizing
# each new input, which otherwise looks like a stalled fuzzer. A crasher is
# written by Go to PKG/testdata/fuzz/FuzzX/, where plain `go test` runs it
# from then on: fix the bug and commit the file as its regression test.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
failed=()
while read -r file target; do
	pkg=./$(dirname "$file")
	echo "== $pkg $target (${secs}s)"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" -fuzzminimizetime 100x "$pkg"; then
		failed+=("$pkg $target")
	fi
done < <(grep -ro --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's|^\./||; s|:func | |' | sort)
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "all fuzz targets ran ${secs}s without a failure"

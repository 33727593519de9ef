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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while read -r file target; do
	pkg=./$(dirname "$file")
	echo "== $pkg $target (${secs}s)"
	# Go's fuzz engine can end a short run with "context deadline exceeded"
	# when the time runs out while a worker is still busy with an input; no
	# crasher is written then, and that is not a finding: run once more.
	for try in 1 2; do
		before=$(ls "$pkg/testdata/fuzz/$target" 2>/dev/null | wc -l)
		if go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" -fuzzminimizetime 100x "$pkg" 2>&1 | tee "$log"; then
			break
		fi
		after=$(ls "$pkg/testdata/fuzz/$target" 2>/dev/null | wc -l)
		if [ "$try" = 1 ] && [ "$after" = "$before" ] && grep -q 'context deadline exceeded' "$log"; then
			echo "== $pkg $target: the engine ran out of time mid-input (no crasher); once more"
			continue
		fi
		failed+=("$pkg $target")
		break
	done
done < <(grep -ro --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's|^\./||; s|:func | |' | sort)
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "all fuzz targets ran ${secs}s without a failure"

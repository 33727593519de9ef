#!/bin/bash
# md-solve.sh: how long holmes md solve takes on the md lab's 10-member
# raid10 (100 MiB members), against the first manual step it replaces:
# cmp over each true mirror pair (as in the post-mortem), which alone reads
# every member whole (cmp -l past the data offset, counting differences).
# Prints both times and the ratio.
#
#   bench/md-solve.sh [RUNS]     (default 3; the best run of each counts)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-3}
. bench/lib.sh
for i in 0 1 2 3 4 5 6 7 8 9; do
	xz -dc "$root/testdata/md/solve-big-r10/d$i.img.xz" >"$work/d$i.img"
done
cat "$work"/d*.img >/dev/null # both sides start from the page cache

best() { # CMD... : best wall time in seconds over $runs runs
	local b= t
	for ((r = 0; r < runs; r++)); do
		t=$(secs "$@")
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
	done
	echo "$b"
}
pairs() { for i in 0 2 4 6 8; do cmp -l -i 2M "$work/d$i.img" "$work/d$((i + 1)).img" | wc -l; done; }
solve=$(best "$work/holmes" md solve "$work"/d{9,8,7,6,5,4,3,2,1,0}.img)
manual=$(best pairs)
echo "holmes md solve (10 x 100 MiB, raid10 n2):  ${solve}s"
echo "cmp over the 5 mirror pairs (manual step 1): ${manual}s"
echo "ratio solve/cmp: $(awk -v s="$solve" -v m="$manual" 'BEGIN { printf "%.2f", s / m }')"

#!/bin/bash
# Triage cost: holmes triage over the incident lab's ten disks against what
# an operator runs by hand for the same facts — mdadm --examine on every
# partition and cmp between the halves of every mirror — in one run on the
# same page-cached images. Prints both times, their ratio, and holmes's
# rate as the time per TB of disk.
# Usage: bash bench/triage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
for i in 0 1 2 3 4 5 6 7 8 9; do xz -dc "testdata/incident/d$i.img.xz" >"$work/d$i.img"; done
cat "$work"/d*.img >/dev/null # page cache
by_hand() {
	for i in 0 1 2 3 4 5 6 7 8 9; do
		for p in 1 2; do
			mdadm --examine "$work/d$i.img" >/dev/null 2>&1 || true
		done
	done
	# the mirror halves: every raid1 copy against the first, raid10 pairs
	for i in 1 2 3 4 5 6 7 8 9; do cmp -l -n 26214400 "$work/d0.img" "$work/d$i.img" >/dev/null || true; done
	for i in 0 2 4 6 8; do cmp -l -i 26214400 "$work/d$i.img" "$work/d$((i + 1)).img" >/dev/null || true; done
}
bytes=$(cat "$work"/d*.img | wc -c)
h=$(secs "$work/holmes" triage "$work"/d?.img)
m=$(secs by_hand)
echo "input: 10 disks, $((bytes / 1048576)) MiB, page-cached"
echo "holmes triage            : ${h}s"
echo "mdadm --examine + cmp    : ${m}s"
awk -v h="$h" -v m="$m" 'BEGIN { printf "ratio (by hand / holmes): %.2fx\n", m / h }'
awk -v h="$h" -v b="$bytes" 'BEGIN { printf "holmes triage: %.0f MB/s of disk, %.1f min per TB at that rate\n", b / h / 1e6, 1e12 / (b / h) / 60 }'

#!/bin/bash
# demo.sh: the post-mortem's recovery, on a bundled example.
#
# Four lab disks (made by the real kernel and mdadm) held a raid10 near-2
# with LVM and ext4 on it; an "installer" then re-created the array over
# them in another member order, chunk and data offset. holmes finds the
# mirror pairs, solves the original geometry from the data, recovers the VG
# metadata and reads the files, all read-only. Needs Go and xz.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/holmes-demo.XXXXXX)}
mkdir -p "$work"
command -v xz >/dev/null || { echo "demo.sh: needs xz (apt-get install xz-utils)" >&2; exit 1; }

(cd "$repo" && CGO_ENABLED=0 go build -o "$work/holmes" ./cmd/holmes)
cd "$work"
for d in 0 1 2 3; do
	xz -dc "$repo/testdata/md/solve-r10-n2/d$d.img.xz" >"disk$d.img"
	chmod a-w "disk$d.img" # evidence
done
rm -f case.json
step() { printf '\n$ %s\n' "$*"; "$@"; }

printf '\n$ ./holmes md examine disk*.img | tail -n 8    # what the installer left\n'
./holmes md examine disk0.img disk1.img disk2.img disk3.img | tail -n 8
step ./holmes md pairs disk0.img disk1.img disk2.img disk3.img
step ./holmes md solve --write-case case.json disk3.img disk1.img disk0.img disk2.img
step ./holmes lvm carve md0 --case case.json --out meta --write-case case.json
step cat case.json
step ./holmes ext ls vg_solve_r10_n2/root / --case case.json
step ./holmes ext cat vg_solve_r10_n2/root /README.txt --case case.json
printf '\nEverything is in %s; the disk images were only read.\n' "$work"

#!/bin/bash
# demo.sh: the post-mortem's recovery, on a bundled example, in one command.
#
# Ten lab disks (testdata/incident, made by the real kernel and mdadm in
# user-mode Linux) held a raid1 root with ext3 and a raid10 with LVM and
# ext LVs. Mirror halves diverged; then an installer re-created both arrays
# with newer mdadm defaults, made an empty VG of the same name and ran mkfs
# over the root. holmes triage reads the ten disks and nothing else, finds
# the original arrays under the installer's, the halves to trust, the old
# VG, every filesystem, and writes a case file, a report and a plan; then
# the LVs are read through the case file. Every disk is only read.
# Needs Go and xz. Usage: bash examples/demo.sh [WORKDIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/holmes-demo.XXXXXX)}
mkdir -p "$work"
command -v xz >/dev/null || { echo "demo.sh: needs xz (apt-get install xz-utils)" >&2; exit 1; }

(cd "$repo" && CGO_ENABLED=0 go build -o "$work/holmes" ./cmd/holmes)
cd "$work"
for d in 0 1 2 3 4 5 6 7 8 9; do
	xz -dc "$repo/testdata/incident/d$d.img.xz" >"d$d.img"
	chmod a-w "d$d.img" # evidence
done
mkdir -p case
step() { printf '\n$ %s\n' "$*"; "$@"; }

step ./holmes triage --write-case case/case.json --report case/report.html d0.img d1.img d2.img d3.img d4.img d5.img d6.img d7.img d8.img d9.img
step ./holmes --case case/case.json ext ls guests/home /
step ./holmes --case case/case.json ext cat guests/vm01:p1 /README
step ./holmes --case case/case.json trace d4.img:p2 274432+4096
printf '\nThe report is %s/case/report.html; the case file and the VG metadata are in %s/case.\n' "$work" "$work"
printf 'The disk images were only read.\n'

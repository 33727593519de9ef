#!/bin/bash
# ddrescue.sh: make the fixtures of testdata/ddrescue: the members of an md
# raid1 and an md raid5 (ext4 with files) imaged by real GNU ddrescue from
# failing disks (device-mapper tables with error segments over the members),
# inside user-mode Linux (ddrescue-guest.sh tells the story). Two sets:
# diff/ (each member fails in its own ranges: the arrays read back whole)
# and overlap/ (members fail in overlapping ranges: some file bytes are lost).
#
#   testdata/lab/ddrescue.sh     (needs uml.sh's user-mode-linux, mdadm,
#                                 e2fsprogs, gddrescue, xz)
set -euo pipefail
cd "$(dirname "$0")"
out=../ddrescue
tmp=work/ddrescue # kept, not committed: the unpacked images
rm -rf "$tmp" && mkdir -p "$tmp/diff" "$tmp/overlap"
rm -rf "$out" && mkdir -p "$out/record" "$out/diff" "$out/overlap"
for x in r1-0 r1-1 r5-0 r5-1 r5-2; do truncate -s 16M "$tmp/$x.disk"; done
./uml.sh -m 256M ddrescue-guest.sh "$tmp"/r1-{0,1}.disk "$tmp"/r5-{0,1,2}.disk >"$out/record/guest.log" 2>&1 ||
	{ tail -30 "$out/record/guest.log"; exit 1; }
for set in diff overlap; do
	for x in r1-0 r1-1 r5-0 r5-1 r5-2; do
		xz -9 -T1 -c "$tmp/$set/$x.img" >"$out/$set/$x.img.xz"
		cp "$tmp/$set/$x.map" "$out/$set/$x.map"
	done
done
ls -l "$out" "$out"/*

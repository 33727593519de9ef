#!/bin/sh
# Builds the partition-table fixtures in testdata/blockdev with sfdisk (no
# kernel needed: sfdisk writes tables into image files) and records what
# `sfdisk -d` reads back, which the blockdev tests compare against.
#
#   mbr-logical  MBR: a primary, an extended partition holding three logical
#                partitions (numbered 5, 6, 7 by Linux), a last primary
#   gpt          GPT with named partitions of several types
#   gpt-bad-primary   the gpt image with its primary header zeroed (dd):
#                the backup at the end of the disk must be used
#   gpt-bad-entries   the gpt image with its primary entry array scribbled
#                on (dd): the header CRC holds, the entries CRC does not
#   mbr-over-gpt the gpt image re-labelled dos by sfdisk --wipe never: the
#                old GPT headers stay, Linux and sfdisk read the MBR
#   mbr-ebr-loop the mbr-logical image with the last EBR's link pointed back
#                at the first EBR (dd): sfdisk -d lists p5-p7 over and over
#                up to its limit of 60; holmes must list them once and say
#                the chain loops
#
# Usage: sh testdata/lab/partitions.sh   (from the repository root)
set -eu
out=testdata/blockdev
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

truncate -s 16M "$tmp/mbr-logical.img"
sfdisk -q "$tmp/mbr-logical.img" <<'TABLE'
label: dos
label-id: 0x484f4c4d
start=2048, size=4096, type=fd
start=6144, size=20480, type=5
start=8192, size=2048, type=83
start=12288, size=4096, type=8e
start=18432, size=6144, type=fd
start=26624, size=4096, type=83
TABLE

truncate -s 16M "$tmp/gpt.img"
sfdisk -q "$tmp/gpt.img" <<'TABLE'
label: gpt
label-id: 484F4C4D-4553-4750-5400-000000000001
start=2048, size=8192, type=A19D880F-05FC-4D3B-A006-743F0F84911E, uuid=484F4C4D-4553-4750-5400-000000000011, name="raid member"
start=10240, size=4096, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=484F4C4D-4553-4750-5400-000000000012, name="lvm"
start=14336, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=484F4C4D-4553-4750-5400-000000000013, name="root"
TABLE

cp "$tmp/gpt.img" "$tmp/gpt-bad-primary.img"
dd if=/dev/zero of="$tmp/gpt-bad-primary.img" bs=512 seek=1 count=1 conv=notrunc status=none
cp "$tmp/gpt.img" "$tmp/gpt-bad-entries.img"
printf 'scribbled over by an installer' |
	dd of="$tmp/gpt-bad-entries.img" bs=1 seek=$((2 * 512 + 56)) conv=notrunc status=none

cp "$tmp/mbr-logical.img" "$tmp/mbr-ebr-loop.img"
# The last EBR (of p7) is at sector 16384; its second entry (at +462) gets
# type 0x05, start 0 relative to the extended partition, 2048 sectors.
printf '\000\000\000\000\005\000\000\000\000\000\000\000\000\010\000\000' |
	dd of="$tmp/mbr-ebr-loop.img" bs=1 seek=$((16384 * 512 + 462)) conv=notrunc status=none

cp "$tmp/gpt.img" "$tmp/mbr-over-gpt.img"
sfdisk -q --wipe never "$tmp/mbr-over-gpt.img" <<'TABLE'
label: dos
label-id: 0x484f4c4e
start=2048, size=8192, type=fd
start=10240, size=12288, type=83
TABLE

for img in mbr-logical gpt gpt-bad-primary gpt-bad-entries mbr-over-gpt mbr-ebr-loop; do
	# sfdisk -d names partitions after the image path: record them as IMG.
	(cd "$tmp" && sfdisk -d "$img.img" 2>&1) > "$out/$img.sfdisk.txt" || true
	xz -9 -c "$tmp/$img.img" > "$out/$img.img.xz"
done
ls -l "$out"

#!/bin/bash
# md-examine.sh: the examine set. One array per fixture, every metadata
# version, level and layout mdadm offers, members on whole disks and on MBR,
# GPT and logical partitions, with a bitmap, a spare and a missing member.
# Each array is filled with position-unique text before it is recorded.
. "$(dirname "$0")/md-lib.sh"

simple r1-v090 8M 2 --level=1 --raid-devices=2 --metadata=0.90
simple r1-v10-bitmap 8M 2 --level=1 --raid-devices=2 --metadata=1.0 --bitmap=internal
simple r1-v11-3way 8M 3 --level=1 --raid-devices=3 --metadata=1.1
simple r5-bitmap-v12 8M 3 --level=5 --chunk=64 --raid-devices=3 --metadata=1.2 --bitmap=internal --bitmap-chunk=64M
simple r10-n2-v12 8M 4 --level=10 --layout=n2 --chunk=64 --raid-devices=4 --metadata=1.2
simple r10-f2-v12 8M 4 --level=10 --layout=f2 --chunk=32 --raid-devices=4 --metadata=1.2 --data-offset=2M
simple r10-o2-v11 8M 4 --level=10 --layout=o2 --chunk=128 --raid-devices=4 --metadata=1.1
simple r10-n3-v12 8M 5 --level=10 --layout=n3 --chunk=16 --raid-devices=5 --metadata=1.2
simple r10-f2-v090 8M 3 --level=10 --layout=f2 --chunk=64 --raid-devices=3 --metadata=0.90
simple r5-ls-v12 8M 4 --level=5 --layout=left-symmetric --chunk=64 --raid-devices=4 --metadata=1.2
simple r5-la-v10 8M 3 --level=5 --layout=left-asymmetric --chunk=32 --raid-devices=3 --metadata=1.0
simple r5-rs-v11 8M 5 --level=5 --layout=right-symmetric --chunk=16 --raid-devices=5 --metadata=1.1
simple r5-ra-v090 8M 4 --level=5 --layout=right-asymmetric --chunk=128 --raid-devices=4 --metadata=0.90
simple r6-v12 16M 5 --level=6 --chunk=512 --raid-devices=5 --metadata=1.2
simple r6-v090 8M 4 --level=6 --chunk=64 --raid-devices=4 --metadata=0.90
simple r4-v12 8M 3 --level=4 --chunk=16 --raid-devices=3 --metadata=1.2
simple r0-v12 8M 3 --level=0 --chunk=32 --raid-devices=3 --metadata=1.2
# (no raid0 with 0.90: mdadm 4.2 refuses, "0.90 metadata does not support layouts for RAID0")
simple r0-v10 8M 2 --level=0 --chunk=4 --raid-devices=2 --metadata=1.0
simple r5-spare-v12 8M 4 --level=5 --chunk=64 --raid-devices=3 --spare-devices=1 --metadata=1.2

# linear over two disks of different sizes
new_fixture linear-v12 8M 6M
run_guest linear-v12 <<-'GUEST'
	mkarr /dev/md0 linear-v12 --level=linear --raid-devices=2 --metadata=1.2 $(disks 2)
	fill /dev/md0 linear-v12
	record /dev/md0 linear-v12
GUEST
pack linear-v12

# raid5 created with role 1 missing: reads of that role come from parity
new_fixture r5-degraded-v12 8M 8M 8M
run_guest r5-degraded-v12 <<-'GUEST'
	mkarr /dev/md0 r5-degraded-v12 --level=5 --chunk=64 --raid-devices=4 --metadata=1.2 \
		$(D 0) missing $(D 1) $(D 2)
	fill /dev/md0 r5-degraded-v12
	NOTES="created degraded: role 1 was given as 'missing'" record /dev/md0 r5-degraded-v12
GUEST
pack r5-degraded-v12

# Members on partitions: d0 MBR (p1, p2), d1 GPT (p1, p2), d2 MBR with an
# extended partition holding logicals p5 and p6, d3 a whole disk.
new_fixture parts-r5-v12 20M 20M 24M 8M
sfdisk -q "$(disk parts-r5-v12 0)" <<-'TABLE'
	label: dos
	start=2048, size=8M, type=fd
	size=8M, type=fd
TABLE
sgdisk -n1:2048:+8M -t1:FD00 -c1:md-a -n2:0:+8M -t2:FD00 -c2:md-b "$(disk parts-r5-v12 1)" >/dev/null
sfdisk -q "$(disk parts-r5-v12 2)" <<-'TABLE'
	label: dos
	start=2048, size=4M, type=83
	size=19M, type=5
	size=8M, type=fd
	size=8M, type=fd
TABLE
run_guest parts-r5-v12 <<-'GUEST'
	mkarr /dev/md0 parts-r5-v12 --level=5 --chunk=32 --raid-devices=4 --metadata=1.2 \
		$(P 0 1) $(P 1 2) $(P 2 5) $(D 3)
	mkarr /dev/md1 parts-r1-v090 --level=1 --raid-devices=3 --metadata=0.90 \
		$(P 0 2) $(P 1 1) $(P 2 6)
	fill /dev/md0 parts-r5-v12
	fill /dev/md1 parts-r1-v090
	NOTES="members: MBR primary, GPT partition, logical partition in an extended MBR partition, whole disk" \
		record /dev/md0 parts-r5-v12
	DISKDIR=parts-r5-v12 NOTES="0.90 on partitions (the last MBR primary, a GPT partition, the last logical partition); images are under parts-r5-v12/" \
		record /dev/md1 parts-r1-v090
	sfdisk -d $(D 0) > "$MD/parts-r5-v12/d0.sfdisk.txt"
	sfdisk -d $(D 1) > "$MD/parts-r5-v12/d1.sfdisk.txt"
	sfdisk -d $(D 2) > "$MD/parts-r5-v12/d2.sfdisk.txt"
GUEST
mkdir -p "$MD/parts-r1-v090"
pack parts-r5-v12
merge_manifest

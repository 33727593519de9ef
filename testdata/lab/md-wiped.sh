#!/bin/bash
# md-wiped.sh: the wiped-table set (issue 2). A disk partitioned into an md
# member (1.2, raid1 with its other half missing), an LVM PV (VG with an ext4
# LV), a plain ext4 filesystem and a DRBD 8 backing device (internal meta
# data, by drbdmeta); then the partition table is destroyed the
# way an installer does it: `wipefs -a` on the MBR disk, `sgdisk --zap-all` on
# the GPT disk. `holmes scan` has to find the three by signature search.
. "$(dirname "$0")/md-lib.sh"

# wiped NAME TABLE-TYPE
wiped() {
	local name=$1 table=$2
	new_fixture "$name" 64M
	if [ "$table" = dos ]; then
		sfdisk -q "$(disk "$name" 0)" <<-'TABLE'
			label: dos
			start=2048, size=12M, type=fd
			size=16M, type=8e
			size=24M, type=83
			size=8M, type=83
		TABLE
	else
		sgdisk -n1:2048:+12M -t1:FD00 -n2:0:+16M -t2:8E00 -n3:0:+24M -t3:8300 -n4:0:+8M -t4:8300 \
			"$(disk "$name" 0)" >/dev/null
	fi
	run_guest "$name" wiped-table <<-GUEST
		table=$table
		. "\$LAB/md-wiped-guest.sh"
	GUEST
	pack "$name"
}

wiped wiped-mbr dos
wiped wiped-gpt gpt
merge_manifest

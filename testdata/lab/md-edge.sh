#!/bin/bash
# md-edge.sh: geometries the kernel maps in less common ways: raid0 over
# members of different sizes (the kernel stripes over all members, then over
# those with room left: zones) and raid6 with a "-6" layout (data and P as
# raid5 left-symmetric over all but the last member, Q always on the last).
. "$(dirname "$0")/md-lib.sh"
new_fixture r0-zones-v12 8M 6M 4M
run_guest r0-zones-v12 <<-'GUEST'
	mkarr /dev/md0 r0-zones-v12 --level=0 --chunk=64 --raid-devices=3 --metadata=1.2 $(disks 3)
	fill /dev/md0 r0-zones-v12
	NOTES="members of 8, 6 and 4 MiB: the kernel's raid0 zones (three members, then two, then one)" \
		record /dev/md0 r0-zones-v12
GUEST
pack r0-zones-v12
simple r6-ls6-v12 8M 5 --level=6 --layout=left-symmetric-6 --chunk=64 --raid-devices=5 --metadata=1.2
merge_manifest

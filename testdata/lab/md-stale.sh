#!/bin/bash
# md-stale.sh: members whose superblocks disagree (issue 4). A 3-way raid1
# (1.2) is filled, then d2 is failed and removed and the array is written
# again without it: d2's superblock keeps the older events and update time,
# and its data the first fill. Assembly from superblocks must leave d2 out
# and say that d0/d1 are the fresher copies.
. "$(dirname "$0")/md-lib.sh"
name=r1-stale-v12
new_fixture $name 8M 8M 8M
run_guest $name <<-'GUEST'
	mkarr /dev/md0 r1-stale-v12 --level=1 --raid-devices=3 --metadata=1.2 $(disks 3)
	fill /dev/md0 r1-stale-v12-before
	mdadm /dev/md0 --fail $(D 2) --remove $(D 2)
	sleep 1 # a later update time than d2's, to the second
	fill /dev/md0 r1-stale-v12
	NOTES="d2 was failed and removed after a first fill, then the array was filled again without it: d2's superblock lags in events and update time and d2 holds the first fill; stale_examine is its mdadm --examine" \
		record /dev/md0 r1-stale-v12
	mdadm --examine $(D 2) >"$MD/r1-stale-v12/d2.examine.txt" 2>&1
	jq '. + {stale: ["r1-stale-v12/d2.img.xz"], stale_examine: ["r1-stale-v12/d2.examine.txt"]}' \
		"$ENTRIES/r1-stale-v12.json" >"$ENTRIES/r1-stale-v12.json.tmp"
	mv "$ENTRIES/r1-stale-v12.json.tmp" "$ENTRIES/r1-stale-v12.json"
GUEST
pack $name
merge_manifest

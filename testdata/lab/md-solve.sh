#!/bin/bash
# md-solve.sh: the solve set (issue 4). Each array is filled with sector
# text, then carries LVM (an ext4 and an ext3 LV with files) or a bare ext4;
# the truth is recorded (sha256 of /dev/mdX and of each LV, e2fsck -fn), then
# the installer is simulated: a second `mdadm --create --assume-clean` in
# another member order with another chunk, data offset and sometimes
# metadata version, whose superblocks are recorded too.
. "$(dirname "$0")/md-lib.sh"

# solve NAME SIZE N CONTENT "ORIGINAL ARGS" "ORDER" "RECREATE ARGS" "ORDER"
# ORDER lists disk numbers in role order; CONTENT is lvm, ext4 or big.
solve() {
	local name=$1 size=$2 n=$3 sizes=()
	for ((i = 0; i < n; i++)); do sizes+=("$size"); done
	new_fixture "$name" "${sizes[@]}"
	run_guest "$name" solve <<-GUEST
		content='$4' orig_args='$5' orig_order='$6' new_args='$7' new_order='$8'
		. "\$LAB/md-solve-guest.sh"
	GUEST
	pack "$name"
}

solve solve-r0 12M 3 lvm \
	"--level=0 --chunk=64 --metadata=1.2 --data-offset=1M" "0 1 2" \
	"--level=0 --chunk=512 --metadata=1.2 --data-offset=2M" "2 0 1"
solve solve-r1 24M 2 lvm \
	"--level=1 --metadata=1.2 --data-offset=1M" "0 1" \
	"--level=1 --metadata=1.1 --data-offset=2M" "1 0"
solve solve-r10-n2 12M 4 lvm \
	"--level=10 --layout=n2 --chunk=64 --metadata=1.2 --data-offset=1M --size=10M" "0 1 2 3" \
	"--level=10 --layout=n2 --chunk=128 --metadata=0.90" "3 1 0 2"
solve solve-r10-f2 12M 4 lvm \
	"--level=10 --layout=f2 --chunk=32 --metadata=1.2 --data-offset=2M" "2 0 3 1" \
	"--level=10 --layout=f2 --chunk=64 --metadata=1.2 --data-offset=1M" "0 1 2 3"
solve solve-r10-o2 12M 4 lvm \
	"--level=10 --layout=o2 --chunk=128 --metadata=1.1" "1 0 2 3" \
	"--level=10 --layout=n2 --chunk=32 --metadata=1.2 --data-offset=3M" "0 1 2 3"
solve solve-r5-ls 12M 4 lvm \
	"--level=5 --layout=left-symmetric --chunk=64 --metadata=1.2 --data-offset=1M" "0 1 2 3" \
	"--level=5 --layout=left-symmetric --chunk=512 --metadata=1.2 --data-offset=2M" "1 3 0 2"
solve solve-r5-la 12M 4 lvm \
	"--level=5 --layout=left-asymmetric --chunk=32 --metadata=0.90" "3 2 1 0" \
	"--level=5 --layout=left-symmetric --chunk=64 --metadata=1.0" "0 1 2 3"
solve solve-r6 12M 5 lvm \
	"--level=6 --chunk=64 --metadata=1.2 --data-offset=1M" "0 1 2 3 4" \
	"--level=6 --chunk=128 --metadata=1.2 --data-offset=2M" "4 2 0 3 1"
solve solve-ext4-r5 16M 3 ext4 \
	"--level=5 --layout=right-symmetric --chunk=128 --metadata=1.2 --data-offset=1M" "0 1 2" \
	"--level=5 --layout=left-symmetric --chunk=512 --metadata=1.2 --data-offset=2M" "2 1 0"
solve solve-big-r10 100M 10 big \
	"--level=10 --layout=n2 --chunk=512 --metadata=1.2 --data-offset=2M" "0 1 2 3 4 5 6 7 8 9" \
	"--level=10 --layout=n2 --chunk=64 --metadata=1.2 --data-offset=1M" "9 8 7 6 5 4 3 2 1 0"
merge_manifest

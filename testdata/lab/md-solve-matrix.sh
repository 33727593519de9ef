#!/bin/bash
# md-solve-matrix.sh: the solve matrix (issue 13). raid5 in all four
# algorithms and raid6, 4 to 8 members, chunks 4K to 1M, metadata 0.90, 1.0,
# 1.1 and 1.2, LVM (ext4 + ext3 LVs), bare ext4 or ext3, or almost nothing;
# then the superblocks are zeroed or overwritten by an installer's second
# mdadm --create. Not the full cross product: a covering set, where every
# value of every dimension appears. The truth (geometry and member order)
# goes into testdata/md/manifest.json as "original" (kind "solve-matrix").
#
#   md-solve-matrix.sh [NAME...]     default: every fixture
. "$(dirname "$0")/md-lib.sh"

# row NAME MEMBER-SIZE N CONTENT FILL FATE "ORIGINAL ARGS" ["INSTALLER ARGS"]
# CONTENT: lvm | ext4 | ext3 | little (bare ext4, one file) | lvm-little; FILL: text (sector text first) or
# zero; FATE: zeroed | installer. The original order is a fixed shuffle of
# the disks, the installer's is reversed.
want=("$@")
row() {
	local name=$1 size=$2 n=$3 sizes=() order
	if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then return; fi
	for ((i = 0; i < n; i++)); do sizes+=("$size"); done
	# role r gets disk (r*3+1) mod n (3 is prime to 4..8 but 6: use 5 there)
	local step=3
	[ $((n % 3)) -ne 0 ] || step=5
	order=$(for ((r = 0; r < n; r++)); do printf '%d ' $(((r * step + 1) % n)); done)
	new_fixture "$name" "${sizes[@]}"
	run_guest "$name" solve-matrix <<-GUEST
		content='$4' fillwith='$5' fate='$6' orig_args='$7' orig_order='$order' new_args='${8:-}'
		. "\$LAB/md-solve-matrix-guest.sh"
	GUEST
	pack "$name"
}

row mx-r5ls-6-128k-090-zeroed  16M 6 lvm    zero zeroed    "--level=5 --layout=left-symmetric --chunk=128 --metadata=0.90"
row mx-r5la-4-4k-12-zeroed     12M 4 lvm    text zeroed    "--level=5 --layout=left-asymmetric --chunk=4 --metadata=1.2 --data-offset=1M"
row mx-r5rs-5-8k-10-installer  16M 5 ext4   zero installer "--level=5 --layout=right-symmetric --chunk=8 --metadata=1.0" "--level=5 --chunk=512 --metadata=1.0"
row mx-r5ra-7-16k-12-installer 12M 7 lvm    text installer "--level=5 --layout=right-asymmetric --chunk=16 --metadata=1.2 --data-offset=2M" "--level=5 --chunk=64 --metadata=1.2 --data-offset=1M"
row mx-r6-8-32k-090-zeroed     12M 8 lvm    zero zeroed    "--level=6 --chunk=32 --metadata=0.90"
row mx-r5ls-8-64k-10-zeroed    12M 8 ext3   zero zeroed    "--level=5 --layout=left-symmetric --chunk=64 --metadata=1.0"
row mx-r5la-6-256k-12-installer 16M 6 ext4  text installer "--level=5 --layout=left-asymmetric --chunk=256 --metadata=1.2 --data-offset=1M" "--level=6 --chunk=512 --metadata=1.2 --data-offset=2M"
row mx-r5rs-4-512k-090-installer 24M 4 lvm  zero installer "--level=5 --layout=right-symmetric --chunk=512 --metadata=0.90" "--level=5 --chunk=64 --metadata=1.0"
row mx-r5ra-5-1m-12-zeroed     24M 5 lvm    zero zeroed    "--level=5 --layout=right-asymmetric --chunk=1024 --metadata=1.2 --data-offset=2M"
row mx-r6-4-4k-12-installer    16M 4 ext4   zero installer "--level=6 --chunk=4 --metadata=1.2 --data-offset=1M" "--level=5 --chunk=512 --metadata=1.2 --data-offset=3M"
row mx-r6-5-1m-10-zeroed       24M 5 lvm    text zeroed    "--level=6 --chunk=1024 --metadata=1.0"
row mx-r6-6-16k-12-zeroed      16M 6 ext3   zero zeroed    "--level=6 --layout=left-symmetric --chunk=16 --metadata=1.2 --data-offset=1M"
row mx-r6-7-128k-090-installer 12M 7 ext4   zero installer "--level=6 --chunk=128 --metadata=0.90" "--level=6 --chunk=64 --metadata=1.0"
row mx-r5ls-5-32k-12-little    16M 5 lvm-little zero zeroed    "--level=5 --layout=left-symmetric --chunk=32 --metadata=1.2 --data-offset=1M"
row mx-r5ra-8-8k-090-zeroed    12M 8 ext4   zero zeroed    "--level=5 --layout=right-asymmetric --chunk=8 --metadata=0.90"
row mx-r5la-7-512k-10-installer 16M 7 ext3  zero installer "--level=5 --layout=left-asymmetric --chunk=512 --metadata=1.0" "--level=5 --chunk=128 --metadata=1.0"
row mx-r5ls-4-256k-12-size     16M 4 lvm    zero zeroed    "--level=5 --layout=left-symmetric --chunk=256 --metadata=1.2 --data-offset=1M --size=10M"
row mx-r6-8-64k-11-zeroed      12M 8 lvm    zero zeroed    "--level=6 --chunk=64 --metadata=1.1"
row mx-r5rs-6-4k-12-zeroed     12M 6 ext4   text zeroed    "--level=5 --layout=right-symmetric --chunk=4 --metadata=1.2 --data-offset=1M"
row mx-r6ra-6-8k-10-zeroed     12M 6 lvm    zero zeroed    "--level=6 --layout=right-asymmetric --chunk=8 --metadata=1.0"
row mx-r6-5-256k-12-little     16M 5 little zero installer "--level=6 --chunk=256 --metadata=1.2 --data-offset=1M" "--level=6 --chunk=256 --metadata=1.2 --data-offset=2M"
row mx-r5ls-7-1m-11-installer  24M 7 lvm    zero installer "--level=5 --layout=left-symmetric --chunk=1024 --metadata=1.1" "--level=5 --chunk=512 --metadata=1.1"
merge_manifest

#!/bin/bash
# Makes the journal-replay fixtures in testdata/ext: filesystems whose
# journal holds transactions the real kernel committed but never wrote
# home, because the device failed before unmount (ext-replay-guest.sh):
#   ext4-replay          internal journal, metadata_csum (csum v3 tags)
#   ext3-replay          ext3, 32-bit tags without checksums
#   ext4-replay-ext      external journal, in ext4-replay-ext.journal.img
# and journals written by debugfs's journal writer for the tag formats
# today's kernel no longer writes (ext2fs_open + jo/jw/jc, e2fsprogs 1.47):
#   ext4-jv2-32, ext4-jv2-64, ext4-jv3-32, ext4-j64, ext4-jv1  checksum
#                        v2 and v3 tags with 32- and 64-bit block numbers,
#                        64-bit tags without checksums, and the v1 commit
#                        checksum (crc32 of the transaction); each logs two blocks in
#                        transaction 1 and revokes one in transaction 2
# Usage: bash testdata/lab/ext-replay.sh [NAME...]  (from the repository
# root; the kernel ones boot user-mode Linux through testdata/lab/uml.sh)
set -euo pipefail
only=" $* "
selected() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }
lab=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$lab/../ext" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1700000000 TZ=UTC
stamp=202311141313.20

src=$work/src
mkdir -p "$src"/etc "$src"/home/user "$src"/data
echo holmes >"$src"/etc/hostname
seq 1 60000 >"$src"/home/user/notes.txt
: >"$src"/home/user/empty
printf 'start' >"$src"/data/sparse.bin && truncate -s 3M "$src"/data/sparse.bin
find "$src" -exec touch -h -t $stamp {} +

if selected kernel; then
	truncate -s 64M "$work/ext4-replay.img" "$work/ext3-replay.img" "$work/ext4-replay-ext.img"
	truncate -s 8M "$work/ext4-replay-ext.journal.img"
	mke2fs -q -F -t ext4 -d "$src" "$work/ext4-replay.img"
	mke2fs -q -F -t ext3 -b 1024 -d "$src" "$work/ext3-replay.img"
	cp -a "$src" "$lab/.replay-src" # the guest makes the external-journal pair (mke2fs wants block devices)
	trap 'rm -rf "$work" "$lab/.replay-src"' EXIT
	bash "$lab/uml.sh" "$lab/ext-replay-guest.sh" "$work/ext4-replay.img" "$work/ext3-replay.img" \
		"$work/ext4-replay-ext.img" "$work/ext4-replay-ext.journal.img"
	for f in ext4-replay ext3-replay ext4-replay-ext ext4-replay-ext.journal; do
		xz -T1 -9 -c "$work/$f.img" >"$out/$f.img.xz"
	done
fi

# debugfs's journal writer: jo [-c] [-v 2|3] opens the journal (-c turns
# checksums on), jw -b BLOCKS FILE logs FILE's bytes as those blocks, -r
# BLOCKS revokes; jc commits and closes.
djournal() {
	local name=$1 bits=$2 jo=$3 img=$work/$1.img
	truncate -s 32M "$img"
	mke2fs -q -F -t ext4 -b 1024 -O "$bits" -d "$src" "$img"
	local hb nb
	hb=$(debugfs -R "bmap /etc/hostname 0" "$img" 2>/dev/null)
	nb=$(debugfs -R "bmap /home/user/notes.txt 0" "$img" 2>/dev/null)
	head -c 2048 /dev/zero | tr '\0' 'J' >"$work/jblock"
	printf 'replayed from the journal\n' | dd of="$work/jblock" conv=notrunc status=none
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-CMDS
		jo $jo
		jw -b $hb,$nb $work/jblock
		jw -r $nb
		jc
	CMDS
	xz -T1 -9 -c "$img" >"$out/$name.img.xz"
}
selected ext4-jv2-32 && djournal ext4-jv2-32 ^64bit "-c -v 2"
selected ext4-jv2-64 && djournal ext4-jv2-64 64bit "-c -v 2"
selected ext4-jv3-32 && djournal ext4-jv3-32 ^64bit "-c -v 3"
selected ext4-j64 && djournal ext4-j64 64bit,^metadata_csum ""
selected ext4-jv1 && djournal ext4-jv1 ^64bit,^metadata_csum "-c"
true

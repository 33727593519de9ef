#!/bin/bash
# Makes testdata/ext/ext3-journal.img.xz: an ext3 whose root directory was
# last changed by the real kernel (so the journal holds an older copy of
# its block), then damaged like ext3-damaged: first 64 KiB from a newer
# mkfs, root directory block zeroed. Records debugfs ls -l / before the
# damage. Usage: bash testdata/lab/ext-journal.sh  (from the repository root;
# boots user-mode Linux through testdata/lab/uml.sh)
set -euo pipefail
lab=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$lab/../ext" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1700000000 TZ=UTC
src=$work/src
mkdir -p "$src"/etc/lvm/backup "$src"/home/luke "$src"/var/log
echo holmes >"$src"/etc/hostname
printf 'guests {\n\tid = "Xq3v1c-0Lz9-8kNn-hYQ5-2lBd-Tn6u-8WbQ0e"\n\tseqno = 12\n}\n' >"$src"/etc/lvm/backup/guests
echo "May  2 10:11:12 holmes kernel: booted" >"$src"/var/log/messages
img=$work/ext3-journal.img
truncate -s 128M "$img"
mke2fs -q -F -t ext3 -b 2048 -d "$src" "$img"
bash "$lab/uml.sh" "$lab/ext-journal-guest.sh" "$img"
debugfs -R "ls -l /" "$img" 2>/dev/null >"$out/ext3-journal.root-before.txt"
rootblk=$(debugfs -R "bmap / 0" "$img" 2>/dev/null)
newer=$work/newer.img
truncate -s 128M "$newer"
E2FSPROGS_FAKE_TIME=1800000000 mke2fs -q -F -t ext4 "$newer"
dd if="$newer" of="$img" bs=64K count=1 conv=notrunc status=none
dd if=/dev/zero of="$img" bs=2048 seek="$rootblk" count=1 conv=notrunc status=none
xz -T1 -9 -c "$img" >"$out/ext3-journal.img.xz"

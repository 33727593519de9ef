#!/bin/bash
# lvm-guests.sh: make the LVM lab fixtures in testdata/lvm with real mdadm and
# lvm2 inside user-mode Linux (see lvm-guests-guest.sh for the story), then
# damage a copy of the /etc filesystem so carving must find text in raw blocks.
#
#   testdata/lab/lvm-guests.sh          (needs uml.sh's user-mode-linux, xz, e2fsprogs)
set -euo pipefail
cd "$(dirname "$0")"
out=../lvm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out/record" && mkdir -p "$out/record"
for x in a b c d; do truncate -s 24M "$tmp/disk-$x.img"; done
truncate -s 4M "$tmp/etc.img"
LVM_LAB_RECORD="$out/record" ./uml.sh -m 384M lvm-guests-guest.sh "$tmp"/disk-{a,b,c,d}.img "$tmp/etc.img" >"$out/record/guest.log" 2>&1 ||
	{ tail -30 "$out/record/guest.log"; exit 1; }

# The damaged /etc: zero group 0's inode table, so no inode (the root
# directory included) leads to the backup files any more; their text stays
# in the data blocks.
cp --sparse=always "$tmp/etc.img" "$tmp/etc-damaged.img"
read -r first last < <(dumpe2fs "$tmp/etc.img" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-\([0-9]*\).*/\1 \2/p' | head -1)
bs=$(dumpe2fs -h "$tmp/etc.img" 2>/dev/null | sed -n 's/^Block size: *//p')
dd if=/dev/zero of="$tmp/etc-damaged.img" bs="$bs" seek="$first" count=$((last - first + 1)) conv=notrunc status=none
echo "zeroed blocks $first-$last (block size $bs)" >"$out/record/etc-damage.txt"
debugfs -R "ls -l /etc/lvm/backup" "$tmp/etc-damaged.img" >>"$out/record/etc-damage.txt" 2>&1 || true

# md0's and md1's first members carry everything (raid1); the second halves
# are identical in data and not kept.
for f in disk-a disk-c etc etc-damaged; do xz -9 -T1 -c "$tmp/$f.img" >"$out/$f.img.xz"; done
ls -l "$out"

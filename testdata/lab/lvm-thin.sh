#!/bin/bash
# lvm-thin.sh: make the thin-pool and raid LV fixtures in testdata/lvm/thin
# with real lvm2, dm-thin-pool, dm-raid and thin-provisioning-tools inside
# user-mode Linux (lvm-thin-guest.sh tells the story).
#
#   testdata/lab/lvm-thin.sh     (needs uml.sh's user-mode-linux, lvm2, e2fsprogs,
#                                 fdisk, thin-provisioning-tools, xz)
set -euo pipefail
cd "$(dirname "$0")"
out=../lvm/thin
tmp=work/thin # kept, not committed: the unpacked images
rm -rf "$tmp" && mkdir -p "$tmp"
rm -rf "$out/record" && mkdir -p "$out/record"
truncate -s 64M "$tmp/pve.img"
for x in b c d; do truncate -s 16M "$tmp/raid-$x.img"; done
./uml.sh -m 384M lvm-thin-guest.sh "$tmp/pve.img" "$tmp"/raid-{b,c,d}.img >"$out/record/guest.log" 2>&1 ||
	{ tail -30 "$out/record/guest.log"; exit 1; }
# The pool's metadata as thin-provisioning-tools read it, from a copy of
# the _tmeta LV's bytes (where its dm table put them on the PV), the pool
# being inactive.
read -r _ len _ _ off <"$out/record/tmeta-table.txt"
dd if="$tmp/pve.img" of="$tmp/tmeta.bin" bs=512 skip="$off" count="$len" status=none
echo "thin_dump $(thin_dump -V)" >>"$out/record/versions.txt"
thin_check "$tmp/tmeta.bin" >"$out/record/thin_check.txt" 2>&1
thin_dump "$tmp/tmeta.bin" >"$out/record/thin_dump.xml"
thin_ls --format DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS,TRANSACTION,CREATE_TIME,SNAP_TIME "$tmp/tmeta.bin" >"$out/record/thin_ls.txt"
for f in pve raid-b raid-c raid-d; do xz -9 -T1 -c "$tmp/$f.img" >"$out/$f.img.xz"; done
ls -l "$out"

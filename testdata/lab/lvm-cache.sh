#!/bin/bash
# lvm-cache.sh: make the dm-cache fixtures with DIRTY blocks in
# testdata/lvm/cache: writeback cache LVs in both cache metadata formats
# whose caches hold blocks the origins lack, made by real lvm2 and the
# kernel's dm-cache inside user-mode Linux (lvm-cache-guest.sh tells the
# story), and what cache_dump and cache_check say of their metadata.
#
#   testdata/lab/lvm-cache.sh     (needs uml.sh's user-mode-linux, lvm2,
#                                  e2fsprogs, thin-provisioning-tools, xz)
set -euo pipefail
cd "$(dirname "$0")"
out=../lvm/cache
tmp=work/cache # kept, not committed: the unpacked images
rm -rf "$tmp" && mkdir -p "$tmp"
rm -rf "$out" && mkdir -p "$out/record"
truncate -s 24M "$tmp/pv-a.img"
truncate -s 32M "$tmp/pv-b.img"
./uml.sh -m 384M lvm-cache-guest.sh "$tmp"/pv-{a,b}.img >"$out/record/guest.log" 2>&1 ||
	{ tail -30 "$out/record/guest.log"; exit 1; }
# Each cache's metadata as thin-provisioning-tools read it, from a copy of
# its _cmeta LV's bytes (where its dm table put them on pv-b), the caches
# being inactive (the tools open their input with O_DIRECT, which the
# guest's tmpfs refuses).
echo "cache_dump $(cache_dump -V)" >>"$out/record/versions.txt"
for lv in wb2 wb1; do
	read -r _ len _ _ off <"$out/record/cmeta-table-$lv.txt"
	dd if="$tmp/pv-b.img" of="$tmp/cmeta-$lv.bin" bs=512 skip="$off" count="$len" status=none
	cache_check "$tmp/cmeta-$lv.bin" >"$out/record/cache_check-$lv.txt" 2>&1 || true
	cache_dump "$tmp/cmeta-$lv.bin" >"$out/record/cache_dump-$lv.xml"
done
for x in a b; do xz -9 -T1 -c "$tmp/pv-$x.img" >"$out/pv-$x.img.xz"; done
ls -l "$out"

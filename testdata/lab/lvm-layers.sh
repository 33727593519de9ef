#!/bin/bash
# lvm-layers.sh: make the fixtures of LVM's other layers in testdata/lvm/layers
# (raid6, raid10, a legacy mirror, dm-cache in writethrough and writeback
# mode, dm-writecache) with real lvm2 and the kernel's dm-raid, dm-mirror,
# dm-cache and dm-writecache inside user-mode Linux (lvm-layers-guest.sh
# tells the story).
#
#   testdata/lab/lvm-layers.sh     (needs uml.sh's user-mode-linux, lvm2,
#                                   e2fsprogs, xz)
set -euo pipefail
cd "$(dirname "$0")"
out=../lvm/layers
tmp=work/layers # kept, not committed: the unpacked images
rm -rf "$tmp" && mkdir -p "$tmp"
rm -rf "$out" && mkdir -p "$out/record"
for x in a b c d e; do truncate -s 32M "$tmp/pv-$x.img"; done
./uml.sh -m 384M lvm-layers-guest.sh "$tmp"/pv-{a,b,c,d,e}.img >"$out/record/guest.log" 2>&1 ||
	{ tail -30 "$out/record/guest.log"; exit 1; }
for x in a b c d e; do xz -9 -T1 -c "$tmp/pv-$x.img" >"$out/pv-$x.img.xz"; done
ls -l "$out"

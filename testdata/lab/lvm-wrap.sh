#!/bin/bash
# lvm-wrap.sh: a PV whose metadata buffer has wrapped and whose committed
# text itself wraps round the end of the buffer, made by real lvm2 in UML;
# pvck's view of it recorded. (lvm-guests.sh's PVs are overwritten by the
# installer, which cuts the wrapped text short.)
#
#   testdata/lab/lvm-wrap.sh
set -euo pipefail
cd "$(dirname "$0")"
out=../lvm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 8M "$tmp/wrap.img"
cat >"$tmp/guest.sh" <<GUEST
rec=$(realpath "$out")/record
export LVM_SYSTEM_DIR=/run/lvmlab
mkdir -p \$LVM_SYSTEM_DIR
cat >\$LVM_SYSTEM_DIR/lvm.conf <<CONF
devices { filter = [ "a|^/dev/ubda\\\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
pvcreate --metadatasize 32k --dataalignment 64k /dev/ubda
vgcreate -s 1m wrap /dev/ubda
lvcreate -y -an -Zn -L 1m -n a wrap
lvcreate -y -an -Zn -L 1m -n b wrap
# Grow the text by a tag each time until the committed text wraps.
i=1
while :; do
	lvchange --addtag "revision-number-\$i" wrap/a
	pvck --dump headers /dev/ubda > \$rec/wrap.pvck-headers.txt 2>&1
	off=\$(sed -n 's/.*raw_locn\[0\].offset //p' \$rec/wrap.pvck-headers.txt)
	size=\$(sed -n 's/.*raw_locn\[0\].size //p' \$rec/wrap.pvck-headers.txt)
	mdasize=\$(sed -n 's/.*mda_header_1.size //p' \$rec/wrap.pvck-headers.txt)
	i=\$((i + 1))
	[ \$((off + size)) -gt \$mdasize ] && break
	[ \$i -gt 200 ] && { echo "no wrap after 200 changes"; exit 1; }
done
echo "committed text wraps after \$i changes: offset \$off size \$size in \$mdasize"
pvck --dump metadata_all /dev/ubda > \$rec/wrap.pvck-metadata_all.txt 2>&1
vgcfgbackup -f \$rec/wrap-backup.vg wrap
GUEST
./uml.sh "$tmp/guest.sh" "$tmp/wrap.img"
xz -9 -T1 -c "$tmp/wrap.img" >"$out/wrap.img.xz"
ls -l "$out/wrap.img.xz"

#!/bin/bash
# lvm-restore.sh: prove that what holmes carves restores the old VG with
# lvm2's own tools. On writable copies of the lab disks (after the
# installer's pvcreate/vgcreate), inside user-mode Linux: holmes carves the
# old metadata from the damaged /etc image, holmes plans the restore, the
# plan runs as printed (on copy-on-write overlays of the arrays,
# docs/plan.md), the restored LVs are hashed against the kernel's hashes
# from before the installer (record/lv-sha256.txt), and the plan's undo
# lines take it back.
#
#   testdata/lab/lvm-restore.sh      (after lvm-guests.sh; needs go, xz, uml)
set -euo pipefail
cd "$(dirname "$0")"
lab=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd ../.. && go build -o "$tmp/holmes" ./cmd/holmes)
for f in disk-a disk-c etc-damaged; do xz -dc "../lvm/$f.img.xz" >"$tmp/$f.img"; done
cat >"$tmp/guest.sh" <<GUEST
rec=$lab/../lvm/record
export LVM_SYSTEM_DIR=/run/lvmlab
mkdir -p \$LVM_SYSTEM_DIR
cat >\$LVM_SYSTEM_DIR/lvm.conf <<CONF
devices { filter = [ "a|^/dev/md[0-9]+\\\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { thin_check_executable = "" thin_repair_executable = "" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
CONF
# Each raid1 runs degraded on the one member kept in testdata.
mdadm --assemble --run /dev/md0 /dev/ubda
mdadm --assemble --run /dev/md1 /dev/ubdb
cd $tmp
./holmes lvm carve --out carved /dev/ubdc > carve.txt
./holmes lvm plan carved/guests_45.vg --pv pv0=/dev/md0 --pv pv1=/dev/md1 > plan.txt
cat plan.txt
# Run the plan exactly as printed (it activates the VG on the overlays),
# hash the LVs, then run its undo lines, in one shell (they share its
# variables). No udev here: dmsetup makes its own device nodes.
export DM_DISABLE_UDEV=1
{
	cat plan.txt
	echo 'lvs --config "\$LVM0" -a -o lv_name,lv_uuid,segtype,devices guests'
	echo 'for lv in root home stripe mirror thin; do sha256sum /dev/guests/\$lv | sed "s|/dev/guests/||"; done > restored-sha256.txt'
	sed -n 's/^#   //p' plan.txt
} > run.sh
sh -ex run.sh 2>&1
mdadm --stop /dev/md0 /dev/md1
GUEST
./uml.sh -m 384M "$tmp/guest.sh" "$tmp/disk-a.img" "$tmp/disk-c.img" "$tmp/etc-damaged.img" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
rec=../lvm/record
sed "s|$tmp/||g" "$tmp/log" >"$rec/restore.log"
sed "s|$tmp/||g" "$tmp/carve.txt" >"$rec/restore-carve.txt"
sed "s|$tmp/||g" "$tmp/plan.txt" >"$rec/restore-plan.txt"
cp "$tmp/carved/guests_45.vg" "$rec/carved-guests_45.vg"
cp "$tmp/restored-sha256.txt" "$rec/restored-sha256.txt"
if diff "$rec/lv-sha256.txt" "$rec/restored-sha256.txt"; then
	echo "restored LVs are identical to the originals" | tee -a "$rec/restore.log"
else
	echo "restored LVs differ" | tee -a "$rec/restore.log"
	exit 1
fi

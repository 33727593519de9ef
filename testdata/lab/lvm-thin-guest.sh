# Runs inside UML (via lvm-thin.sh). ubda = the PV of VG "pve" (64 MiB);
# ubdb, ubdc, ubdd = the PVs of VG "raid" (16 MiB each).
# Story: a Proxmox-like VG "pve" whose thin pool "data" holds thin LVs with
# ext4 filesystems (home, www), a thin snapshot of home taken before home was
# changed (the two share every block home did not rewrite), a VM disk
# vm-100-disk-0 with a GPT and ext4 in partition 1, and an over-provisioned
# thin LV "sparse" (larger than the pool, two chunks written). Then a raid1
# and a raid5 LV in VG "raid". Everything the real tools say is recorded in
# $rec.
rec=../lvm/thin/record
work=/run/thinlab
mkdir -p "$work/backup" "$work/src" /mnt/a
export LVM_SYSTEM_DIR=$work
cat >"$work/lvm.conf" <<CONF
devices { filter = [ "a|^/dev/ubd[a-d]\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { thin_check_executable = "" thin_repair_executable = "" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 1 backup_dir = "$work/backup" archive = 0 }
CONF
lvm version >"$rec/versions.txt"
mke2fs -V >>"$rec/versions.txt" 2>&1
uname -r >>"$rec/versions.txt"

. ./lvm-files.sh

pvcreate /dev/ubda
vgcreate -s 1m pve /dev/ubda
lvcreate -y --type thin-pool -L 40m --poolmetadatasize 2m --chunksize 64k -n data pve
lvcreate -y -V 12m -T pve/data -n home
lvcreate -y -V 12m -T pve/data -n www
lvcreate -y -V 16m -T pve/data -n vm-100-disk-0
lvcreate -y -V 64m -T pve/data -n sparse

cd "$work/src" && mkdir home www vm && cd - >/dev/null
tree "$work/src/home" home
tree "$work/src/www" www
tree "$work/src/vm" vm-100-disk-0
mke2fs -q -t ext4 -L home -d "$work/src/home" /dev/pve/home
mke2fs -q -t ext4 -b 4096 -L www -d "$work/src/www" /dev/pve/www
printf 'label: gpt\nstart=2048, size=28672, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' | sfdisk -q /dev/pve/vm-100-disk-0 || true
sfdisk -d /dev/pve/vm-100-disk-0 >"$rec/vm-100-disk-0.sfdisk.txt"
vmloop=$(losetup -f --show -o 1048576 --sizelimit 14680064 /dev/pve/vm-100-disk-0)
mke2fs -q -t ext4 -L vm100root -d "$work/src/vm" "$vmloop"
text "$work/chunk" 65536
dd if="$work/chunk" of=/dev/pve/sparse bs=64k seek=5 conv=notrunc status=none
dd if="$work/chunk" of=/dev/pve/sparse bs=64k seek=1000 conv=notrunc status=none
sync

# The snapshot, then home changes under it: one file appended to, one
# removed, one added, one rewritten in place.
lvcreate -y -s -n home-snap pve/home
mount /dev/pve/home /mnt/a
text /mnt/a/added 100000
cat /mnt/a/f4097 >>/mnt/a/f65537
rm /mnt/a/f200000
dd if=/dev/zero of=/mnt/a/f700000 bs=4096 seek=10 count=3 conv=notrunc status=none
umount /mnt/a
lvchange -ay -K pve/home-snap

mount -o ro /dev/pve/home /mnt/a && sums home && umount /mnt/a
mount -o ro /dev/pve/home-snap /mnt/a && sums home-snap && umount /mnt/a
mount -o ro /dev/pve/www /mnt/a && sums www && umount /mnt/a
mount -o ro "$vmloop" /mnt/a && sums vm-100-disk-0-p1 && umount /mnt/a
losetup -d "$vmloop"
sha256sum /dev/pve/home /dev/pve/home-snap /dev/pve/www /dev/pve/vm-100-disk-0 /dev/pve/sparse | sed 's|/dev/||' >"$rec/lv-sha256.txt"

lvs -a -o lv_name,lv_uuid,segtype,lv_size,seg_start_pe,seg_size_pe,devices,pool_lv,origin,thin_id,transaction_id,chunk_size,data_percent,metadata_percent pve >"$rec/lvs.txt"
dmsetup table | sort >"$rec/dmsetup-table.txt"
dmsetup status | sort >"$rec/dmsetup-status.txt"
tmeta=$(dmsetup table pve-data_tmeta)
vgchange -an pve
vgcfgbackup -f "$rec/pve.vg" pve

# Where the _tmeta LV lies on the PV: lvm-thin.sh runs thin_dump, thin_ls
# and thin_check on the host over a copy of those bytes (they open their
# input with O_DIRECT, which this guest's tmpfs refuses).
echo "$tmeta" >"$rec/tmeta-table.txt"
echo thin done

# raid1 and raid5 LVs (kept going if dm-raid fails: the thin part above stands).
raid() {
	pvcreate /dev/ubdb /dev/ubdc /dev/ubdd
	vgcreate -s 1m raid /dev/ubdb /dev/ubdc /dev/ubdd
	lvcreate -y --type raid1 -m 1 -L 8m -n r1 raid /dev/ubdb /dev/ubdc
	lvcreate -y --type raid5 -i 2 -I 64k -L 8m -n r5 raid
	mke2fs -q -t ext4 -L r1 -d "$work/src/www" /dev/raid/r1
	mke2fs -q -t ext4 -L r5 -d "$work/src/home" /dev/raid/r5
	i=0
	while [ $i -lt 120 ] && lvs --noheadings -o sync_percent raid/r1 raid/r5 | grep -qv 100.00; do sleep 1; i=$((i + 1)); done
	mount -o ro /dev/raid/r1 /mnt/a && sums r1 && umount /mnt/a
	mount -o ro /dev/raid/r5 /mnt/a && sums r5 && umount /mnt/a
	sha256sum /dev/raid/r1 /dev/raid/r5 | sed 's|/dev/||' >>"$rec/lv-sha256.txt"
	lvs -a -o lv_name,lv_uuid,segtype,lv_size,seg_start_pe,seg_size_pe,devices,stripes,stripe_size,sync_percent raid >"$rec/lvs-raid.txt"
	dmsetup table | sort >"$rec/dmsetup-table-raid.txt"
	vgchange -an raid
	vgcfgbackup -f "$rec/raid.vg" raid
}
raid >"$rec/raid.log" 2>&1 || echo "raid part failed (see raid.log)"
echo lab done

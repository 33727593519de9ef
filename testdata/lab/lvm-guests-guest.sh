# Runs inside UML (via lvm-guests.sh). ubda+ubdb = md0 (raid1, metadata 1.2),
# ubdc+ubdd = md1 (raid1, metadata 1.0), ubde = a spare disk for an /etc fs.
# Story: VG "guests" on PVs md0 and md1 with small metadata areas; several
# LVs (linear, one extended into a second segment, striped, raid1, thin),
# one removed; the metadata rewritten until the circular buffer wraps; the
# backup/archive files put on an ext4 filesystem; then an "installer" runs
# pvcreate -ff and vgcreate over both PVs. Everything the real tools say is
# recorded in $LVM_LAB_RECORD.
rec=${LVM_LAB_RECORD:-../lvm/record}
work=/run/lvmlab
mkdir -p "$work/backup" "$work/archive" "$work/etcfs/etc/lvm"
# lvm keeps its state in $work, never in the host's /etc/lvm (hostfs root).
export LVM_SYSTEM_DIR=$work
cat >"$work/lvm.conf" <<CONF
devices { filter = [ "a|^/dev/md[0-9]+\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { thin_check_executable = "" thin_repair_executable = "" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 1 backup_dir = "$work/backup" archive = 1 archive_dir = "$work/archive" retain_min = 1000 retain_days = 0 }
CONF
lvm version | tee "$rec/lvm-version.txt"
mdadm --create /dev/md0 --run --level=1 --raid-devices=2 --metadata=1.2 --assume-clean /dev/ubda /dev/ubdb
mdadm --create /dev/md1 --run --level=1 --raid-devices=2 --metadata=1.0 --assume-clean /dev/ubdc /dev/ubdd
mdadm --examine /dev/ubda >"$rec/disk-a.mdadm-examine.txt"
mdadm --examine /dev/ubdc >"$rec/disk-c.mdadm-examine.txt"

# A 64 KiB alignment keeps the metadata area small (pe_start at 128 KiB),
# so 45 versions of ~5 KiB wrap the circular buffer.
pvcreate --metadatasize 64k --dataalignment 64k /dev/md0 /dev/md1
vgcreate -s 1m guests /dev/md0 /dev/md1
lvcreate -y -L 4m -n root guests /dev/md0
lvcreate -y -L 3m -n home guests /dev/md0
lvcreate -y -L 2m -n tmp guests /dev/md0
lvcreate -y -i 2 -I 64k -L 4m -n stripe guests /dev/md0 /dev/md1
lvextend -L +2m guests/root /dev/md1
lvremove -y guests/tmp
lvcreate -y --type raid1 -m 1 -L 2m -n mirror guests /dev/md0 /dev/md1
lvcreate -y --type thin-pool -L 2m -n pool guests /dev/md1
lvcreate -y -V 4m -T guests/pool -n thin
lvchange --addtag owner=ops guests/home

# Contents that show a mis-mapping: numbered lines in home and stripe, an
# ext4 filesystem in root (extended into its second segment).
mkdir -p "$work/rootfs/etc"
seq -w 1 20000 >"$work/rootfs/etc/numbers"
mke2fs -q -t ext4 -d "$work/rootfs" /dev/guests/root
seq -f 'home line %09g' 1 200000 | head -c 3145728 >/dev/guests/home
seq -f 'stripe line %07g' 1 300000 | head -c 4194304 >/dev/guests/stripe
seq -f 'mirror line %07g' 1 300000 | head -c 2097152 >/dev/guests/mirror
sync

# Rewrite the metadata until each 64 KiB buffer has wrapped several times.
i=1
while [ $i -le 30 ]; do
	lvchange --addtag "rev$i" guests/home
	i=$((i + 1))
done
vgs -o vg_name,vg_uuid,vg_seqno,pv_count,lv_count guests | tee "$rec/vgs.txt"
lvs -a -o lv_name,lv_uuid,segtype,seg_start_pe,seg_size_pe,devices,stripes,stripe_size guests | tee "$rec/lvs.txt"
pvs -o pv_name,pv_uuid,pe_start,pv_pe_count,dev_size guests | tee "$rec/pvs.txt"
for lv in root home stripe mirror thin; do
	sha256sum /dev/guests/$lv | sed "s|/dev/guests/||" >>"$rec/lv-sha256.txt"
done
dmsetup table | sort >"$rec/dmsetup-table.txt"
for md in md0 md1; do
	pvck --dump headers /dev/$md >"$rec/$md.pvck-headers.txt" 2>&1
	pvck --dump metadata_all -f "$rec/$md.metadata_all.before.txt" /dev/$md >"$rec/$md.pvck-metadata_all.before.txt" 2>&1
done
cp "$work/backup/guests" "$rec/backup-guests.vg"
ls "$work/archive" >"$rec/archive-list.txt"

# /etc/lvm on its own small ext4, as on the server's root filesystem.
cp -r "$work/backup" "$work/archive" "$work/etcfs/etc/lvm/"
mke2fs -q -t ext4 -b 1024 -N 64 -d "$work/etcfs" /dev/ubde

# The installer.
vgchange -an guests
pvcreate -ff -y /dev/md0 /dev/md1
vgcreate -s 1m guests /dev/md0 /dev/md1
vgs -o vg_name,vg_uuid,vg_seqno guests | tee "$rec/vgs.after.txt"
for md in md0 md1; do
	pvck --dump headers /dev/$md >"$rec/$md.pvck-headers.after.txt" 2>&1
	pvck --dump metadata_all -f "$rec/$md.metadata_all.after.txt" /dev/$md >"$rec/$md.pvck-metadata_all.after.txt" 2>&1
done
vgchange -an guests
mdadm --stop /dev/md0 /dev/md1
sync
echo lab done

# Runs inside UML (via lvm-layers.sh). ubda..ubde = the five PVs of VG
# "layers" (32 MiB each). Story: the LV kinds RHEL and Proxmox installers
# offer besides linear, striped and thin: a raid6 and a raid10 LV, a legacy
# mirror, an LV cached by dm-cache in writethrough mode (a cache volume), one
# in writeback mode (a cache pool) and one under dm-writecache. ext4 in each;
# what the kernel reads (every file, every whole LV, the origins of the
# cached LVs while the cache is live) is recorded in $rec.
rec=../lvm/layers/record
work=/run/layerslab
mkdir -p "$work/backup" "$work/src" /mnt/a
export LVM_SYSTEM_DIR=$work
cat >"$work/lvm.conf" <<CONF
devices { filter = [ "a|^/dev/ubd[a-e]\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { thin_check_executable = "" cache_check_executable = "" cache_repair_executable = "" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 1 backup_dir = "$work/backup" archive = 0 }
CONF
for m in dm-cache dm-cache-smq dm-writecache; do modprobe $m; done
lvm version >"$rec/versions.txt"
mke2fs -V >>"$rec/versions.txt" 2>&1
uname -r >>"$rec/versions.txt"
. ./lvm-files.sh

pvcreate /dev/ubda /dev/ubdb /dev/ubdc /dev/ubdd /dev/ubde
vgcreate -s 1m layers /dev/ubda /dev/ubdb /dev/ubdc /dev/ubdd /dev/ubde
lvcreate -y --type raid6 -i 3 -I 64k -L 6m -n r6 layers
lvcreate -y --type raid10 -i 2 -m 1 -I 64k -L 4m -n r10 layers /dev/ubda /dev/ubdb /dev/ubdc /dev/ubdd
lvcreate -y --type mirror -m 1 --mirrorlog core -L 4m -n m1 layers /dev/ubda /dev/ubdb
# Origins on the first PVs, caches on the last.
lvcreate -y -L 4m -n wt layers /dev/ubda
lvcreate -y -an -L 4m -n wtfast layers /dev/ubde
lvconvert -y --type cache --cachevol wtfast --cachemode writethrough layers/wt
lvcreate -y -L 4m -n wb layers /dev/ubdb
lvcreate -y --type cache-pool -L 4m -n wbpool layers /dev/ubde
lvconvert -y --type cache --cachepool layers/wbpool --cachemode writeback layers/wb
lvcreate -y -L 4m -n wc layers /dev/ubdc
lvcreate -y -an -L 4m -n wcfast layers /dev/ubde
lvconvert -y --type writecache --cachevol wcfast layers/wc

for lv in r6 r10 m1 wt wb wc; do
	tree "$work/src/$lv" "$lv"
	mke2fs -q -t ext4 -b 4096 -L "$lv" -d "$work/src/$lv" "/dev/layers/$lv"
done
i=0
while [ $i -lt 120 ] && lvs --noheadings -o sync_percent layers/r6 layers/r10 layers/m1 | grep -qv 100.00; do sleep 1; i=$((i + 1)); done
sync
for lv in r6 r10 m1 wt wb wc; do
	mount -o ro "/dev/layers/$lv" /mnt/a && sums "$lv" && umount /mnt/a
done
dmsetup status | sort >"$rec/dmsetup-status.txt"
# The whole LVs, and the origins under the caches while the caches are
# live (before deactivation flushes anything written back).
sha256sum /dev/layers/r6 /dev/layers/r10 /dev/layers/m1 /dev/layers/wt /dev/layers/wb /dev/layers/wc \
	/dev/mapper/layers-wt_corig /dev/mapper/layers-wb_corig /dev/mapper/layers-wc_wcorig | sed 's|/dev/mapper/layers-|layers/|; s|/dev/||' >"$rec/lv-sha256.txt"
lvs -a -o lv_name,segtype,lv_size,devices,stripes,stripe_size,cache_mode,sync_percent layers >"$rec/lvs.txt"
dmsetup table | sort >"$rec/dmsetup-table.txt"
vgchange -an layers
vgcfgbackup -f "$rec/layers.vg" layers
echo lab done

# Runs inside UML (via lvm-cache.sh). ubda, ubdb = the two PVs of VG
# "cache" (24 and 32 MiB). Story: two LVs cached in writeback mode by cache
# pools on the second PV, wb2 with lvm2's default cache metadata format 2
# (dirty bits in their own bitset) and wb1 with format 1 (a dirty flag in
# each mapping). ext4 in each, made while dm-cache may write dirty blocks
# back (the kernel's smq policy does once the cache is idle: those blocks
# stay cached, clean); then dm-cache's migration_threshold goes to 0, so
# the kernel writes no dirty block back, and files are added while mounted:
# every whole-block write the cache takes stays only in the cache. What
# the kernel reads (every file, each cached LV whole and its origin alone
# while the cache is live) and what it says of the caches (dmsetup status:
# #dirty) is recorded in $rec.
rec=../lvm/cache/record
work=/run/cachelab
mkdir -p "$work/backup" "$work/src" /mnt/a
export LVM_SYSTEM_DIR=$work
cat >"$work/lvm.conf" <<CONF
devices { filter = [ "a|^/dev/ubd[a-b]\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
global { cache_check_executable = "" cache_repair_executable = "" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 1 backup_dir = "$work/backup" archive = 0 }
CONF
for m in dm-cache dm-cache-smq; do modprobe $m; done
lvm version >"$rec/versions.txt"
mke2fs -V >>"$rec/versions.txt" 2>&1
uname -r >>"$rec/versions.txt"
. ./lvm-files.sh

pvcreate /dev/ubda /dev/ubdb
vgcreate -s 1m cache /dev/ubda /dev/ubdb
for f in 2 1; do
	lvcreate -y -L 8m -n wb$f cache /dev/ubda
	lvcreate -y --type cache-pool -L 6m --poolmetadatasize 2m --chunksize 64k --cachemetadataformat $f -n pool$f cache /dev/ubdb
	lvconvert -y --type cache --cachepool cache/pool$f --cachemode writeback --cachepolicy smq cache/wb$f
done
dmsetup status | sort >"$rec/dmsetup-status-before.txt"

for lv in wb2 wb1; do
	tree "$work/src/$lv" "$lv"
	mke2fs -q -t ext4 -b 4096 -L "$lv" -d "$work/src/$lv" "/dev/cache/$lv"
	sync
	i=0
	while [ $i -lt 90 ] && [ "$(dmsetup status cache-$lv | cut -d' ' -f14)" != 0 ]; do sleep 1; i=$((i + 1)); done
	dmsetup status "cache-$lv" >"$rec/dmsetup-status-mke2fs-$lv.txt"
	# From here on no dirty block is written back (lvm2 would raise a
	# migration_threshold below 8 blocks, so it is said to the kernel).
	dmsetup message "cache-$lv" 0 migration_threshold 0
	mount "/dev/cache/$lv" /mnt/a
	# Whole 64 KiB blocks written after the filesystem: the cache takes
	# them and keeps them dirty.
	text /mnt/a/added 600000
	mkdir /mnt/a/later && cp /mnt/a/f700000 /mnt/a/later/copy
	umount /mnt/a
done
sync
dmsetup status | sort >"$rec/dmsetup-status-written.txt"
# What the kernel reads through the caches: every file, each cached LV whole.
for lv in wb2 wb1; do
	mount -o ro "/dev/cache/$lv" /mnt/a && sums "$lv" && umount /mnt/a
done
sha256sum /dev/cache/wb2 /dev/cache/wb1 | sed 's|/dev/||' >"$rec/lv-sha256.txt"
# Reads through a full cache make smq demote, and demoting a dirty block
# writes it back whatever the threshold: the state the metadata keeps is
# the one after the reads, recorded here; the origins alone are read in it
# (reading them does not go through the cache), and it must not change.
dmsetup status | sort >"$rec/dmsetup-status.txt"
sha256sum /dev/mapper/cache-wb2_corig /dev/mapper/cache-wb1_corig | sed 's|/dev/mapper/cache-|cache/|' >>"$rec/lv-sha256.txt"
dmsetup status | sort | cmp - "$rec/dmsetup-status.txt"
lvs -a -o lv_name,segtype,lv_size,devices,cache_mode,cache_policy,cache_settings,cache_metadata_format,chunk_size,cache_dirty_blocks,cache_total_blocks,cache_used_blocks cache >"$rec/lvs.txt"
dmsetup table | sort >"$rec/dmsetup-table.txt"
for f in 2 1; do dmsetup table cache-pool${f}_cpool_cmeta >"$rec/cmeta-table-wb$f.txt"; done
vgchange -an cache
vgcfgbackup -f "$rec/cache.vg" cache
echo lab done

# md-wiped-guest.sh: guest half of md-wiped.sh (sourced with $table set).
out=$MD/$FIX
disk=$(D 0)
vg=$(echo "$FIX" | tr - _)

mkarr /dev/md0 "$FIX" --level=1 --raid-devices=2 --metadata=1.2 "$(P 0 1)" missing
fill /dev/md0 "$FIX-md"
mdadm --detail /dev/md0 >"$out/md.detail.txt"
mdadm --stop /dev/md0 >/dev/null

pvcreate -q "$(P 0 2)"
vgcreate -q "$vg" "$(P 0 2)"
lvcreate -q -n data -L 8M "$vg"
mkfs.ext4 -q -L "$FIX-lv" "/dev/$vg/data"
mkdir -p /mnt/lab && mount "/dev/$vg/data" /mnt/lab
put_files /mnt/lab "$FIX-lv"
files_sha /mnt/lab "$out/lv.files.sha256"
umount /mnt/lab
pvs -o pv_name,pv_uuid,vg_name,pe_start --units b >"$out/pvs.txt"
pe_start=$(pvs --noheadings --nosuffix --units b -o pe_start "$(P 0 2)" | tr -d ' ')
lvs --segments --units b -o lv_name,seg_start,seg_size,seg_pe_ranges "$vg" >"$out/lvs.txt"
vgcfgbackup -q -f "$out/vg.txt" "$vg"
vgchange -q -an "$vg"

mkfs.ext4 -q -L "$FIX-fs" "$(P 0 3)"
mount "$(P 0 3)" /mnt/lab
put_files /mnt/lab "$FIX-fs"
files_sha /mnt/lab "$out/fs.files.sha256"
umount /mnt/lab
dumpe2fs "$(P 0 3)" >"$out/fs.dumpe2fs.txt" 2>/dev/null

# DRBD 8 internal meta data: its superblock is the last 4 KiB of the
# (4 KiB-aligned) device, the activity log and bitmap just below it.
drbdmeta --force 0 v08 "$(P 0 4)" internal create-md >/dev/null 2>&1
drbdmeta --force 0 v08 "$(P 0 4)" internal dump-md >"$out/p4.drbd-dump.txt" 2>/dev/null

# What each partition carries, as blkid's prober sees it (offsets are of
# the magic, relative to the partition).
for p in 1 2 3 4; do wipefs "$(P 0 $p)" >"$out/p$p.wipefs.txt"; done
mdadm --examine "$(P 0 1)" >"$out/p1.examine.txt"
sfdisk -J "$disk" >"$out/table.before.json"

if [ "$table" = dos ]; then
	wipefs -a "$disk" >"$out/wipe.txt"
	wipe_cmd="wipefs -a $disk"
else
	sgdisk --zap-all "$disk" >"$out/wipe.txt" 2>&1
	wipe_cmd="sgdisk --zap-all $disk"
fi
blockdev --rereadpt "$disk" || true
sfdisk -d "$disk" >"$out/table.after.txt" 2>&1 || true

# Signature struct offsets on the whole disk: md 1.2 superblock 4 KiB into
# its partition, LVM label in sector 1, ext superblock at 1 KiB (and its
# backups, from dumpe2fs, at block N of 1 KiB or 4 KiB blocks), DRBD's in
# the last 4 KiB of its 4 KiB-aligned partition.
start() { jq ".partitiontable.partitions[$(($1 - 1))].start * 512" "$out/table.before.json"; }
size() { jq ".partitiontable.partitions[$(($1 - 1))].size * 512" "$out/table.before.json"; }
drbd=$(($(start 4) + $(size 4) / 4096 * 4096 - 4096))
bs=$(sed -n 's/^Block size: *//p' "$out/fs.dumpe2fs.txt")
backups=$(sed -n 's/.*Backup superblock at \([0-9]*\),.*/\1/p' "$out/fs.dumpe2fs.txt" | jq -s -c --argjson bs "$bs" --argjson s "$(start 3)" 'map(. * $bs + $s)')
jq -n --arg name "$FIX" --arg table "$table" --arg wipe "$wipe_cmd" \
	--argjson md "$(($(start 1) + 4096))" --argjson lvm "$(($(start 2) + 512))" \
	--argjson ext "$(($(start 3) + 1024))" --argjson backups "$backups" \
	--argjson lvext "$(($(start 2) + pe_start + 1024))" \
	--argjson drbd "$drbd" --arg drbd_magic "0x$(od -A n -t x1 -j $((drbd + 60)) -N 4 "$disk" | tr -d ' ')" \
	--argjson parts "$(jq -c '.partitiontable.partitions | map({start: (.start * 512), size: (.size * 512), type})' "$out/table.before.json")" \
	'{name: $name, kind: "wiped-table", disks: [$name + "/d0.img.xz"], table_before: $table,
	  partitions_before: $parts, wiped_with: $wipe,
	  signatures: [{type: "md", version: "1.2", offset: $md},
	               {type: "lvm2", offset: $lvm},
	               {type: "ext4", offset: $ext, backups: $backups},
	               {type: "ext4", offset: $lvext, in: "LV \($name | gsub("-"; "_"))/data (its first extent is the PV'"'"'s first)"},
	               {type: "drbd", version: "v08", offset: $drbd, magic: $drbd_magic, magic_offset: ($drbd + 60)}],
	  contents: "p1: md raid1 1.2 member (other half missing) filled with sector text; p2: LVM PV, VG \($name | gsub("-"; "_")) with LV data (ext4, files); p3: ext4 with files; p4: DRBD 8 internal meta data (drbdmeta create-md)",
	  notes: "offsets are of the superblock/label structs on the whole disk; table.before.json is sfdisk -J before the wipe, p*.wipefs.txt what wipefs listed per partition, p4.drbd-dump.txt drbdmeta dump-md"}' \
	>"$ENTRIES/$FIX.json"
echo "recorded $FIX"

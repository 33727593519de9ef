# md-solve-guest.sh: guest half of md-solve.sh, with content, orig_args,
# orig_order, new_args and new_order set.
out=$MD/$FIX
vg=$(echo "vg-$FIX" | tr - _)
n=$(echo "$orig_order" | wc -w)
order() { for i in $1; do D "$i"; done; }
# shellcheck disable=SC2046,SC2086
mkarr /dev/md0 "$FIX" $orig_args --raid-devices="$n" $(order "$orig_order")

# The LV or filesystem contents: files plus their sha256 and e2fsck -fn.
fs() { # DEV TYPE LABEL
	mkfs -t "$2" -q -L "$3" -U "$(echo "$FIX/$3" | sha256sum | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)\(.\{12\}\).*/\1-\2-\3-\4-\5/')" "$1"
	mkdir -p /mnt/lab && mount "$1" /mnt/lab
	put_files /mnt/lab "$3"
	files_sha /mnt/lab "$out/$3.files.sha256"
	umount /mnt/lab
	e2fsck -fn "$1" >"$out/$3.e2fsck.txt" 2>&1
	echo "$(sha256sum "$1" | cut -d' ' -f1) $(blockdev --getsize64 "$1") $3" >>"$out/volumes.sha256"
}
case $content in
lvm | big)
	[ "$content" = big ] || fill /dev/md0 "$FIX"
	pvcreate -q /dev/md0
	vgcreate -q -s 1M "$vg" /dev/md0
	if [ "$content" = big ]; then root=96M old=32M; else root=8M old=6M; fi
	lvcreate -q -n root -L $root "$vg"
	lvcreate -q -n old -L $old "$vg"
	fs "/dev/$vg/root" ext4 root
	fs "/dev/$vg/old" ext3 old
	vgcfgbackup -q -f "$out/vg.txt" "$vg"
	lvs --segments --units b -o lv_name,seg_start,seg_size,seg_pe_ranges "$vg" >"$out/lvs.txt"
	pvs --units b -o pv_name,pv_uuid,pe_start,pv_size >"$out/pvs.txt"
	vgchange -q -an "$vg"
	CONTENTS="LVM: PV on the array, VG $vg (extent 1M), LV root (ext4, files) then LV old (ext3, files)"
	[ "$content" = lvm ] && CONTENTS="$CONTENTS; the rest is sector text" || CONTENTS="$CONTENTS; the rest is zero"
	;;
ext4)
	fill /dev/md0 "$FIX"
	fs /dev/md0 ext4 fs
	CONTENTS="ext4 directly on the array (files); past the filesystem's metadata, the sector text left by the fill where files did not land"
	;;
esac

# The re-create must leave the original data areas alone (else the recorded
# sha256 would not describe the images): hash them before and after.
comp=$(($(cat /sys/block/md0/md/component_size) * 2))
first=$(order "$orig_order" | head -1)
off=$(cat "/sys/block/md0/md/dev-${first#/dev/}/offset")
areas() {
	local m
	for m in $(order "$orig_order"); do
		dd if="$m" bs=1M skip=$((off * 512)) count=$((comp * 512)) iflag=direct,skip_bytes,count_bytes status=none | sha256sum
	done
}
before=$(areas)

EXSUFFIX=.original
NOTES="volumes.sha256: sha256, size and name of each LV/filesystem read by the kernel; NAME.e2fsck.txt: e2fsck -fn of each; NAME.files.sha256: its files; examine_original and detail.txt: the superblocks before the re-create; examine and detail.recreated.txt: after it (what is on the images)"
record /dev/md0 "$FIX"
orig=$(jq -c '{level, layout, chunk_bytes, data_offset, metadata, order: .members} | with_entries(select(.value != null))' "$ENTRIES/$FIX.json")

# The installer: a new array over the same disks, data left alone.
# shellcheck disable=SC2046,SC2086
mkarr /dev/md0 "$FIX-recreated" $new_args --raid-devices="$n" $(order "$new_order")
mdadm --detail /dev/md0 >"$out/detail.recreated.txt"
geometry /dev/md0
new=$(geometry_json)
mdadm --stop /dev/md0 >/dev/null
[ "$(areas)" = "$before" ] || { echo "$FIX: the re-create changed the original data area" >&2; exit 1; }
# shellcheck disable=SC2046
EXSUFFIX=.recreated
exam=$(examine_all "$FIX" $(order "$orig_order"))
jq --argjson orig "$orig" --argjson new "$new" --argjson exam "$exam" \
	--argjson create "$(creates "$FIX-recreated")" \
	'. + {original: $orig, recreated: $new, examine_original: .examine, examine: $exam,
	      create_recreated: $create, detail_recreated: (.name + "/detail.recreated.txt")}' \
	"$ENTRIES/$FIX.json" >"$ENTRIES/$FIX.json.tmp"
mv "$ENTRIES/$FIX.json.tmp" "$ENTRIES/$FIX.json"
echo "recreated $FIX: $(echo "$new" | jq -c .)"

# md-solve-matrix-guest.sh: guest half of md-solve-matrix.sh, with content,
# fillwith, fate, orig_args, orig_order and new_args set.
n=$(echo "$orig_order" | wc -w)
vg=$(echo "vg-$FIX" | tr - _)
order() { for i in $1; do D "$i"; done; }
# shellcheck disable=SC2046,SC2086
mkarr /dev/md0 "$FIX" $orig_args --raid-devices="$n" $(order "$orig_order")
[ "$fillwith" = zero ] || fill /dev/md0 "$FIX"

# tree DIR LABEL : put_files plus directories of text files of varied sizes,
# so directories, inode tables and file data spread over many chunks.
tree() {
	put_files "$1" "$2"
	local d f lic
	set -- "$1" "$2" /usr/share/common-licenses/*
	for d in 1 2 3 4 5 6; do
		mkdir -p "$1/dir$d/sub"
		for f in 1 2 3 4; do
			lic=$(eval echo "\${$((3 + (d * 7 + f) % ($# - 2)))}")
			{ echo "$2 dir$d file$f"; head -c $((d * f * 211)) "$lic"; } >"$1/dir$d/file$f.txt"
		done
		cat "$1/dir$d"/file*.txt >"$1/dir$d/sub/all.txt"
	done
}
fs() { # DEV TYPE LABEL [little]
	mkfs -t "$2" -q -L "$3" -U "$(echo "$FIX/$3" | sha256sum | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)\(.\{12\}\).*/\1-\2-\3-\4-\5/')" "$1"
	mkdir -p /mnt/lab && mount "$1" /mnt/lab
	if [ -n "${4:-}" ]; then echo "$3: nearly empty" >/mnt/lab/README.txt; else tree /mnt/lab "$3"; fi
	umount /mnt/lab
	e2fsck -fn "$1" >/dev/null 2>&1 || { echo "$FIX: e2fsck failed on $1" >&2; exit 1; }
	echo "$(sha256sum "$1" | cut -d' ' -f1) $(blockdev --getsize64 "$1") $3" >>"$MD/$FIX/volumes.sha256"
}
mb=$(($(blockdev --getsize64 /dev/md0) >> 20))
case $content in
lvm | lvm-little)
	pvcreate -q /dev/md0
	vgcreate -q -s 1M "$vg" /dev/md0
	if [ "$content" = lvm ]; then
		lvcreate -q -n root -L $((mb * 45 / 100))M "$vg"
		lvcreate -q -n old -L $((mb * 30 / 100))M "$vg"
		fs "/dev/$vg/root" ext4 root
		fs "/dev/$vg/old" ext3 old
	else
		lvcreate -q -n root -L 4M "$vg"
		fs "/dev/$vg/root" ext4 root little
	fi
	vgchange -q -an "$vg"
	CONTENTS="LVM: VG $vg (extent 1M) on the array: $content"
	;;
ext4 | ext3) fs /dev/md0 "$content" fs; CONTENTS="bare $content on the array" ;;
little) fs /dev/md0 ext4 fs little; CONTENTS="bare ext4 holding one small file" ;;
esac
[ "$fillwith" = zero ] || CONTENTS="$CONTENTS; sector text (fill) everywhere else"

comp=$(($(cat /sys/block/md0/md/component_size) * 1024))
first=$(order "$orig_order" | head -1)
off=$(($(cat "/sys/block/md0/md/dev-${first#/dev/}/offset") * 512))
areas() {
	local m
	for m in $(order "$orig_order"); do
		dd if="$m" bs=1M skip="$off" count="$comp" iflag=direct,skip_bytes,count_bytes status=none | sha256sum
	done
}
EXSUFFIX=.original
record /dev/md0 "$FIX"
before=$(areas)
case $fate in
zeroed)
	for m in $(order "$orig_order"); do mdadm --zero-superblock "$m"; done
	;;
installer)
	rev=$(for i in $orig_order; do echo "$i"; done | tac | tr '\n' ' ')
	# shellcheck disable=SC2046,SC2086
	mkarr /dev/md0 "$FIX-installer" $new_args --raid-devices="$n" $(order "$rev")
	mdadm --stop /dev/md0 >/dev/null
	;;
esac
[ "$(areas)" = "$before" ] || { echo "$FIX: $fate changed the original data area" >&2; exit 1; }
jq --arg fate "$fate" --arg content "$content" --argjson comp "$comp" \
	'. + {original: ({level, layout, chunk_bytes, data_offset, metadata, order: .members, component_bytes: $comp}
	      | with_entries(select(.value != null))), fate: $fate, content_kind: $content, examine_original: .examine}
	 | del(.examine)' \
	"$ENTRIES/$FIX.json" >"$ENTRIES/$FIX.json.tmp"
mv "$ENTRIES/$FIX.json.tmp" "$ENTRIES/$FIX.json"
echo "$FIX: $fate"

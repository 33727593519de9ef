# incident-guest.sh: guest half of incident.sh, run inside user-mode Linux
# once per PHASE (build, installer). Set by incident.sh: PHASE, LAB,
# MD (testdata), FIX (incident), W (work dir), REC (testdata/incident/record).
# Disk i is /dev/ubd<a+i>; partition 1 holds the root raid1, partition 2 the
# raid10 under LVM. Everything the guest learns goes into $W/*.json (joined
# into record.json by incident.sh) or into $REC as the tools printed it.
KIND=incident ENTRIES=$W
. "$LAB/md-guest.sh"
N=10

# lvm_dir NAME : a fresh lvm system dir per phase (the installer's vgcreate
# must not overwrite the original backups), seeing only md arrays and loops.
lvm_dir() {
	export LVM_SYSTEM_DIR="$W/lvm-$1"
	mkdir -p "$LVM_SYSTEM_DIR/backup" "$LVM_SYSTEM_DIR/archive"
	cat >"$LVM_SYSTEM_DIR/lvm.conf" <<-EOF
		devices { filter = [ "a|^/dev/md[0-9]+\$|", "r|.*|" ] obtain_device_list_from_udev = 0 use_devicesfile = 0 }
		global { locking_dir = "/run/lock/lvm" }
		backup { backup = 1 backup_dir = "$LVM_SYSTEM_DIR/backup" archive = 1 archive_dir = "$LVM_SYSTEM_DIR/archive" retain_min = 1000 retain_days = 0 }
		activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
	EOF
}

# parts N [SKIP...] : partition N of every disk but the SKIPped ones, in disk order.
parts() {
	local n=$1 i=0 out=""
	shift
	while [ $i -lt $N ]; do
		case " $* " in *" $i "*) ;; *) out="$out $(P $i "$n")" ;; esac
		i=$((i + 1))
	done
	echo "$out"
}

# text FILE SIZE LABEL : exactly SIZE bytes of numbered 64-byte lines naming
# LABEL, so a block read from the wrong place shows where it came from.
text() {
	awk -v n="$2" -v label="$3" 'BEGIN { for (i = 0; i * 64 < n; i++) printf "%-63s\n", sprintf("%s line %07d", label, i) }' |
		head -c "$2" >"$1"
}

# lv_files DIR LABEL : files of sizes around block and 64 KiB chunk
# boundaries, one spanning every raid10 pair, a deep path, links.
lv_files() {
	mkdir -p "$1/data" "$1/docs/a/b/c"
	for s in 0 1 100 4095 4096 4097 65535 65536 65537 131073 200000 700000; do
		text "$1/data/f$s" $s "$2/data/f$s"
	done
	echo "$2: a logical volume of the holmes incident lab" >"$1/README"
	text "$1/docs/a/b/c/deep.txt" 5000 "$2/docs/a/b/c/deep.txt"
	ln -s data/f4096 "$1/link-to-f4096"
	ln "$1/data/f100" "$1/docs/hardlink-f100"
}

# manifest DIR : {path: {sha256, size}} of every regular file under DIR
# (few processes: each one is slow in user-mode Linux).
manifest() {
	(cd "$1" && find . -type f -print0 | xargs -0 -r sha256sum) >/run/sums
	(cd "$1" && find . -type f -printf '%s %p\n') >/run/sizes
	jq -n --rawfile sums /run/sums --rawfile sizes /run/sizes '
		($sizes | split("\n") | map(select(. != "") | split(" ") | {key: .[1][1:], value: (.[0] | tonumber)}) | from_entries) as $sz
		| $sums | split("\n") | map(select(. != "") | capture("^(?<h>[0-9a-f]+)  [.](?<p>.*)$")
		  | {key: .p, value: {sha256: .h, size: $sz[.p]}}) | sort_by(.key) | from_entries'
}

# vm_part_start : byte offset of partition 1 inside LV guests/vm01.
vm_part_start() { echo $(($(sfdisk -J /dev/guests/vm01 | jq '.partitiontable.partitions[0].start') * 512)); }

# mount_all RO : mounts root and every LV's filesystem under /mnt (RO=ro or rw).
mount_all() {
	mkdir -p /mnt/root /mnt/home /mnt/var /mnt/distros /mnt/vm01
	mount -o "$1" /dev/md0 /mnt/root
	mount -o "$1" /dev/guests/home /mnt/home
	mount -o "$1" /dev/guests/var /mnt/var
	mount -o "$1" /dev/guests/distros /mnt/distros
	vmloop=$(losetup -f --show -o "$(vm_part_start)" /dev/guests/vm01)
	mount -o "$1" "$vmloop" /mnt/vm01
}
umount_all() {
	umount /mnt/root /mnt/home /mnt/var /mnt/distros /mnt/vm01
	losetup -d "$vmloop"
}

# files_json : every file of every filesystem, as the kernel reads them now.
files_json() {
	jq -n --argjson root "$(manifest /mnt/root)" --argjson home "$(manifest /mnt/home)" \
		--argjson var "$(manifest /mnt/var)" --argjson distros "$(manifest /mnt/distros)" \
		--argjson vm01 "$(manifest /mnt/vm01)" \
		'{root: $root, "guests/home": $home, "guests/var": $var, "guests/distros": $distros, "guests/vm01:p1": $vm01}'
}

# array_json MDDEV : the running array's geometry, members by record name
# (shell builtins and one jq: every process is slow in user-mode Linux).
array_json() {
	local md=/sys/block/${1#/dev/}/md d slot off level chunk meta disks
	read -r level <"$md/level"
	read -r chunk <"$md/chunk_size"
	read -r meta <"$md/metadata_version"
	read -r disks <"$md/raid_disks"
	for d in "$md"/dev-*; do
		read -r slot <"$d/slot"
		read -r off <"$d/offset"
		echo "$slot ${d##*/dev-} $off"
	done >/run/slots
	mdadm --detail --export "$1" >/run/export
	mdadm --detail "$1" >/run/detail
	jq -Rn --arg level "$level" --arg meta "$meta" --argjson chunk "$chunk" --argjson disks "$disks" \
		--argjson size "$(blockdev --getsize64 "$1")" --rawfile export /run/export --rawfile detail /run/detail '
		[inputs | split(" ") | {slot: .[0], dev: .[1], off: (.[2] | tonumber)}] as $m
		| ($m | map(select(.slot != "none")) | sort_by(.slot | tonumber)) as $roles
		| {level: $level,
		   layout: (if $level == "raid10" then $detail | capture("Layout : (?<l>[a-z]+)=(?<n>[0-9]+)") | .l[0:1] + .n else null end),
		   chunk_bytes: (if $chunk == 0 then null else $chunk end), metadata: $meta,
		   data_offset: ($roles[0].off * 512), raid_disks: $disks,
		   uuid: ($export | capture("MD_UUID=(?<u>[0-9a-f:]+)") | .u), array_size: $size,
		   order: [range($disks) as $s | ($roles | map(select((.slot | tonumber) == $s)) | .[0].dev)
		           | if . == null then null else "d\((.[3:4] | explode[0]) - 97).img.xz:p\(.[4:])" end]}' </run/slots
}

# lvs_json : the VG's LVs with their segments, in bytes and extents.
lvs_json() {
	lvs --noheadings --units b --nosuffix --separator '|' \
		-o lv_name,lv_size,seg_start_pe,seg_size_pe,seg_pe_ranges,lv_tags guests |
		jq -Rn '[inputs | gsub("^ +"; "") | split("|")
		  | {name: .[0], size: (.[1] | tonumber), seg_start_extent: (.[2] | tonumber),
		     seg_extents: (.[3] | tonumber), pv_extents: (.[4] | sub(".*:"; "")),
		     tags: (.[5] | split(",") | map(select(. != "")))}]
		  | group_by(.name) | map({name: .[0].name, size: .[0].size, tags: .[0].tags,
		     segments: map({start_extent: .seg_start_extent, extents: .seg_extents,
		                    pv_first_extent: (.pv_extents | split("-")[0] | tonumber)})})'
}

# vg_json : the VG's identity and layout.
vg_json() {
	local v p
	v=$(vgs --noheadings --units b --nosuffix --separator '|' -o vg_name,vg_uuid,vg_seqno,vg_extent_size,vg_extent_count,vg_free_count,lv_count guests | tr -d ' ')
	p=$(pvs --noheadings --units b --nosuffix --separator '|' -o pv_name,pv_uuid,pe_start,dev_size | tr -d ' ')
	jq -n --arg v "$v" --arg p "$p" --argjson lvs "$(lvs_json)" \
		'($v | split("|")) as $v | ($p | split("|")) as $p
		 | {name: $v[0], uuid: $v[1], seqno: ($v[2] | tonumber), extent_size: ($v[3] | tonumber),
		    extent_count: ($v[4] | tonumber), free_extents: ($v[5] | tonumber), lv_count: ($v[6] | tonumber),
		    pv: {device: $p[0], uuid: $p[1], pe_start: ($p[2] | tonumber), dev_size: ($p[3] | tonumber)},
		    lvs: $lvs}'
}

# examine_json SUFFIX : `mdadm --examine` of every partition into $REC, names as JSON.
examine_json() {
	local i j out=""
	i=0
	while [ $i -lt $N ]; do
		for j in 1 2; do
			mdadm --examine "$(P $i $j)" >"$REC/d${i}p$j.$1.examine.txt" 2>&1 || true
			out="$out record/d${i}p$j.$1.examine.txt"
		done
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	jlist $out
}

build() {
	hostname holmes
	lvm_dir build
	# shellcheck disable=SC2046
	mkarr /dev/md0 incident-root --level=1 --raid-devices=$N --metadata=0.90 $(parts 1)
	# shellcheck disable=SC2046
	mkarr /dev/md1 incident-guests --level=10 --layout=n2 --chunk=64 --raid-devices=$N --metadata=0.90 $(parts 2)
	mdadm --detail --scan >"$W/mdadm.conf"
	array_json /dev/md0 >"$W/original-raid1.json"
	array_json /dev/md1 >"$W/original-raid10.json"

	# The root filesystem as an old installer made it: ext3, 1 KiB blocks.
	mke2fs -q -t ext3 -b 1024 -L root /dev/md0
	mkdir -p /mnt/root && mount -t ext3 /dev/md0 /mnt/root
	r=/mnt/root
	mkdir -p $r/etc/lvm $r/home/luke/.ssh $r/root $r/var/log $r/usr/share/doc/holmes $r/srv/www $r/boot
	echo holmes >$r/etc/hostname
	cp "$W/mdadm.conf" $r/etc/mdadm.conf
	printf '/dev/md0 / ext3 defaults 1 1\n/dev/guests/home /home/guests ext4 defaults 1 2\n' >$r/etc/fstab
	cp "$LVM_SYSTEM_DIR/lvm.conf" $r/etc/lvm/lvm.conf
	echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHolmesLabKeyNotARealKey luke@holmes" >$r/home/luke/.ssh/authorized_keys
	printf 'raid1 md0 on sd[a-j]1, raid10 md1 on sd[a-j]2, LVM VG guests on md1\n' >$r/root/notes.txt
	text $r/usr/share/doc/holmes/manual.txt 300000 root/usr/share/doc/holmes/manual.txt
	text $r/srv/www/index.html 5000 root/srv/www/index.html
	text $r/boot/vmlinuz-lab 70000 root/boot/vmlinuz-lab

	# The VG of the story on the raid10, with lvm2's defaults (4 MiB extents).
	pvcreate -q /dev/md1
	vgcreate -q guests /dev/md1
	lvcreate -q -y -L 16m -n home guests
	lvcreate -q -y -L 12m -n var guests
	lvcreate -q -y -L 8m -n distros guests
	lvcreate -q -y -L 16m -n vm01 guests
	lvextend -q -L +8m guests/distros  # its second segment lies behind vm01
	mkfs.ext4 -q -L home /dev/guests/home
	mkfs.ext3 -q -L var /dev/guests/var
	mkfs.ext4 -q -L distros /dev/guests/distros
	printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q --no-reread /dev/guests/vm01
	vmloop=$(losetup -f --show -o "$(vm_part_start)" /dev/guests/vm01)
	mkfs.ext4 -q -L vm01-root "$vmloop"
	losetup -d "$vmloop"
	umount /mnt/root
	mount_all rw
	lv_files /mnt/home guests/home
	lv_files /mnt/var guests/var
	mkdir -p /mnt/var/log && text /mnt/var/log/app.log 20000 guests/var/log/app.log
	lv_files /mnt/distros guests/distros
	# Top-level directories spread over the block groups (Orlov), so some
	# files land in distros' second segment.
	for d in iso mirror pub; do
		mkdir /mnt/distros/$d
		text /mnt/distros/$d/image.bin 400000 guests/distros/$d/image.bin
	done
	lv_files /mnt/vm01 guests/vm01:p1
	mkdir -p /mnt/vm01/etc && echo vm01 >/mnt/vm01/etc/hostname
	cp -r "$LVM_SYSTEM_DIR/backup" "$LVM_SYSTEM_DIR/archive" /mnt/root/etc/lvm/
	dmesg | grep -E 'md|raid' >/mnt/root/var/log/messages
	sync
	files_json >"$W/files.before.json"
	umount_all
	vgchange -q -an guests
	mdadm --stop /dev/md0 /dev/md1

	# The halves diverge: md1 runs without d1p2 and d4p2 (one half of the
	# pairs d0/d1 and d4/d5), md0 without d9p1; lvm and the filesystems
	# write through what is left.
	# shellcheck disable=SC2046
	mdadm --assemble --run /dev/md1 $(parts 2 1 4)
	vgchange -q -ay guests
	vg_json >"$W/original-vg-before-degraded.json"
	lvchange -q --addtag degraded guests/home
	mkdir -p /mnt/home /mnt/var
	mount /dev/guests/home /mnt/home
	awk 'BEGIN { for (i = 0; i < 625; i++) printf "%-63s\n", sprintf("EDITED while degraded line %07d", i) }' |
		dd of=/mnt/home/data/f700000 bs=1000 seek=100 conv=notrunc status=none
	text /mnt/home/new-while-degraded.txt 150000 guests/home/new-while-degraded.txt
	umount /mnt/home
	mount /dev/guests/var /mnt/var
	text /mnt/var/log/app.log.1 3000 guests/var/log/app.log.1
	echo "appended while degraded" >>/mnt/var/log/app.log
	umount /mnt/var
	vgchange -q -an guests
	mdadm --stop /dev/md1
	# shellcheck disable=SC2046
	mdadm --assemble --run /dev/md0 $(parts 1 9)
	mount /dev/md0 /mnt/root
	cp -r "$LVM_SYSTEM_DIR/backup" "$LVM_SYSTEM_DIR/archive" /mnt/root/etc/lvm/
	echo "md1: d1p2 and d4p2 failed; running degraded" >>/mnt/root/var/log/messages
	umount /mnt/root
	mdadm --stop /dev/md0

	# The truth, read back through the newer halves only.
	# shellcheck disable=SC2046
	mdadm --assemble --run --readonly /dev/md0 $(parts 1 9)
	# shellcheck disable=SC2046
	mdadm --assemble --run --readonly /dev/md1 $(parts 2 1 4)
	vgchange -q -ay guests
	mount_all ro
	files_json >"$W/files.after.json"
	umount_all
	# The filesystems as the kernel reads them through the newer halves, for
	# incident.sh to explain regions with debugfs on the host.
	mkdir -p "$W/fs"
	for lv in home var distros; do dd if=/dev/guests/$lv of="$W/fs/$lv.img" bs=1M conv=sparse status=none; done
	vmloop=$(losetup -r -f --show -o "$(vm_part_start)" /dev/guests/vm01)
	dd if="$vmloop" of="$W/fs/vm01.img" bs=1M conv=sparse status=none
	losetup -d "$vmloop"
	dd if=/dev/md0 of="$W/fs/root.img" bs=1M conv=sparse status=none
	vm_part_start >"$W/vm01.part-start"
	vg_json >"$W/original-vg.json"
	mdadm --detail /dev/md0 >"$REC/original-md0.detail.txt"
	mdadm --detail /dev/md1 >"$REC/original-md1.detail.txt"
	vgcfgbackup -q -f "$REC/original-guests.vgcfgbackup.txt" guests
	lvs --segments --units b -o lv_name,lv_size,seg_start,seg_size,seg_pe_ranges,lv_tags guests >"$REC/original-lvs.txt"
	for lv in home var distros; do dumpe2fs -h /dev/guests/$lv >"$REC/original-$lv.dumpe2fs-h.txt" 2>/dev/null; done
	sfdisk -d /dev/guests/vm01 >"$REC/original-vm01.sfdisk.txt"
	dumpe2fs -h /dev/md0 >"$REC/original-root.dumpe2fs-h.txt" 2>/dev/null
	vgchange -q -an guests
	mdadm --stop /dev/md0 /dev/md1
	# examine after the stop, so the records match the images
	jq -n --slurpfile raid1 "$W/original-raid1.json" --slurpfile raid10 "$W/original-raid10.json" \
		--slurpfile vg "$W/original-vg.json" --slurpfile vg0 "$W/original-vg-before-degraded.json" \
		--argjson examine "$(examine_json original)" \
		'{raid1: $raid1[0], raid10: $raid10[0], vg: $vg[0], vg_seqno_before_degraded: $vg0[0].seqno, examine: $examine}' \
		>"$W/original.json"
	cp -r "$LVM_SYSTEM_DIR/backup" "$LVM_SYSTEM_DIR/archive" "$REC/etc-lvm/"
	lvm version >"$REC/versions.txt"
	mdadm --version >>"$REC/versions.txt" 2>&1
	mke2fs -V >>"$REC/versions.txt" 2>&1
	uname -a >>"$REC/versions.txt"
}

installer() {
	lvm_dir installer
	# Both arrays again over the same partitions in disk order, with this
	# mdadm's defaults for the raid10 (1.2, 512K chunk, its data offset) and
	# 1.0 for the bootable raid1, as anaconda does; --assume-clean: no resync.
	# shellcheck disable=SC2046
	mkarr /dev/md0 installer-root --level=1 --raid-devices=$N --metadata=1.0 $(parts 1)
	# shellcheck disable=SC2046
	mkarr /dev/md1 installer-guests --level=10 --raid-devices=$N $(parts 2)
	pvcreate -q -ff -y /dev/md1
	vgcreate -q guests /dev/md1
	vgcfgbackup -q -f "$REC/installer-guests.vgcfgbackup.txt" guests
	pvck --dump headers /dev/md1 >"$REC/installer-md1.pvck-headers.txt" 2>&1 || true
	# The interrupted format: mkfs.ext4 of the new root got its first 2 MiB out.
	truncate -s "$(blockdev --getsize64 /dev/md0)" /run/newroot.img
	mke2fs -q -F -t ext4 -L / /run/newroot.img
	dd if=/run/newroot.img of=/dev/md0 bs=1M count=2 oflag=direct status=none
	rm /run/newroot.img
	jq -n --argjson raid1 "$(array_json /dev/md0)" --argjson raid10 "$(array_json /dev/md1)" \
		--argjson vg "$(vg_json)" \
		'{raid1: $raid1, raid10: $raid10, vg: $vg,
		  mkfs: {command: "mke2fs -t ext4 -L / (of the new md0)", written_bytes: 2097152, at: "new md0 offset 0"}}' \
		>"$W/installer.json"
	mdadm --detail /dev/md0 >"$REC/installer-md0.detail.txt"
	mdadm --detail /dev/md1 >"$REC/installer-md1.detail.txt"
	vgchange -q -an guests
	mdadm --stop /dev/md0 /dev/md1
	jq --argjson examine "$(examine_json installer)" '. + {examine: $examine}' "$W/installer.json" >"$W/installer.json.tmp"
	mv "$W/installer.json.tmp" "$W/installer.json"
	i=0
	while [ $i -lt $N ]; do
		mdadm --examine --metadata=0.90 "$(P $i 1)" >"$REC/d${i}p1.installer.examine-0.90.txt" 2>&1 || true
		mdadm --examine --metadata=0.90 "$(P $i 2)" >"$REC/d${i}p2.installer.examine-0.90.txt" 2>&1 || true
		i=$((i + 1))
	done
}

mkdir -p "$REC/etc-lvm"
$PHASE
echo "incident $PHASE done"

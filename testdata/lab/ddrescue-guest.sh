# Runs inside UML (via ddrescue.sh). ubda, ubdb = the raid1's members;
# ubdc, ubdd, ubde = the raid5's (16 MiB each). Story: two arrays with ext4
# and files; their sha256 (every file, each array whole) recorded; then
# each member disk starts failing (a device-mapper table with error segments
# in place of some of its sectors) and is imaged with GNU ddrescue, twice:
# diff/ with every member failing in its own ranges (ext metadata among
# them: superblock, inode table, root directory), so that each array byte
# still lies on a readable copy or is rebuilt from parity; overlap/ with
# members failing over the same array bytes (file data only), which are
# lost. $rec/holes-SET.txt lists the error segments, $rec/lost-ARRAY.txt
# the array bytes lost in overlap/ and the files and file bytes they hit,
# as filefrag reads the kernel's filesystem.
rec=../ddrescue/record
tmp=work/ddrescue
K=1024
chunk=$((64 * K))
mkdir -p /mnt/a /run/src
{
	mdadm --version 2>&1
	mke2fs -V 2>&1 | head -1
	ddrescue --version | head -1
	uname -r
} >"$rec/versions.txt"

text() { seq -f "$1 line %039.0f...................." 1 $(($2 / 64 + 1)) | head -c "$2" >"$1"; }
tree() { # DIR LABEL
	mkdir -p "$1/d/e"
	for s in 0 1 4095 4097 65537 200000; do text "$1/f$s" $s; done
	text "$1/big1" 1500000
	text "$1/big2" 1200000
	text "$1/d/e/deep.txt" 5000
	echo "$2: an array of the holmes ddrescue lab" >"$1/README"
}
sums() { (cd /mnt/a && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$rec/files-$1.sha256"; }

mdadm --create /dev/md1 --run --level=1 --raid-devices=2 --metadata=1.2 --name=ddr1 /dev/ubda /dev/ubdb
mdadm --create /dev/md5 --run --level=5 --layout=left-symmetric --chunk=64 --raid-devices=3 --metadata=1.2 --name=ddr5 /dev/ubdc /dev/ubdd /dev/ubde
mdadm --wait /dev/md1 /dev/md5 || true
for md in md1 md5; do
	tree /run/src/$md $md
	mke2fs -q -t ext4 -b 4096 -L $md -d /run/src/$md /dev/$md
done
sync
sha256sum /dev/md1 /dev/md5 | sed 's|/dev/||' >"$rec/arrays.sha256"
for md in md1 md5; do
	mount -o ro /dev/$md /mnt/a
	sums $md
	(cd /mnt/a && for f in $(find . -type f | sort); do echo "== $f"; filefrag -v -b4096 "$f" | sed 1,3d; done) >"$rec/filefrag-$md.txt"
	umount /mnt/a
	dumpe2fs /dev/$md >"$rec/dumpe2fs-$md.txt" 2>/dev/null
	debugfs -R "bmap <2> 0" /dev/$md >"$rec/rootdir-$md.txt" 2>/dev/null
done
mdadm --detail /dev/md1 >"$rec/detail-md1.txt"
mdadm --detail /dev/md5 >"$rec/detail-md5.txt"
for d in a b c d e; do mdadm --examine /dev/ubd$d; done >"$rec/examine.txt"
mdadm --stop /dev/md1 /dev/md5

dataoff() { mdadm --examine /dev/$1 | awk '/Data Offset/ {print $4 * 512}'; }
off1=$(dataoff ubda)
off5=$(dataoff ubdc)
[ "$(dataoff ubdb)" = "$off1" ] && [ "$(dataoff ubdd)" = "$off5" ] && [ "$(dataoff ubde)" = "$off5" ]
itable() { awk '/Inode table at/ {split($4, r, "-"); print r[1]; exit}' "$rec/dumpe2fs-$1.txt"; }
rootdir() { tr -dc 0-9 <"$rec/rootdir-$1.txt"; }
# extent FILE ARRAY: first physical block and length (blocks) of FILE's longest extent
extent() {
	awk -v f="== ./$1" '$0 == f {on = 1; next} /^==/ {on = 0}
		on && /^ *[0-9]+:/ {gsub(/\.\./, " "); gsub(/:/, " "); if ($6 > n) {p = $4; n = $6}}
		END {print p, n}' "$rec/filefrag-$2.txt"
}
# inside FILE ARRAY ALIGN: an array offset ALIGN-aligned, 256 KiB into FILE's
# longest extent, with 2*ALIGN bytes of the file after it.
inside() {
	set -- $(extent "$1" "$2") "$3"
	o=$((($1 * 4096 + 256 * K + $3 - 1) / $3 * $3))
	[ $((o + 2 * $3)) -le $((($1 + $2) * 4096)) ] || { echo "no room in the extent" >&2; exit 1; }
	echo $o
}
# r5 OFF: the raid5 role holding array byte OFF (left-symmetric, 3 disks,
# 64 KiB chunks), its offset in the data area, and the stripe's parity role.
r5() {
	cn=$(($1 / chunk)); s=$((cn / 2)); pd=$((2 - s % 3))
	echo $(((pd + 1 + cn % 2) % 3)) $((s * chunk + $1 % chunk)) $pd
}

# hole SET DISK DATAOFF AREA-OFFSET LEN WHAT: an error segment on DISK.
hole() { echo "$2 $(($3 + $4)) $5 $6" >>"$tmp/holes-$1"; }
# image SET DISK NAME [ddrescue options]: DISK with its error segments as
# device-mapper shows it, imaged by ddrescue (direct reads of 512-byte
# sectors) into SET/NAME.img and .map.
image() {
	set_=$1 disk=$2 name=$3; shift 3
	size=$(($(blockdev --getsz /dev/$disk)))
	sort -n -k2 "$tmp/holes-$set_" | awk -v d=$disk -v size=$size -v dev=/dev/$disk '
		BEGIN { at = 0 }
		$1 == d { s = $2 / 512; n = $3 / 512
			if (s > at) print at, s - at, "linear", dev, at
			print s, n, "error"; at = s + n }
		END { if (at < size) print at, size - at, "linear", dev, at }' >"$tmp/table"
	{ echo "== $set_ $name ($disk)"; cat "$tmp/table"; } >>"$rec/dmsetup-tables.txt"
	dmsetup create failing --readonly <"$tmp/table"
	dmsetup mknodes failing
	ddrescue -q -d -b 512 "$@" /dev/mapper/failing "$tmp/$set_/$name.img" "$tmp/$set_/$name.map"
	dmsetup remove failing
	truncate -s $((size * 512)) "$tmp/$set_/$name.img"
}

rm -f "$tmp"/holes-* "$rec/dmsetup-tables.txt"
# diff/: metadata and data, no array byte without a readable copy.
it1=$(($(itable md1) * 4096)); rd1=$(($(rootdir md1) * 4096)); b1=$(inside big1 md1 $((64 * K)))
hole diff ubda $off1 0 $((8 * K)) "md1 ext superblock and group descriptors"
hole diff ubda $off1 $it1 $((16 * K)) "md1 inode table"
hole diff ubdb $off1 $rd1 $((4 * K)) "md1 root directory"
hole diff ubdb $off1 $b1 $((64 * K)) "md1 big1 data"
hole diff ubda $off1 $((b1 + 64 * K)) $((32 * K)) "md1 big1 data, next to ubdb's"
it5=$(($(itable md5) * 4096)); rd5=$(($(rootdir md5) * 4096)); b5=$(inside big1 md5 $((64 * K)))
for what in "0 8 superblock" "$it5 16 inode-table" "$rd5 4 root-directory" "$b5 32 big1-data"; do
	set -- $what
	set -- $(r5 $1) $2 $3
	hole diff ubd$(echo cde | cut -c$(($1 + 1))) $off5 $2 $(($4 * K)) "md5 $5 (role $1)"
done
# and the parity of big1's stripe, beside its data's hole.
set -- $(r5 $b5)
hole diff ubd$(echo cde | cut -c$(($3 + 1))) $off5 $(($2 + 32 * K)) $((16 * K)) "md5 big1-data parity (role $3)"
# No two disks of an array may fail over the same area offsets here.
sort -n -k2 "$tmp/holes-diff" | awk -v o1=$off1 '
	{ a = ($1 == "ubda" || $1 == "ubdb") ? "md1" : "md5"
	  if (a in end && $2 < end[a] && $1 != who[a]) { print "diff holes overlap:", $0; bad = 1 }
	  if (!(a in end) || $2 + $3 > end[a]) { end[a] = $2 + $3; who[a] = $1 } }
	END { exit bad }'

# overlap/: file data only; the bytes no member holds are lost.
b1=$(inside big1 md1 $((64 * K))); c1=$(inside big2 md1 $((16 * K)))
hole overlap ubda $off1 $b1 $((32 * K)) "md1 big1"
hole overlap ubdb $off1 $((b1 + 16 * K)) $((32 * K)) "md1 big1"
hole overlap ubda $off1 $c1 $((8 * K)) "md1 big2"
hole overlap ubdb $off1 $c1 $((8 * K)) "md1 big2"
lost1="$((b1 + 16 * K)) $((16 * K))
$c1 $((8 * K))"
# md5: big1's data and its stripe's parity overlap by 8 KiB (the data there
# is lost); big2's two data chunks of one stripe overlap by 4 KiB (both lost).
b5=$(inside big1 md5 $chunk); set -- $(r5 $b5)
hole overlap ubd$(echo cde | cut -c$(($1 + 1))) $off5 $2 $((16 * K)) "md5 big1 data (role $1)"
hole overlap ubd$(echo cde | cut -c$(($3 + 1))) $off5 $(($2 + 8 * K)) $((16 * K)) "md5 big1 parity (role $3)"
c5=$(inside big2 md5 $((2 * chunk))); set -- $(r5 $c5); d0=$1
set -- $(r5 $((c5 + chunk))); d1=$1
hole overlap ubd$(echo cde | cut -c$((d0 + 1))) $off5 $2 $((8 * K)) "md5 big2 data (role $d0)"
hole overlap ubd$(echo cde | cut -c$((d1 + 1))) $off5 $(($2 + 4 * K)) $((8 * K)) "md5 big2 data (role $d1)"
lost5="$((b5 + 8 * K)) $((8 * K))
$((c5 + 4 * K)) $((4 * K))
$((c5 + chunk + 4 * K)) $((4 * K))"

# Some members imaged without scraping (their bad areas stay non-scraped,
# '/'), one only up to 15 MiB (the rest never tried, beyond the map).
for set in diff overlap; do
	sort -k1,1 -k2n "$tmp/holes-$set" >"$rec/holes-$set.txt"
done
image diff ubda r1-0 -n
image diff ubdb r1-1
image diff ubdc r5-0
image diff ubdd r5-1 -n
image diff ubde r5-2 -s 15Mi
image overlap ubda r1-0
image overlap ubdb r1-1 -n
image overlap ubdc r5-0
image overlap ubdd r5-1
image overlap ubde r5-2 -n

# lost ARRAY RANGES: each lost array range, then the files it hits and the
# bytes of each (from filefrag's extents; past the file's end is not file data).
lost() {
	echo "$2" | while read -r off len; do
		echo "array $off $len"
		awk -v lo=$off -v hi=$((off + len)) '
			/^==/ { f = substr($2, 3); next }
			/^ *[0-9]+:/ { line = $0; gsub(/\.\./, " ", line); gsub(/:/, " ", line); split(line, x, " ")
				ls = x[2] * 4096; ps = x[4] * 4096; n = x[6] * 4096
				s = ps > lo ? ps : lo; e = ps + n < hi ? ps + n : hi
				if (s < e) print "file", f, ls + s - ps, e - s }' "$rec/filefrag-$1.txt"
	done >"$rec/lost-$1.txt"
}
lost md1 "$lost1"
lost md5 "$lost5"
echo lab done

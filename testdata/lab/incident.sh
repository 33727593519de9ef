#!/bin/bash
# incident.sh: the post-mortem's incident in small (issue 12's lab), made by
# the real kernel in user-mode Linux with real mdadm, lvm2 and e2fsprogs.
#
#   testdata/lab/incident.sh      (about 2 minutes; needs user-mode-linux,
#                                  mdadm, lvm2, e2fsprogs, fdisk, jq, xz-utils)
#
# Ten 64 MiB disks, each with an MBR and two partitions. The old server: a
# raid1 (0.90) over every partition 1 holding the ext3 root with
# /etc/lvm/{backup,archive}, a raid10 near-2 (0.90, 64K chunk) over every
# partition 2 holding VG guests (home ext4, var ext3, distros ext4 in two
# segments, vm01 with an MBR and an ext4 partition). Then the halves
# diverge: the raid10 runs without d1p2 and d4p2, the raid1 without d9p1,
# and lvm and the filesystems write. Then the installer: a new MBR on every
# disk, both arrays re-created over the same partitions in disk order (raid1
# with 1.0, raid10 with this mdadm's defaults: 1.2, 512K chunk), a new empty
# VG guests, and the first 2 MiB of a mkfs.ext4 written over the new raid1.
# Every region where halves differ or the installer wrote is explained
# (LV, filesystem structure or file) with debugfs on the filesystems the
# guest read out before the installer. Output: testdata/incident/ (see docs/labs.md).
set -euo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
TD=$(cd "$LAB/.." && pwd)
OUT=$TD/incident
REC=$OUT/record
W=$LAB/work/incident
N=10
if [ "${1:-}" != record ]; then
	rm -rf "$W" "$OUT"
	mkdir -p "$W/pre" "$REC"
fi

# table IMG LABEL-ID : the partitioning both installers used.
table() {
	sfdisk -q --wipe never --wipe-partitions never "$1" <<-EOF
		label: dos
		label-id: $2
		start=2048, size=24M, type=fd
		type=fd
	EOF
}

# guest PHASE IMG... : one boot of the kernel running incident-guest.sh.
guest() {
	local phase=$1
	shift
	cat >"$W/guest-$phase.sh" <<-EOF
		PHASE=$phase LAB=$LAB MD=$TD FIX=incident W=$W REC=$REC
		. $LAB/incident-guest.sh
	EOF
	echo "== incident: $phase" >&2
	"$LAB/uml.sh" -m 768M "$W/guest-$phase.sh" "$@" >"$W/$phase.log" 2>&1 || {
		tail -30 "$W/$phase.log" >&2
		echo "incident: guest phase $phase failed (log: $W/$phase.log)" >&2
		return 1
	}
}

imgs() { for ((i = 0; i < N; i++)); do echo "$1/d$i.img"; done; }

# incident.sh record: only the steps after the boots, from the work dir.
if [ "${1:-}" != record ]; then
	for ((i = 0; i < N; i++)); do
		truncate -s 64M "$W/d$i.img"
		table "$W/d$i.img" 0x0a1d0$i
	done
	sfdisk -J "$W/d0.img" >"$W/table.json"
	mapfile -t disks < <(imgs "$W")
	guest build "${disks[@]}"
	for ((i = 0; i < N; i++)); do cp --sparse=always "$W/d$i.img" "$W/pre/"; done
	for ((i = 0; i < N; i++)); do table "$W/d$i.img" 0x2013050$i; done
	guest installer "${disks[@]}"
fi
rm -rf "$W/tmp" "$W"/fs/*.layout

pstart() { jq ".partitiontable.partitions[$(($1 - 1))].start * 512" "$W/table.json"; }
psize() { jq ".partitiontable.partitions[$(($1 - 1))].size * 512" "$W/table.json"; }

# runs BS GAP : cmp -l output -> "START END" runs of differing BS-byte
# blocks (0-based byte offsets), runs at most GAP bytes apart merged.
runs() {
	awk -v bs="$1" -v gap="$2" '{ b = int(($1 - 1) / bs)
		if (n && b * bs - end <= gap) { end = (b + 1) * bs; next }
		if (n) print start, end
		n = 1; start = b * bs; end = (b + 1) * bs }
		END { if (n) print start, end }'
}

# diff_part DIR A B PART BS GAP : runs where partition PART of disks A and B differ.
diff_part() {
	cmp -l -i "$(pstart "$4"):$(pstart "$4")" -n "$(psize "$4")" "$1/d$2.img" "$1/d$3.img" | runs "$5" "$6" || true
}

# explain_fs FS FROM TO : what bytes FROM..TO of filesystem FS (as dumped by
# the guest into $W/fs/FS.img) hold, as a JSON array: fixed structures from
# dumpe2fs, files (path, byte range in the file) and journal from debugfs.
explain_fs() {
	local img=$W/fs/$1.img fs=$1 lay=$W/fs/$1.layout t=$W/tmp bs first last ino path
	mkdir -p "$t"
	[ -s "$lay" ] || dumpe2fs "$img" 2>/dev/null | awk '
		/^Block size:/ { print "bs", $3 }
		/^Group [0-9]+:/ { g = $2; sub(":", "", g) }
		/superblock at/ {
			n = split($0, parts, ",")
			for (i = 1; i <= n; i++) {
				p = parts[i]
				if (p ~ /superblock at/) { sub(/.*superblock at /, "", p); print p, p, "superblock (group " g ")" }
				else if (p ~ /Group descriptors at/) { sub(/.*at /, "", p); split(p, r, "-"); print r[1], r[2], "group descriptors (group " g ")" }
			}
		}
		/Reserved GDT blocks at/ { p = $0; sub(/.*at /, "", p); split(p, r, "-"); print r[1], r[2], "reserved GDT blocks (group " g ")" }
		/Block bitmap at/ { p = $0; sub(/.*Block bitmap at /, "", p); sub(/[ ,].*/, "", p); print p, p, "block bitmap of group " g }
		/Inode bitmap at/ { p = $0; sub(/.*Inode bitmap at /, "", p); sub(/[ ,].*/, "", p); print p, p, "inode bitmap of group " g }
		/Inode table at/ { p = $0; sub(/.*Inode table at /, "", p); sub(/[ ,(].*/, "", p); split(p, r, "-"); print r[1], r[2], "inode table of group " g }' >"$lay"
	bs=$(sed -n 's/^bs //p' "$lay")
	first=$(($2 / bs))
	last=$((($3 - 1) / bs))
	awk -v a="$first" -v b="$last" '$1 != "bs" && $2 >= a && $1 <= b { print "S", $1, $2, substr($0, index($0, $3)) }' "$lay" >"$t/touch"
	awk '$1 == "S" { for (x = $2; x <= $3; x++) print x }' "$t/touch" | sort >"$t/meta"
	seq "$first" "$last" | sort | comm -23 - "$t/meta" | sort -n >"$t/data"
	if [ -s "$t/data" ]; then
		debugfs -R "icheck $(tr '\n' ' ' <"$t/data")" "$img" 2>/dev/null | awk 'NR > 1' >"$t/icheck"
		awk '$2 ~ /^</ { print "F", $1 }' "$t/icheck" >>"$t/touch"
		for ino in $(awk '$2 ~ /^[0-9]+$/ { print $2 }' "$t/icheck" | sort -un); do
			debugfs -R "stat <$ino>" "$img" 2>/dev/null >"$t/stat"
			case $ino in
			7) what="resize inode" path="" ;;
			8) what=journal path="" ;;
			*)
				what=$(sed -n 's/.*Type: \([a-z]*\).*/\1/p' "$t/stat" | head -1)
				case $what in regular) what=file ;; symlink) what="symbolic link" ;; esac
				path=$(debugfs -R "ncheck $ino" "$img" 2>/dev/null | awk 'NR > 1 { $1 = ""; sub(/^ \/*/, "/"); print; exit }')
				[ "$ino" != 2 ] || path=/
				;;
			esac
			# the inode's block map ("(0-11):5121-5132, (IND):5133, ..."):
			# physical block -> logical block, or M for mapping blocks
			sed -n '/^\(BLOCKS\|EXTENTS\):/,/^TOTAL/p' "$t/stat" | sed '1d; /^TOTAL/d' | tr ',' '\n' |
				awk -F: '{ gsub(/[ ()]/, "", $1); gsub(/ /, "", $2); if ($2 == "") next
					split($2, p, "-"); if (p[2] == "") p[2] = p[1]
					if ($1 !~ /^[0-9]/) { for (x = p[1]; x <= p[2]; x++) print x, "M"; next }
					split($1, l, "-"); for (x = p[1]; x <= p[2]; x++) print x, l[1] + x - p[1] }' >"$t/map"
			awk -v ino="$ino" '$2 == ino { print $1 }' "$t/icheck" |
				awk -v ino="$ino" -v what="$what" -v path="$path" -v bs="$bs" 'NR == FNR { logical[$1] = $2; next }
					logical[$1] == "M" { meta = 1; next }
					$1 in logical { i = logical[$1]; if (lo == "" || i < lo) lo = i; if (hi == "" || i > hi) hi = i }
					END { if (meta) printf "M %s %s\t%s\n", ino, what, path
					      if (lo != "") printf "I %s %d %d %s\t%s\n", ino, lo * bs, (hi + 1) * bs, what, path }' "$t/map" - >>"$t/touch"
		done
	fi
	jq -Rn --arg fs "$fs" '[inputs | (split("\t") | .[1]) as $path | split("\t")[0] | split(" ")
		| if .[0] == "S" then {what: (.[3:] | join(" "))}
		  elif .[0] == "F" then {what: "unused block"}
		  elif .[0] == "M" then {what: ("block map of " + (.[2:] | join(" "))), inode: (.[1] | tonumber)}
		  else {what: (.[4:] | join(" ")), inode: (.[1] | tonumber), offset: (.[2] | tonumber), end: (.[3] | tonumber)} end
		| if $path != null and $path != "" then . + {path: $path} else . end]
		| (map(select(.what == "unused block")) | length) as $free
		| map(select(.what != "unused block") | {fs: $fs} + .)
		  + (if $free > 0 then [{fs: $fs, what: "unused blocks", count: $free}] else [] end)' <"$t/touch"
}

# explain_lv OFF LEN : what LEN bytes at OFF of the old raid10 hold (LEN
# within one chunk, so within one extent).
explain_lv() {
	local pe_start ext hit lv lvoff ps
	pe_start=$(jq .vg.pv.pe_start "$W/original.json")
	ext=$(jq .vg.extent_size "$W/original.json")
	if [ "$1" -lt "$pe_start" ]; then
		jq -n '[{what: "LVM PV label and metadata area"}]'
		return
	fi
	hit=$(jq -r --argjson pe $((($1 - pe_start) / ext)) --argjson ext "$ext" --argjson within $((($1 - pe_start) % ext)) '
		.vg.lvs[] | .name as $n | .segments[] | select($pe >= .pv_first_extent and $pe < .pv_first_extent + .extents)
		| "\($n) \(($pe - .pv_first_extent + .start_extent) * $ext + $within)"' "$W/original.json")
	if [ -z "$hit" ]; then
		jq -n '[{what: "free extents of VG guests"}]'
		return
	fi
	read -r lv lvoff <<<"$hit"
	if [ "$lv" = vm01 ]; then
		ps=$(cat "$W/vm01.part-start")
		if [ "$lvoff" -lt "$ps" ]; then
			jq -n --argjson o "$lvoff" '[{lv: "guests/vm01", lv_offset: $o, what: "partition table and gap before vm01 p1"}]'
			return
		fi
		explain_fs vm01 $((lvoff - ps)) $((lvoff - ps + $2)) | jq --argjson o "$lvoff" 'map(.fs = "guests/vm01:p1" | . + {lv: "guests/vm01", lv_offset: $o})'
		return
	fi
	explain_fs "$lv" "$lvoff" $((lvoff + $2)) | jq --arg lv "guests/$lv" --argjson o "$lvoff" 'map(.fs = $lv | . + {lv: $lv, lv_offset: $o})'
}

# explain DISK PART START END : what the region of partition PART of disk
# DISK held in the old stack (root ext3 on the raid1 for partition 1; the
# raid10 near-2, 64K chunk, data at 0, for partition 2).
declare -A explained
explain() {
	local key t s e a size
	if [ "$2" = 1 ]; then key="1 $3 $4"; else key="2 $(($1 / 2)) $3 $4"; fi
	if [ -z "${explained[$key]:-}" ]; then
		if [ "$2" = 1 ]; then
			size=$(jq .raid1.array_size "$W/original.json")
			if [ "$3" -ge "$size" ]; then
				t='[{"what": "beyond the old raid1 data: md 0.90 reserved area at the end"}]'
			else
				t=$(explain_fs root "$3" $(($4 < size ? $4 : size)) | jq 'map(.fs = "root")')
			fi
		else
			size=$(($(jq .raid10.array_size "$W/original.json") / (N / 2)))
			t='[]'
			s=$3
			while [ "$s" -lt "$4" ]; do
				e=$(((s / 65536 + 1) * 65536))
				[ "$e" -le "$4" ] || e=$4
				if [ "$s" -ge "$size" ]; then
					u='[{"what": "beyond the old raid10 data: md 0.90 reserved area at the end"}]'
					e=$4
				else
					a=$(((s / 65536 * (N / 2) + $1 / 2) * 65536 + s % 65536))
					u=$(explain_lv "$a" $((e - s)) | jq --argjson a "$a" 'map(. + {array_offset: $a})')
				fi
				t=$(jq -n --argjson t "$t" --argjson u "$u" '$t + $u')
				s=$e
			done
		fi
		explained[$key]=$(jq -c 'group_by(del(.offset, .end, .lv_offset, .array_offset, .count))
			| map(.[0] + (if .[0].offset != null then {offset: (map(.offset) | min), end: (map(.end) | max)} else {} end)
			            + (if .[0].count != null then {count: (map(.count) | add)} else {} end)
			      | del(.lv_offset, .array_offset))' <<<"$t")
	fi
	echo "${explained[$key]}"
}

# Regions: where the halves differ (512-byte sectors, on the images before
# the installer) and what the installer changed (4 KiB blocks, runs closer
# than 64 KiB merged, before vs after), each with what it held.
: >"$W/regions.jsonl"
region() { # KIND DISK OTHER PART START END
	local other=null
	[ -z "$3" ] || other="\"d$3.img.xz:p$4\""
	jq -cn --arg kind "$1" --arg dev "d$2.img.xz:p$4" --argjson other "$other" --argjson s "$5" --argjson e "$6" \
		--argjson touches "$(explain "$2" "$4" "$5" "$6")" \
		'{kind: $kind, device: $dev, other: $other, start: $s, end: $e, touches: $touches}' >>"$W/regions.jsonl"
}
echo "== incident: explaining regions" >&2
for ((p = 0; p < N; p += 2)); do
	while read -r s e; do region divergence $p $((p + 1)) 2 "$s" "$e"; done < <(diff_part "$W/pre" $p $((p + 1)) 2 512 0)
done
for ((i = 1; i < N; i++)); do
	while read -r s e; do region divergence "$i" 0 1 "$s" "$e"; done < <(diff_part "$W/pre" 0 "$i" 1 512 0)
done
for ((i = 0; i < N; i++)); do
	for p in 1 2; do
		while read -r s e; do region installer "$i" "" $p "$s" "$e"; done < <(
			cmp -l -i "$(pstart $p)" -n "$(psize $p)" "$W/pre/d$i.img" "$W/d$i.img" | runs 4096 65536 || true)
	done
done

# What `cmp` says about each pair after the installer, in 4 KiB blocks:
# holmes compare --raw of the two partitions must report the same runs.
cmps=()
pair_cmp() { # A B PART
	local r
	r=$(diff_part "$W" "$1" "$2" "$3" 4096 0 | jq -Rn '[inputs | split(" ") | map(tonumber) | {start: .[0], end: .[1]}]')
	cmps+=("$(jq -cn --arg a "d$1.img.xz:p$3" --arg b "d$2.img.xz:p$3" --argjson r "$r" \
		--argjson bytes "$(cmp -l -i "$(pstart "$3"):$(pstart "$3")" -n "$(psize "$3")" "$W/d$1.img" "$W/d$2.img" | wc -l || true)" \
		'{a: $a, b: $b, diff_bytes: $bytes, regions: $r}')")
}
for ((p = 0; p < N; p += 2)); do pair_cmp $p $((p + 1)) 2; done
for ((i = 1; i < N; i++)); do pair_cmp 0 "$i" 1; done

parts=$(jq -c '.partitiontable.partitions | map({start: (.start * 512), size: (.size * 512), type})' "$W/table.json")
jq -n --slurpfile original "$W/original.json" --slurpfile installer "$W/installer.json" \
	--slurpfile before "$W/files.before.json" --slurpfile after "$W/files.after.json" \
	--argjson parts "$parts" \
	--argjson regions "$(jq -s . "$W/regions.jsonl")" --argjson cmp "$(printf '%s\n' "${cmps[@]}" | jq -s .)" \
	--argjson disks "$(for ((i = 0; i < N; i++)); do echo "d$i.img.xz"; done | jq -Rn '[inputs]')" \
	--argjson backups "$(cd "$REC" && find etc-lvm -type f | sort | jq -Rn '[inputs | "record/" + .]')" '
	($after[0] | with_entries(.key as $fs | .value |= with_entries(
		.key as $p | ($before[0][$fs][$p]) as $old
		| .value += (if $old == null then {stale: "absent"} elif $old.sha256 != .value.sha256 then {stale_sha256: $old.sha256} else {} end))))
	  as $files
	| {
	  name: "incident",
	  made_by: "testdata/lab/incident.sh (real kernel in user-mode Linux; versions in record/versions.txt)",
	  disks: $disks, disk_size: 67108864,
	  partitions: $parts,
	  partition_label_ids: {original: "0x0a1d0N", installer: "0x2013050N (N = disk number)"},
	  original: ($original[0] | del(.examine)),
	  original_examine: $original[0].examine,
	  installer: ($installer[0] | del(.examine)),
	  installer_examine: $installer[0].examine,
	  newer_halves: {raid10: {"d0.img.xz:p2": "d1.img.xz:p2", "d5.img.xz:p2": "d4.img.xz:p2"},
	                 raid1: {"d0.img.xz:p1": "d9.img.xz:p1"}},
	  divergence: [$regions[] | select(.kind == "divergence") | del(.kind)],
	  installer_writes: [$regions[] | select(.kind == "installer") | del(.kind, .other)],
	  cmp_after_installer: $cmp,
	  lvm_backup_files: $backups,
	  files: $files,
	  notes: "Offsets are bytes from the start of the partition named by device. newer_halves maps the half that kept running to the half that missed its writes. divergence regions are 512-byte-sector runs where the halves differ on the images before the installer (for raid1, each member against d0p1); installer_writes are 4 KiB runs (merged when closer than 64 KiB) that the installer changed on each partition; touches says what each holds in the old stack (read through the newer halves). cmp_after_installer is cmp -l over each pair of partitions of the committed images, as runs of differing 4 KiB blocks. files: every regular file of every filesystem as the kernel read it through the newer halves, with stale_sha256 (or stale: absent) where the other half holds an older version. original.vg is the newest metadata (on d0p2, and in record/etc-lvm/backup/guests); vg_seqno_before_degraded is the newest on d1p2."
	}' >"$OUT/record.json"

for ((i = 0; i < N; i++)); do xz -9 -T1 -c "$W/d$i.img" >"$OUT/d$i.img.xz"; done
cp "$W/build.log" "$W/installer.log" "$REC/"
du -b "$OUT"/*.xz | awk '{ s += $1 } END { print "incident: images", s, "bytes" }'

# md-guest.sh: helpers for lab scripts running inside user-mode Linux (sh).
# Set by run_guest before this is sourced: FIX (fixture name), KIND, MD
# (testdata/md), ENTRIES (where manifest entries go), W (the fixture's work
# directory). Disk image i is /dev/ubd<a+i> and testdata/md/$FIX/d<i>.img.xz.

# Arrays are made with --assume-clean (no resync); parity_check's md "check"
# pass should not crawl at the default speed limit.
echo 1000000 >/proc/sys/dev/raid/speed_limit_min
echo 1000000 >/proc/sys/dev/raid/speed_limit_max
# lvm keeps its backups, archives and cache in the work dir, never in /etc/lvm.
export LVM_SYSTEM_DIR="$W/lvm"
mkdir -p "$LVM_SYSTEM_DIR"
[ -e "$LVM_SYSTEM_DIR/lvm.conf" ] || cat >"$LVM_SYSTEM_DIR/lvm.conf" <<EOF
devices { scan = [ "/dev" ] obtain_device_list_from_udev = 0 }
global { locking_dir = "/run/lock/lvm" }
backup { backup_dir = "$LVM_SYSTEM_DIR/backup" archive_dir = "$LVM_SYSTEM_DIR/archive" }
activation { udev_sync = 0 udev_rules = 0 }
EOF

letters=abcdefghijklmnopqrstuvwxyz

# D I : the whole disk I.  P I N : partition N of disk I.
D() { echo "/dev/ubd$(echo "$letters" | cut -c$(($1 + 1)))"; }
P() { echo "$(D "$1")$2"; }
# disks N : the first N whole disks.
disks() { local i=0; while [ "$i" -lt "$1" ]; do D "$i"; i=$((i + 1)); done; }

# ref DEV [DISKDIR] : the manifest DEV of a guest device, e.g. /dev/ubdc5 ->
# FIX/d2.img.xz:p5. DISKDIR names the fixture directory holding the images.
ref() {
	local base letter part idx
	base=${1#/dev/ubd}
	letter=$(echo "$base" | cut -c1)
	part=$(echo "$base" | cut -c2-)
	idx=$(($(expr index "$letters" "$letter") - 1))
	[ "$idx" -ge 0 ] || { echo "ref: $1 is not a lab disk" >&2; return 1; }
	printf '%s/d%s.img.xz' "${2:-$FIX}" "$idx"
	[ -z "$part" ] || printf ':p%s' "$part"
	echo
}

# stem DEV : file name stem for records about DEV (d2 or d2p5).
stem() { ref "$1" | sed 's|.*/||; s|\.img\.xz||; s|:||'; }

# uuid_of NAME : a fixed array UUID per array name, so reruns agree.
uuid_of() { echo "$1" | sha256sum | sed 's/^\(........\)\(........\)\(........\)\(........\).*/\1:\2:\3:\4/'; }

# mkarr MDDEV NAME MDADM-ARGS... : mdadm --create with a UUID fixed by NAME;
# every command line of the boot is kept in testdata/md/$FIX/create.txt.
mkarr() {
	local dev=$1 name=$2
	shift 2
	set -- mdadm --create "$dev" --run --assume-clean --homehost=holmes-lab \
		--uuid="$(uuid_of "$name")" "$@"
	echo "$*" >>"$MD/$FIX/create.txt"
	"$@"
}

# creates NAME : the mdadm --create lines that made array NAME, as JSON.
creates() { grep -F -- "--uuid=$(uuid_of "$1")" "$MD/$FIX/create.txt" | jq -Rn '[inputs]'; }

# fill MDDEV LABEL : every 512-byte sector of the array gets
# "LABEL sector NNNNNNNNNN", space-padded, newline-terminated.
fill() {
	awk -v n="$(blockdev --getsz "$1")" -v label="$2" 'BEGIN {
		for (i = 0; i < n; i++) printf "%-511s\n", sprintf("%s sector %010d", label, i) }' |
		dd of="$1" bs=1M iflag=fullblock oflag=direct status=none
}

# parity_check MDDEV : runs md's check and fails if parity disagrees.
parity_check() {
	local md
	md=/sys/block/${1#/dev/}/md
	echo check >"$md/sync_action"
	mdadm --wait "$1" || true
	[ "$(cat "$md/mismatch_cnt")" = 0 ] || {
		echo "parity mismatch on $1: $(cat "$md/mismatch_cnt")" >&2
		return 1
	}
}

# jlist WORD... : a JSON array of strings, "-" becoming null.
jlist() { jq -cn '$ARGS.positional | map(if . == "-" then null else . end)' --args "$@"; }

# geometry MDDEV : sets g_level g_layout g_chunk g_offset g_meta g_disks
# g_members (role order, "-" for missing) g_spares, from sysfs and mdadm.
geometry() {
	local md s d slot found
	md=/sys/block/${1#/dev/}/md
	g_level=$(cat "$md/level")
	g_disks=$(cat "$md/raid_disks")
	g_chunk=$(cat "$md/chunk_size")
	g_meta=$(cat "$md/metadata_version")
	g_layout=$(mdadm --detail "$1" | sed -n 's/^ *Layout : //p' |
		sed 's/^near=/n/; s/^far=/f/; s/^offset=/o/')
	case $g_level in raid5 | raid6 | raid10) ;; *) g_layout= ;; esac
	g_members= g_spares= g_offset=
	s=0
	while [ "$s" -lt "$g_disks" ]; do
		found=-
		for d in "$md"/dev-*; do
			[ "$(cat "$d/slot")" = "$s" ] || continue
			found=/dev/${d##*/dev-}
			[ -n "$g_offset" ] || g_offset=$(($(cat "$d/offset") * 512))
		done
		g_members="$g_members $found"
		s=$((s + 1))
	done
	for d in "$md"/dev-*; do
		slot=$(cat "$d/slot")
		[ "$slot" != none ] || g_spares="$g_spares /dev/${d##*/dev-}"
	done
}

# geometry_json : the geometry() facts as a manifest object (order = DEVs).
geometry_json() {
	local refs="" m
	for m in $g_members; do
		if [ "$m" = - ]; then refs="$refs -"; else refs="$refs $(ref "$m" "$DISKDIR")"; fi
	done
	# shellcheck disable=SC2086
	jq -cn --arg level "$g_level" --arg layout "$g_layout" --arg meta "$g_meta" \
		--argjson chunk "$g_chunk" --argjson off "$g_offset" --argjson order "$(jlist $refs)" \
		'{level: $level, layout: $layout, chunk_bytes: $chunk, data_offset: $off,
		  metadata: $meta, order: $order}
		 | with_entries(select(.value != "" and .value != 0 or .key == "data_offset"))'
}

# examine_all NAME DEV... : records `mdadm --examine` of each DEV ("-" = none)
# in testdata/md/NAME/STEM[SUFFIX].examine.txt; prints the paths as JSON.
examine_all() {
	local name=$1 paths="" dev f
	shift
	for dev in "$@"; do
		if [ "$dev" = - ]; then paths="$paths -"; continue; fi
		f=$name/$(stem "$dev")$EXSUFFIX.examine.txt
		mdadm --examine "$dev" >"$MD/$f" 2>&1 || true
		paths="$paths $f"
	done
	# shellcheck disable=SC2086
	jlist $paths
}

# record MDDEV NAME [JQ-ARGS...] : records --detail, size, sha256 and the
# geometry of the running array, stops it, records --examine of each member
# (after the stop, so the files match the images) and writes the manifest
# entry. $DISKDIR (default: FIX) is the fixture dir holding the images;
# $CONTENTS and $NOTES fill those fields; $EXSUFFIX goes into the names of
# the --examine records (d0.original.examine.txt).
record() {
	local dev=$1 name=$2 size sha geo spares disks exam spexam i
	DISKDIR=${DISKDIR:-$FIX}
	mkdir -p "$MD/$name"
	case $(cat "/sys/block/${dev#/dev/}/md/level") in raid4 | raid5 | raid6) parity_check "$dev" ;; esac
	mdadm --detail "$dev" >"$MD/$name/detail.txt"
	blockdev --flushbufs "$dev"
	size=$(blockdev --getsize64 "$dev")
	sha=$(sha256sum "$dev" | cut -d' ' -f1)
	geometry "$dev"
	geo=$(geometry_json)
	mdadm --stop "$dev" >/dev/null
	# shellcheck disable=SC2086
	exam=$(examine_all "$name" $g_members)
	spares="" && for i in $g_spares; do spares="$spares $(ref "$i" "$DISKDIR")"; done
	# shellcheck disable=SC2086
	spexam=$(examine_all "$name" $g_spares)
	disks="" && for i in "$W"/d*.img; do disks="$disks $DISKDIR/$(basename "$i").xz"; done
	# shellcheck disable=SC2086
	jq -n --arg name "$name" --arg kind "$KIND" --argjson geo "$geo" \
		--argjson disks "$(printf '%s\n' $disks | sort -V | jq -Rn '[inputs]')" \
		--argjson exam "$exam" --argjson spares "$(jlist $spares)" --argjson spexam "$spexam" \
		--argjson disksn "$g_disks" --argjson size "$size" --arg sha "$sha" \
		--argjson create "$(creates "$name")" --arg contents "${CONTENTS:-}" --arg notes "${NOTES:-}" \
		'{name: $name, kind: $kind} + ($geo | del(.order)) +
		 {raid_disks: $disksn, disks: $disks, members: $geo.order, examine: $exam,
		  spares: $spares, spare_examine: $spexam, array_size: $size, array_sha256: $sha,
		  detail: ($name + "/detail.txt"), create: $create}
		 + (if $contents != "" then {contents: $contents} else {} end)
		 + (if $notes != "" then {notes: $notes} else {} end)
		 | with_entries(select(.value != []))' >"$ENTRIES/$name.json"
	echo "recorded $name: $g_level $g_layout chunk=$g_chunk offset=$g_offset size=$size"
}

# put_files DIR LABEL : a small deterministic tree (text, a deep path, a
# file spanning many blocks) for ext tests to list, cat and extract.
put_files() {
	mkdir -p "$1/docs/deep/er" "$1/data"
	echo "$2: written by the holmes md lab" >"$1/README.txt"
	seq 1 20000 >"$1/data/numbers.txt"
	awk -v label="$2" 'BEGIN { for (i = 0; i < 256; i++) printf "%-511s\n", sprintf("%s file block %06d", label, i) }' \
		>"$1/data/blocks.txt"
	printf 'deep file of %s\n' "$2" >"$1/docs/deep/er/leaf.txt"
	ln -s ../README.txt "$1/docs/readme-link"
}

# files_sha DIR OUT : sha256 of every regular file under DIR, relative paths.
files_sha() { (cd "$1" && find . -type f | sort | xargs sha256sum) >"$2"; }

# md-lib.sh: host-side helpers for the md fixture lab (sourced by md-*.sh).
#
# A fixture NAME has sparse disk images in $WORK/NAME/d0.img, d1.img, ...;
# a guest script runs inside user-mode Linux (uml.sh) with them attached as
# /dev/ubda, /dev/ubdb, ... and writes its records (mdadm --examine/--detail,
# manifest entry) straight into testdata/md/NAME/ through hostfs. Then the
# images are xz-compressed next to the records.
set -euo pipefail
LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$LAB/../md"
MD=$(cd "$LAB/../md" && pwd)
WORK=$LAB/work/md
ENTRIES=$WORK/entries

# new_fixture NAME SIZE... : one sparse image per SIZE (truncate syntax).
new_fixture() {
	local name=$1 i=0
	shift
	rm -rf "${WORK:?}/$name" "${MD:?}/$name" "$ENTRIES/$name.json"
	mkdir -p "$WORK/$name" "$MD/$name" "$ENTRIES"
	for size in "$@"; do
		truncate -s "$size" "$WORK/$name/d$i.img"
		i=$((i + 1))
	done
}

# disk NAME I : path of image I of fixture NAME.
disk() { echo "$WORK/$1/d$2.img"; }

# run_guest NAME [KIND] < BODY : boots the kernel once with every image of
# fixture NAME and runs BODY (sh) after md-guest.sh's helpers are loaded.
run_guest() {
	local name=$1 kind=${2:-examine} script imgs=()
	script=$WORK/$name/guest.sh
	{
		echo "FIX=$name KIND=$kind LAB=$LAB MD=$MD ENTRIES=$ENTRIES W=$WORK/$name"
		echo ". $LAB/md-guest.sh"
		cat
	} >"$script"
	# d10 must follow d9: ubd letters are given in this order
	mapfile -t imgs < <(ls "$WORK/$name"/d*.img | sort -V)
	echo "== $name: booting with ${#imgs[@]} disks" >&2
	"$LAB/uml.sh" -m 768M "$script" "${imgs[@]}" >"$WORK/$name/guest.log" 2>&1 || {
		tail -30 "$WORK/$name/guest.log" >&2
		echo "md-lab: guest for $name failed (log: $WORK/$name/guest.log)" >&2
		return 1
	}
}

# pack NAME : compress the fixture's images into testdata/md/NAME/.
pack() {
	local img
	for img in "$WORK/$1"/d*.img; do
		xz -9 -T1 -c "$img" >"$MD/$1/$(basename "$img").xz"
	done
}

# simple NAME SIZE N MDADM-ARGS... : an array over N whole disks of SIZE.
simple() {
	local name=$1 size=$2 n=$3 sizes=()
	shift 3
	for ((i = 0; i < n; i++)); do sizes+=("$size"); done
	new_fixture "$name" "${sizes[@]}"
	run_guest "$name" <<-GUEST
		mkarr /dev/md0 $name $* \$(disks $n)
		fill /dev/md0 $name
		record /dev/md0 $name
	GUEST
	pack "$name"
}

# merge_manifest : folds the entries written by the guests into
# testdata/md/manifest.json (an entry rebuilt now replaces the old one).
merge_manifest() {
	local old=$MD/manifest.json
	[ -s "$old" ] || echo '[]' >"$old"
	shopt -s nullglob
	local new=("$ENTRIES"/*.json)
	shopt -u nullglob
	jq -s '(.[0] + .[1:]) | group_by(.name) | map(last) | sort_by(.kind, .name)' \
		"$old" "${new[@]}" >"$old.tmp"
	mv "$old.tmp" "$old"
}

#!/bin/bash
# md-try-create.sh: does an `mdadm --create` line bring the data back? Runs
# it in the lab on *copies* of the images, the way an operator would try a
# guess on overlays, then activates LVM and runs `e2fsck -fn` on every LV (or
# on the array itself when it holds no PV). Exit 0 only if every fsck is
# clean; the output shows what the kernel assembled and each e2fsck verdict.
#
#   md-try-create.sh [mdadm] --create /dev/mdX ARGS... IMAGE...
#
# IMAGE arguments are image files (.img, or .img.xz which is unpacked) and
# may carry a :pN partition suffix; they are replaced by the guest's devices.
# Made for checking `holmes md solve`'s printed line against the lab fixtures.
. "$(dirname "$0")/md-lib.sh"
[ "${1:-}" = mdadm ] && shift
[ "${1:-}" = --create ] && [ $# -ge 3 ] || { echo "usage: $0 [mdadm] --create /dev/mdX ARGS... IMAGE..." >&2; exit 2; }
shift 2
try=$WORK/try-create
rm -rf "$try" && mkdir -p "$try"
args=() imgs=() letters=abcdefghijklmnopqrstuvwxyz
for arg in "$@"; do
	path=${arg%:p*} part=
	[ "$path" = "$arg" ] || part=${arg##*:p}
	if [ -f "$path" ]; then
		key=$(realpath "$path") idx=-1
		for i in "${!imgs[@]}"; do [ "${imgs[$i]}" = "$key" ] && idx=$i; done
		if [ $idx = -1 ]; then
			idx=${#imgs[@]}
			imgs+=("$key")
			case $path in
			*.xz) xz -dc "$path" | cp --sparse=always /dev/stdin "$try/d$idx.img" ;;
			*) cp --sparse=always "$path" "$try/d$idx.img" ;;
			esac
		fi
		arg=/dev/ubd${letters:$idx:1}$part
	fi
	case $arg in --readonly) continue ;; esac # the array must run for fsck
	args+=("$arg")
done
[ ${#imgs[@]} -gt 0 ] || { echo "md-try-create: no image files among the arguments" >&2; exit 2; }
{
	echo "W=$try; . $LAB/md-guest.sh"
	printf 'set -- '; printf '%q ' "${args[@]}"; echo
	cat <<-'GUEST'
		mdadm --create /dev/md0 --run --assume-clean "$@"
		cat /proc/mdstat
		rc=0
		if pvs /dev/md0 >/dev/null 2>&1; then
			vgchange -q -ay >/dev/null
			vols=$(lvs --noheadings -o lv_path | tr -d ' ')
		else
			vols=/dev/md0
		fi
		for v in $vols; do
			echo "== e2fsck -fn $v"
			e2fsck -fn "$v" && fsck=0 || fsck=$?
			echo "exit $fsck"
			[ $fsck = 0 ] || rc=1
		done
		vgchange -q -an >/dev/null 2>&1 || true
		mdadm --stop /dev/md0 >/dev/null
		exit $rc
	GUEST
} >"$try/guest.sh"
set +e
"$LAB/uml.sh" -m 768M "$try/guest.sh" $(ls "$try"/d*.img | sort -V)
rc=$?
rm -f "$try"/d*.img
exit $rc

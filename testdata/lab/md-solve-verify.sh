#!/bin/bash
# md-solve-verify.sh: closes the loop on holmes md solve with the real
# kernel. For each solve fixture of the md lab (testdata/md, kind "solve"),
# holmes solves fresh copies of the disks; the mdadm --create line it prints
# is run inside user-mode Linux on those copies (never on the fixtures), the
# LVs are activated and every ext filesystem gets e2fsck -fn. The record,
# testdata/mdsolve/verify/NAME.txt, holds the line holmes printed, the
# create's messages and each e2fsck's output and exit status.
#
#   md-solve-verify.sh [NAME...]      default: every solve fixture
set -euo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$LAB/../.." && pwd)
OUT=$ROOT/testdata/mdsolve/verify
mkdir -p "$OUT"
holmes=$(mktemp -d)/holmes
(cd "$ROOT" && go build -o "$holmes" ./cmd/holmes)
names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(jq -r '.[] | select(.kind == "solve") | .name' "$ROOT/testdata/md/manifest.json")
for name in "${names[@]}"; do
	work=$(mktemp -d)
	mapfile -t disks < <(jq -r --arg n "$name" '.[] | select(.name == $n) | .disks[]' "$ROOT/testdata/md/manifest.json")
	imgs=()
	for d in "${disks[@]}"; do
		img=$work/$(basename "$d" .xz)
		xz -dc "$ROOT/testdata/md/$d" >"$img"
		imgs+=("$img")
	done
	line=$(cd "$work" && "$holmes" md solve --json $(printf '%s\n' "${imgs[@]}" | xargs -n1 basename) | jq -r .mdadm_create)
	# Member names become the guest's devices: image i is /dev/ubd<a+i>.
	guest_line=$line
	for i in "${!imgs[@]}"; do
		letter=$(printf "\\x$(printf %x $((97 + i)))")
		guest_line=$(echo "$guest_line" | sed "s#\\b$(basename "${imgs[$i]}")\\b#/dev/ubd$letter#")
	done
	cat >"$work/guest.sh" <<-GUEST
		echo "holmes: $line"
		echo "guest:  $guest_line"
		$guest_line --run 2>&1 || { echo "mdadm --create failed: \$?"; exit 1; }
		# lvm keeps its state under /run (tmpfs), never in the host's /etc/lvm,
		# looks at the array only, and makes device nodes itself (no udev).
		export LVM_SYSTEM_DIR=/run/lvm-verify
		mkdir -p \$LVM_SYSTEM_DIR
		echo 'devices { filter = [ "a|^/dev/md0\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }
		activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
		backup { backup = 0 archive = 0 }' >\$LVM_SYSTEM_DIR/lvm.conf
		vgchange -ay 2>&1 | sed 's/^/lvm: /' || true
		vols=\$(lvs --noheadings -o vg_name,lv_name 2>/dev/null | awk '{print "/dev/" \$1 "/" \$2}')
		[ -n "\$vols" ] || vols=/dev/md0
		for dev in \$vols; do
			echo "== e2fsck -fn \$dev"
			e2fsck -fn "\$dev" 2>&1 && rc=0 || rc=\$?
			echo "exit \$rc"
		done
		vgchange -an >/dev/null 2>&1 || true
		mdadm --stop /dev/md0 >/dev/null 2>&1
	GUEST
	echo "== $name" >&2
	"$LAB/uml.sh" -m 768M "$work/guest.sh" "${imgs[@]}" >"$OUT/$name.txt" 2>&1 || { cat "$OUT/$name.txt" >&2; echo "md-solve-verify: $name failed" >&2; }
	rm -rf "$work"
done

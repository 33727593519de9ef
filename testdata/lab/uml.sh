#!/bin/bash
# uml.sh: run a shell script inside a real Linux kernel (user-mode Linux) with
# image files attached as block devices, so fixtures are made by the kernel's
# own md, dm and filesystem code and by real mdadm/lvm2/e2fsprogs.
#
#   uml.sh [-m MEM] SCRIPT IMG...      IMG number i is /dev/ubd<a+i> inside
#
# The guest sees the host's filesystem (hostfs) read-write, so SCRIPT may
# write records next to itself; it runs as init with /proc, /sys and /dev set
# up and the md/dm modules loaded. Exit status is SCRIPT's.
# Needs Debian's user-mode-linux package (linux.uml and its modules).
set -euo pipefail
mem=512M
if [ "${1:-}" = -m ]; then mem=$2; shift 2; fi
script=$(realpath "$1"); shift
kver=$(ls /usr/lib/uml/modules | sort -V | head -1)
if [ ! -e "/lib/modules/$kver" ]; then
	mkdir -p /lib/modules && ln -sfn "/usr/lib/uml/modules/$kver" "/lib/modules/$kver"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/init" <<INIT
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /run
mkdir -p /run/lvm /run/lock/lvm
for m in md-mod raid0 raid1 raid10 raid456 linear dm-mod dm-mirror dm-snapshot dm-raid dm-thin-pool loop; do modprobe -q \$m; done
cd "$(dirname "$script")"
sh -e "$script" > "$work/out" 2>&1
echo \$? > "$work/rc"
sync
halt -f
INIT
chmod +x "$work/init"
args=()
i=0
for img in "$@"; do args+=("ubd$i=$(realpath "$img")"); i=$((i + 1)); done
linux.uml mem="$mem" root=/dev/root rootfstype=hostfs rootflags=/ rw \
	init="$work/init" con=null con0=null "${args[@]}" </dev/null >"$work/console" 2>&1 || true
cat "$work/out" 2>/dev/null || true
if [ ! -s "$work/rc" ]; then
	echo "uml.sh: the guest did not finish; kernel console:" >&2
	tail -40 "$work/console" >&2
	exit 1
fi
exit "$(cat "$work/rc")"

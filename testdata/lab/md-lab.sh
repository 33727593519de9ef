#!/bin/bash
# md-lab.sh: rebuilds every md fixture under testdata/md from nothing, with
# the real kernel (user-mode Linux, uml.sh) and real mdadm, lvm2, e2fsprogs,
# util-linux and gdisk. Takes about 10 minutes on 2 cores.
#
#   testdata/lab/md-lab.sh            all sets
#   testdata/lab/md-lab.sh pairs ...  only the named sets (examine edge stale wiped pairs
#                                     solve); the manifest keeps the others
#
# Needs (Debian): user-mode-linux mdadm lvm2 e2fsprogs fdisk gdisk drbd-utils
# jq xz-utils diffutils. Array UUIDs are fixed per array name; creation times, device
# UUIDs and LVM/ext UUIDs not given on the command line differ per run.
set -euo pipefail
lab=$(cd "$(dirname "$0")" && pwd)
for tool in linux.uml mdadm lvm mkfs.ext4 sfdisk sgdisk wipefs drbdmeta jq xz cmp; do
	command -v "$tool" >/dev/null || { echo "md-lab: $tool is missing" >&2; exit 1; }
done
sets=("$@")
if [ ${#sets[@]} = 0 ]; then
	sets=(examine edge stale wiped pairs solve)
	# from nothing: old images, records and entries go
	mkdir -p "$lab/../md"
	find "$lab/../md" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf "$lab/work/md"
fi
for set in "${sets[@]}"; do
	echo "md-lab: $set set" >&2
	"$lab/md-$set.sh"
done
du -sh "$lab/../md" >&2

#!/bin/bash
# Makes the ext fixtures of the classes e2fsck reads and a plain reader did
# not (issue 17), each with the real mke2fs and debugfs plus a few bytes
# patched where no tool writes the damage:
#   ext3-oldbackup  old mke2fs backups: s_block_group_nr 0 in every backup
#                   copy, the primary superblock zeroed
#   ext4-baddesc    group 0's inode table moved outside the filesystem in
#                   the primary descriptor table only (set by debugfs on a
#                   copy, that one block copied back)
#   ext4-bigalloc   mke2fs -O bigalloc -C 16384 (4 KiB blocks), and
#   ext4-bigalloc-1k the same with 1 KiB blocks (first data block 0) and
#                   four groups of 1024 clusters (backups in groups 1, 3)
#   ext4-casefold   mke2fs -O casefold -d, casefolded directories
#   ext4-encrypt    the encrypt feature and flag set with debugfs, with an
#                   fscrypt v2 context in each inode (no fscrypt here)
# The tests compare holmes with e2fsck -fy on a copy plus debugfs rdump, live.
# Usage: bash testdata/lab/ext-e2fsck.sh [NAME...]   (default: all)
set -euo pipefail
only=" $* "
selected() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }
out=$(cd "$(dirname "$0")/../ext" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1700000000 TZ=UTC
stamp=202311141313.20

populate() {
	local src=$1
	mkdir -p "$src"/etc/lvm/backup "$src"/home/user/docs "$src"/data "$src"/links
	printf 'guests {\n\tid = "Xq3v1c-0Lz9-8kNn-hYQ5-2lBd-Tn6u-8WbQ0e"\n\tseqno = 12\n}\n' >"$src"/etc/lvm/backup/guests
	echo holmes >"$src"/etc/hostname
	seq 1 60000 >"$src"/home/user/notes.txt
	: >"$src"/home/user/empty
	ln "$src"/home/user/notes.txt "$src"/home/user/docs/notes-link
	python3 - "$src"/data/frag.bin "$src"/data/sparse.bin <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(300):
        f.seek(i * 20480)
        f.write(("fragment %05d\n" % i).encode() * 90)
with open(sys.argv[2], "wb") as f:
    f.write(b"start"); f.seek(3 << 20); f.write(b"three mebibytes in")
PY
	ln -s ../etc/hostname "$src"/links/fast
	ln -s /a/target/that/is/longer/than/the/sixty/bytes/an/inode/holds/inline "$src"/links/slow
	find "$src" -exec touch -h -t $stamp {} +
}

# patch FILE OFFSET HEX: write the bytes HEX at OFFSET.
patch() { printf '%s' "$3" | xxd -r -p | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# sb_group_zero IMG BYTEOFF: s_block_group_nr of the copy at BYTEOFF := 0.
sb_group_zero() { patch "$1" $(($2 + 0x5A)) 0000; }

finish() { xz -T1 -9 -c "$1" >"$out/$(basename "$1").xz"; }

src=$work/src
populate "$src"

if selected ext3-oldbackup; then
	img=$work/ext3-oldbackup.img
	truncate -s 64M "$img"
	mke2fs -q -F -t ext3 -b 1024 -d "$src" "$img"
	for g in 1 3 5 7; do sb_group_zero "$img" $(((g * 8192 + 1) * 1024)); done
	dd if=/dev/zero of="$img" bs=1024 seek=1 count=1 conv=notrunc status=none
	finish "$img"
fi

if selected ext4-baddesc; then
	img=$work/ext4-baddesc.img
	truncate -s 32M "$img"
	mke2fs -q -F -t ext4 -b 1024 -d "$src" "$img"
	cp "$img" "$work/moved.img"
	debugfs -w -R "set_bg 0 inode_table 40000" "$work/moved.img" 2>/dev/null
	dd if="$work/moved.img" of="$img" bs=1024 skip=2 seek=2 count=1 conv=notrunc status=none
	finish "$img"
fi

if selected ext4-bigalloc; then
	img=$work/ext4-bigalloc.img
	truncate -s 64M "$img"
	mke2fs -q -F -t ext4 -b 4096 -O bigalloc -C 16384 -d "$src" "$img"
	finish "$img"
fi

if selected ext4-bigalloc-1k; then
	img=$work/ext4-bigalloc-1k.img
	truncate -s 64M "$img"
	mke2fs -q -F -t ext4 -b 1024 -O bigalloc -C 16384 -g 1024 -d "$src" "$img"
	finish "$img"
fi

if selected ext4-casefold; then
	cf=$work/cf
	cp -a "$src" "$cf"
	mkdir -p "$cf"/ci "$cf"/ci-many
	echo readme >"$cf/ci/Readme.TXT"
	echo street >"$cf/ci/Straße"
	echo ecole >"$cf/ci/ÉCOLE"
	for i in $(seq -w 0 399); do echo "$i" >"$cf/ci-many/Name-$i.Txt"; done
	find "$cf" -exec touch -h -t $stamp {} +
	img=$work/ext4-casefold.img
	truncate -s 32M "$img"
	mke2fs -q -F -t ext4 -b 1024 -O casefold -d "$cf" "$img"
	# +F on the populated directories; e2fsck -D rebuilds ci-many's htree
	# with casefolded hashes, as the kernel would have built it.
	debugfs -w -f - "$img" >/dev/null 2>&1 <<-EOF
		set_inode_field /ci flags 0x40080000
		set_inode_field /ci-many flags 0x40081000
	EOF
	e2fsck -fyD "$img" >/dev/null 2>&1 || [ $? -le 1 ]
	finish "$img"
fi

if selected ext4-encrypt; then
	en=$work/en
	cp -a "$src" "$en"
	mkdir -p "$en"/vault/inner
	# Ciphertext names: 16 or 32 bytes no text would hold, as fscrypt pads.
	python3 - "$en"/vault <<'PY'
import os, sys, random
r = random.Random(17)
def name(n):
    return bytes(r.choice([b for b in range(0x80, 0x100)]) for _ in range(n))
d = os.fsencode(sys.argv[1])
for n, size in ((16, 3000), (32, 20000), (16, 12)):
    with open(os.path.join(d, name(n)), "wb") as f:
        f.write(bytes(r.randrange(256) for _ in range(size)))
with open(os.path.join(d, b"inner", name(16)), "wb") as f:
    f.write(bytes(r.randrange(256) for _ in range(100)))
os.rename(os.path.join(d, b"inner"), os.path.join(d, name(16)))
PY
	find "$en" -exec touch -h -t $stamp {} +
	img=$work/ext4-encrypt.img
	truncate -s 32M "$img"
	mke2fs -q -F -t ext4 -b 1024 -O encrypt -d "$en" "$img"
	# Each inode under /vault gets the context fscrypt v2 would store (the
	# in-inode xattr index 9, name "c": version 2, AES-256-XTS, CTS, a
	# 16-byte key identifier and a per-file nonce), then the encrypt flag.
	# (ls -l: inode first, mode second; "." is the directory itself)
	lsdir() { debugfs -R "ls -l $1" "$img" 2>/dev/null | awk -v k="${2:-}" '$NF != ".." && (k == "" || $NF != ".") && (k != "dirs" || $2 ~ /^40/) {print $1}'; }
	for ino in $(lsdir /vault) $(for d in $(lsdir /vault dirs); do lsdir "<$d>" files; done); do
		loc=$(debugfs -R "imap <$ino>" "$img" 2>/dev/null | sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\).*/\1 \2/p')
		set -- $loc
		off=$(($1 * 1024 + $2 + 128 + 32))
		nonce=$(printf '%032x' "$ino")
		# magic, entry (name_len 1, index 9, value_offs 24, inum 0,
		# size 40, hash 0), name "c" padded, end of entries, value.
		patch "$img" "$off" "000002ea 01 09 1800 00000000 28000000 00000000 63000000 00000000 0201040000000000 000102030405060708090a0b0c0d0e0f $nonce"
		debugfs -w -n -R "set_inode_field <$ino> flags 0x80800" "$img" 2>/dev/null
	done
	finish "$img"
fi

# Runs inside UML (testdata/lab/ext-replay.sh): the real ext4 driver
# commits transactions to the journal of each filesystem, then the device
# starts failing every write before the kernel writes the blocks home or
# unmounts: a power cut after the commit. ubda ext4 (internal journal,
# csum v3 tags), ubdb ext3 (32-bit tags, no checksums), ubdc ext4
# whose journal is the external device ubdd.
echo 0 >/proc/sys/vm/dirty_writeback_centisecs  # no background writeback:
echo 360000 >/proc/sys/vm/dirty_expire_centisecs # the blocks stay in the journal
mkdir -p /mnt/lab
# lab NAME DEV: a dm-linear device over DEV, so it can be made to fail.
lab() { echo "0 $(blockdev --getsz "$2") linear $2 0" | dmsetup create --noudevsync "$1"; dmsetup mknodes "$1"; }
cut() { for d in "$@"; do
	echo "0 $(blockdev --getsz "/dev/mapper/$d") error" | dmsetup reload --noudevsync "$d"
	dmsetup suspend --noudevsync --nolockfs --noflush "$d"
	dmsetup resume --noudevsync "$d"
done; }

# work DIR: the changes, committed by fsync in three transactions.
work() {
	d=$1
	# 1: new tree, changed and renamed files, a directory that 2 removes
	mkdir -p "$d/new/deeper" "$d/doomed"
	seq 1 3000 >"$d/new/deeper/counted.txt"
	echo "written after mkfs" >"$d/new/hello"
	for i in $(seq 1 200); do echo "$i" >"$d/doomed/entry-with-a-long-name-$i"; done
	echo "appended line" >>"$d/etc/hostname"
	mv "$d/home/user/empty" "$d/home/user/renamed"
	ln -s new/hello "$d/hello-link"
	sync "$d/new/hello"
	# 2: the directory goes (its blocks are revoked), a file is truncated
	rm -rf "$d/doomed"
	: >"$d/home/user/notes.txt"
	sync "$d/new/hello"
	# 3: new data, possibly in the blocks freed by 2
	seq 1 20000 >"$d/new/after-revoke.txt"
	rm "$d/data/sparse.bin"
	sync "$d/new/after-revoke.txt"
}

lab int /dev/ubda
mount -t ext4 /dev/mapper/int /mnt/lab
work /mnt/lab
cut int
umount /mnt/lab 2>/dev/null || true

lab e3 /dev/ubdb
mount -t ext3 /dev/mapper/e3 /mnt/lab
work /mnt/lab
cut e3
umount /mnt/lab 2>/dev/null || true

lab ext /dev/ubdc
lab jdev /dev/ubdd
export E2FSPROGS_FAKE_TIME=1700000000
mke2fs -q -F -O journal_dev -b 4096 /dev/mapper/jdev
mke2fs -q -F -t ext4 -b 4096 -J device=/dev/mapper/jdev /dev/mapper/ext
mount -t ext4 -o journal_path=/dev/mapper/jdev /dev/mapper/ext /mnt/lab
cp -a .replay-src/. /mnt/lab/ # mke2fs -d cannot read hostfs's attributes
umount /mnt/lab
mount -t ext4 -o journal_path=/dev/mapper/jdev /dev/mapper/ext /mnt/lab
work /mnt/lab
cut ext jdev
umount /mnt/lab 2>/dev/null || true

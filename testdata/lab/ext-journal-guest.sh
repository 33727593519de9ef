# Runs inside UML (testdata/lab/uml.sh): the real ext3 driver adds to the
# root directory, so the journal logs copies of its block.
mount -t ext3 /dev/ubda /mnt
mkdir /mnt/srv
echo "served" >/mnt/srv/index.html
touch /mnt/newfile
sync
umount /mnt

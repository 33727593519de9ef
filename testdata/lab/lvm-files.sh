# lvm-files.sh: guest-side helpers for the LVM labs (sourced by
# lvm-thin-guest.sh and lvm-layers-guest.sh); $rec is the record directory.

# text FILE SIZE : numbered 64-byte lines naming FILE, cut to SIZE bytes, so a
# block read from the wrong place says where it belongs.
text() { seq -f "$1 line %039.0f...................." 1 $(($2 / 64 + 1)) | head -c "$2" >"$1"; }
# tree DIR NAME : a small tree of files around block and chunk boundaries.
tree() {
	mkdir -p "$1/d/e/f"
	for s in 0 1 4095 4097 65537 200000 700000; do text "$1/f$s" $s; done
	echo "$2: a thin volume of the holmes thin lab" >"$1/README"
	text "$1/d/e/f/deep.txt" 5000
	ln -s f4097 "$1/link"
}
# sums LABEL : every regular file under /mnt/a with its sha256, as the kernel reads it.
sums() { (cd /mnt/a && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$rec/files-$1.sha256"; }

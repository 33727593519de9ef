#!/bin/bash
# Extraction speed: holmes ext extract vs debugfs -R "dump ..." on the same
# page-cached image, in one run. Prints both rates and their ratio.
# The image and both outputs live in /dev/shm when it exists, so the run
# measures reading the filesystem, not the disk's write speed.
# Usage: bash bench/ext-extract.sh [SIZE_MIB]   (default 512)
set -euo pipefail
size=${1:-512}
cd "$(dirname "$0")/.."
. bench/lib.sh
mkdir "$work/src"
# Incompressible data, so neither side can cheat on zeros.
head -c "${size}M" /dev/urandom >"$work/src/big.bin"
truncate -s $((size + size / 4 + 64))M "$work/fs.img"
mke2fs -q -F -t ext4 -d "$work/src" "$work/fs.img"
rm "$work/src/big.bin"
cat "$work/fs.img" >/dev/null # page cache

rate() { awk -v b=$((size * 1048576)) -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }

h=$(secs "$work/holmes" ext extract "$work/fs.img" /big.bin "$work/out-holmes")
d=$(secs debugfs -R "dump /big.bin $work/out-debugfs" "$work/fs.img")
cmp "$work/out-holmes/big.bin" "$work/out-debugfs"
echo "file: ${size} MiB from a page-cached ext4 image (outputs identical)"
echo "holmes ext extract : ${h}s  $(rate "$h") MB/s"
echo "debugfs dump       : ${d}s  $(rate "$d") MB/s"
awk -v h="$h" -v d="$d" 'BEGIN { printf "ratio (debugfs time / holmes time): %.2fx\n", d / h }'

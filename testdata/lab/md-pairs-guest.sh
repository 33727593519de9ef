# md-pairs-guest.sh: guest half of md-pairs.sh.
r10_roles="$(D 3) $(D 0) $(D 5) $(D 1) $(D 4) $(D 2)"  # pairs (d3,d0) (d5,d1) (d4,d2)
r10_again="$(disks 6)"                                  # re-created: (d0,d1) (d2,d3) (d4,d5)
r1_roles="$(D 6) $(D 7)"
r1_again="$(D 7) $(D 6)"
# shellcheck disable=SC2086
mkarr /dev/md0 pairs-r10 --level=10 --layout=n2 --chunk=64 --raid-devices=6 --metadata=1.2 --data-offset=1M $r10_roles
# shellcheck disable=SC2086
mkarr /dev/md1 pairs-r1 --level=1 --raid-devices=2 --metadata=0.90 $r1_roles
mkarr /dev/md2 pairs-lone --level=1 --raid-devices=2 --metadata=1.2 $(D 8) missing
fill /dev/md0 pairs-r10
fill /dev/md1 pairs-r1
fill /dev/md2 pairs-lone
sha256sum /dev/md0 /dev/md1 >"$MD/$FIX/original.sha256"
mdadm --stop /dev/md0 /dev/md1 /dev/md2 >/dev/null
awk 'BEGIN { for (i = 0; i < 16384; i++) printf "%-511s\n", sprintf("pairs-raw sector %010d", i) }' |
	dd of="$(D 9)" bs=1M iflag=fullblock oflag=direct status=none

# Behind the partners' backs: only d3, d5, d4 (one half of each raid10 pair)
# and d6 run; the writes land in chunk 0 (pair d3/d0) at 8 KiB and chunk 1
# (pair d5/d1) at 64 KiB + 20 KiB of the array; the raid1 at 4 KiB.
behind() { # DEV OFFSET-KiB COUNT-KiB LABEL
	awk -v n=$(($3 * 2)) -v label="$4" 'BEGIN { for (i = 0; i < n; i++) printf "%-511s\n", sprintf("%s behind-back write %06d", label, i) }' |
		dd of="$1" bs=1K seek="$2" iflag=fullblock oflag=direct status=none
}
mdadm --assemble --run /dev/md0 $(D 3) $(D 5) $(D 4) >/dev/null 2>&1
mdadm --assemble --run /dev/md1 $(D 6) >/dev/null 2>&1
cat /proc/mdstat
behind /dev/md0 8 12 pairs-r10
behind /dev/md0 84 40 pairs-r10
behind /dev/md1 4 3 pairs-r1
mdadm --stop /dev/md0 /dev/md1 >/dev/null

# The installer's re-create: same geometry, other member order.
# shellcheck disable=SC2086
mkarr /dev/md0 pairs-r10 --level=10 --layout=n2 --chunk=64 --raid-devices=6 --metadata=1.2 --data-offset=1M $r10_again
# shellcheck disable=SC2086
mkarr /dev/md1 pairs-r1 --level=1 --raid-devices=2 --metadata=0.90 $r1_again
comp10=$(($(cat /sys/block/md0/md/component_size) * 1024))
off10=$(($(cat /sys/block/md0/md/dev-ubda/offset) * 512))
comp1=$(($(cat /sys/block/md1/md/component_size) * 1024))
mdadm --detail /dev/md0 >"$MD/$FIX/r10.recreated.detail.txt"
mdadm --detail /dev/md1 >"$MD/$FIX/r1.recreated.detail.txt"
mdadm --stop /dev/md0 /dev/md1 >/dev/null

# shellcheck disable=SC2046
exam=$(examine_all "$FIX" $(disks 10))
r() { ref "$1"; }
cat >"$W/cmp-ranges" <<RANGES
$(r "$(D 3)") $(r "$(D 0)") $off10 $comp10
$(r "$(D 5)") $(r "$(D 1)") $off10 $comp10
$(r "$(D 4)") $(r "$(D 2)") $off10 $comp10
$(r "$(D 6)") $(r "$(D 7)") 0 $comp1
RANGES
jq -n --arg name "$FIX" --argjson exam "$exam" \
	--argjson disks "$(for i in 0 1 2 3 4 5 6 7 8 9; do r "$(D $i)"; done | jq -Rn '[inputs]')" \
	--argjson pairs "$(awk '{ print $1; print $2 }' "$W/cmp-ranges" | jq -Rn '[inputs] | [_nwise(2)]')" \
	--argjson unpaired "$(printf '%s\n' "$(r "$(D 8)")" "$(r "$(D 9)")" | jq -Rn '[inputs]')" \
	--argjson create "$(jq -Rn '[inputs]' <"$MD/$FIX/create.txt")" \
	'{name: $name, kind: "pairs", disks: $disks, examine: $exam, pairs: $pairs, unpaired: $unpaired,
	  create: $create,
	  contents: "d0..d5: raid10 n2 1.2 (chunk 64K, data offset 1M), filled with sector text; d6+d7: raid1 0.90; d8: lone member of a degraded raid1 (other text); d9: plain sector text, no md metadata",
	  notes: "true pairs are by content (the original roles); the superblocks were re-created in another order and pair d0/d1, d2/d3, d4/d5, d7/d6. One half of each of the first two raid10 pairs and of the raid1 got writes the partner did not (array offsets 8K+12K, 84K+40K; raid1 4K+3K); pair d4/d2 differs only in md metadata. cmp first_diff is the absolute device offset (cmp byte number - 1 + start); start/length is the md data area"}' \
	>"$ENTRIES/$FIX.json"
echo "recorded $FIX"

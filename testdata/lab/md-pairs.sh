#!/bin/bash
# md-pairs.sh: the pairs set (issue 3). Ten disks: a raid10 near-2 (1.2) over
# d0..d5 created in a shuffled role order, a raid1 (0.90, metadata at the end)
# over d6+d7, a lone member of another array (d8) and a disk of plain text
# without md metadata (d9). After filling, one half of each mirror is
# assembled without its partner and written to near the start; then both
# arrays are re-created with `mdadm --create --assume-clean` in another member
# order, so the superblocks name the wrong partners while the data stays put.
# The true pairs and `cmp` over each pair's md data area are recorded.
. "$(dirname "$0")/md-lib.sh"
name=pairs
new_fixture $name 8M 8M 8M 8M 8M 8M 8M 8M 8M 8M
run_guest $name pairs <<-'GUEST'
	. "$LAB/md-pairs-guest.sh"
GUEST

# cmp over each true pair's data area, on the uncompressed images (host).
cmps=()
while read -r a b start len; do
	pa=$WORK/$name/${a#*/}; pa=${pa%.xz}
	pb=$WORK/$name/${b#*/}; pb=${pb%.xz}
	diff=$(cmp -l -i "$start" -n "$len" "$pa" "$pb" | wc -l || true)
	first=$(cmp -i "$start" -n "$len" "$pa" "$pb" | sed -n 's/.* differ: byte \([0-9]*\),.*/\1/p' || true)
	cmps+=("$(jq -cn --arg a "$a" --arg b "$b" --argjson s "$start" --argjson l "$len" \
		--argjson d "$diff" --arg f "$first" \
		'{a: $a, b: $b, start: $s, length: $l,
		  first_diff: (if $f == "" then null else ($f | tonumber) - 1 + $s end),
		  diff_bytes: $d,
		  cmp: "cmp -l -i \($s) -n \($l) A B | wc -l"}')")
done <"$WORK/$name/cmp-ranges"
jq --argjson cmp "$(printf '%s\n' "${cmps[@]}" | jq -s -c .)" '. + {cmp: $cmp}' \
	"$ENTRIES/$name.json" >"$ENTRIES/$name.json.tmp"
mv "$ENTRIES/$name.json.tmp" "$ENTRIES/$name.json"
pack $name
merge_manifest

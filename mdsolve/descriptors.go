package mdsolve

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"holmes/blockdev"
)

// Group descriptor tables as anchors. Each ext superblock copy is followed
// by a copy of the filesystem's group descriptor table, whose blocks say by
// their content (descriptor checksums and bitmap locations) which block of
// the table they are. In a big filesystem, or with small chunks, the table
// runs over several chunks, so each of its blocks places another member.

// Limits of the descriptor search: the superblock copies searched beside
// (the first found), and the part of a table looked for (its first blocks).
const (
	maxDescriptorSearches = 4
	maxDescriptorSpan     = 1 << 20
)

// findDescriptorTables reads, on every member, the stretch where the table
// beside each of the first superblock copies must lie under any parity
// geometry of these members, and notes each block that proves to be one
// of that table. Where a block could also be another copy's (copies close
// together on the members) or another filesystem's, it is left out.
func (s *memberScan) findDescriptorTables(devs []blockdev.Device) error {
	n := int64(len(devs))
	// Array bytes dx past a structure at member offset o lie within 2
	// chunks of o + dx/d on the members, d being the data chunks per
	// stripe (n-1 for raid4/5, n-2 for raid6).
	ddMin, ddMax := max(1, n-2), max(1, n-1)
	sizes := chunkSizes()
	c := sizes[len(sizes)-1]
	around := func(o, dx0, dx1 int64) (int64, int64) {
		return o + min(dx0/ddMin, dx0/ddMax) - 2*c, o + max(dx1/ddMin, dx1/ddMax) + 2*c
	}
	type copyKey struct {
		fs    string
		group uint32
	}
	searched := map[copyKey]bool{}
	claims := map[[2]int64][]anchor{} // (member, offset) -> what is seen there
	buf := make([]byte, 1<<20)
	for _, cp := range s.extCopies {
		sb := cp.sb
		g := uint32(sb.BlockGroupNr)
		key := copyKey{sb.UUIDString(), g}
		if searched[key] || len(searched) >= maxDescriptorSearches {
			continue
		}
		tableAt, blocks, ok := sb.DescriptorTable(g)
		if !ok || sb.BlockSize() > sampleSize {
			continue
		}
		searched[key] = true
		bs := int64(sb.BlockSize())
		span := min(int64(blocks), maxDescriptorSpan/bs) * bs
		sbAt := extCopyOffset(g, sb.FirstDataBlock, sb.BlocksPerGroup, sb.BlockSize())
		lo, hi := around(cp.offset, tableAt-sbAt, tableAt+span-sbAt)
		// Where the other copies' tables may lie near this one.
		type stretch struct{ lo, hi int64 }
		var others []stretch
		for _, off := range append([]int64{0}, sb.BackupOffsets()...) {
			og := uint32(0)
			if off > 0 {
				og = uint32((off/bs - int64(sb.FirstDataBlock)) / int64(sb.BlocksPerGroup))
			}
			if og == g {
				continue
			}
			t, _, _ := sb.DescriptorTable(og)
			if olo, ohi := around(cp.offset, t-sbAt, t+span-sbAt); olo < hi && ohi > lo {
				others = append(others, stretch{olo, ohi})
			}
		}
		// Blocks of the table are block-aligned in the filesystem, so on
		// the members too (chunks are whole blocks).
		align := ((cp.offset-sbAt)%bs + bs) % bs
		lo = max(lo, 0)
		lo += ((align-lo)%bs + bs) % bs
		for m, d := range devs {
			for pos := lo; pos < min(hi, d.Size()); pos += int64(len(buf)) {
				k := int(min(int64(len(buf)), hi-pos, d.Size()-pos))
				if _, err := blockdev.ReadAround(d, buf[:k], pos); err != nil {
					return fmt.Errorf("%s: reading at %d: %w", d.Name(), pos, err)
				}
				for off := 0; off+int(bs) <= k; off += int(bs) {
					at := pos + int64(off)
					j, ok := sb.ProbeDescriptorBlock(buf[off : off+int(bs)])
					if !ok || int64(j)*bs >= span {
						continue
					}
					near := false
					for _, o := range others {
						near = near || at >= o.lo && at < o.hi
					}
					if near {
						continue
					}
					k := [2]int64{int64(m), at}
					claims[k] = append(claims[k], anchor{what: fmt.Sprintf("ext group descriptor block %d (copy of group %d)", j, g),
						offset: at, fs: sb.UUIDString(), at: tableAt + int64(j)*bs})
				}
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(claims), func(a, b [2]int64) int { return cmp.Or(cmp.Compare(a[1], b[1]), cmp.Compare(a[0], b[0])) })
	for _, k := range keys {
		if seen := claims[k]; len(seen) == 1 {
			s.addAnchor(seen[0], int(k[0]))
		}
	}
	return nil
}

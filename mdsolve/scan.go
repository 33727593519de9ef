package mdsolve

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// sighting is a structure found on a member at a byte offset: where it
// sits in an array is known (a PV label in sector 1, an ext primary
// superblock at 1024), so each sighting proposes a data offset.
type sighting struct {
	member  int
	offset  int64  // on the member
	kind    string // "lvm-label", "ext-primary", "mbr"
	arrayAt int64  // where the structure sits in the array it belongs to
	extUUID string
}

// memberScan is what the start of each member shows.
type memberScan struct {
	sightings   []sighting
	superblocks [][]*mdraid.Superblock // per member: md superblocks found (evidence, not truth)
	extUUIDs    map[string]bool        // every ext filesystem seen anywhere in the windows
	// dataBlocks are offsets of 4 KiB blocks holding data on some member
	// (every stride-th one seen), where sampling tells mirrors and parity
	// apart even on mostly empty arrays.
	dataBlocks []int64
}

// maxDataBlocks bounds the data block offsets kept from the scan.
const maxDataBlocks = 4096

// scanMembers reads the start of every member in 1 MiB reads, the members
// in turn, and notes LVM labels, ext superblocks and blocks holding data;
// md superblocks are read where md keeps them. The scan ends at window
// bytes, or earlier: once something marks an array's start at data offset
// D and scanMargin bytes past D have been read on every member with enough
// data seen there to sample, more of the members would add nothing.
func scanMembers(devs []blockdev.Device, window int64) (*memberScan, error) {
	s := &memberScan{superblocks: make([][]*mdraid.Superblock, len(devs)), extUUIDs: map[string]bool{}}
	const block = 1 << 20
	buf := make([]byte, block+4096) // overlap so a structure across reads is seen whole
	var end int64
	for m, d := range devs {
		sbs, err := mdraid.Examine(d, d.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: md superblocks: %w", d.Name(), err)
		}
		s.superblocks[m] = sbs
		end = max(end, min(window, d.Size()))
	}
	for pos := int64(0); pos < end; pos += block {
		for m, d := range devs {
			if pos >= d.Size() {
				continue
			}
			n, err := d.ReadAt(buf[:min(int64(len(buf)), d.Size()-pos)], pos)
			if err != nil && err != io.EOF {
				return nil, fmt.Errorf("%s: reading at %d: %w", d.Name(), pos, err)
			}
			s.scanBlock(m, pos, buf[:n], min(int64(n), block))
			s.noteData(pos, buf[:min(int64(n), block)])
		}
		if s.seenEnough(pos + block) {
			break
		}
	}
	sort.Slice(s.dataBlocks, func(i, j int) bool { return s.dataBlocks[i] < s.dataBlocks[j] })
	s.dataBlocks = slices.Compact(s.dataBlocks)
	return s, nil
}

// scanMargin is how far past the first data offset the scan reads at least.
const scanMargin = 32 << 20

// seenEnough says whether the members' first scanned bytes already show
// an array's start and enough data past it to sample.
func (s *memberScan) seenEnough(scanned int64) bool {
	first := int64(-1)
	for _, g := range s.sightings {
		if d := g.offset - g.arrayAt; d >= 0 && (first < 0 || d < first) {
			first = d
		}
	}
	if first < 0 || scanned < first+scanMargin {
		return false
	}
	past := 0
	for _, o := range s.dataBlocks {
		if o >= first+sampleStartGap {
			past++
		}
	}
	return past >= 64
}

// scanBlock looks at the sectors starting in b[:limit] (b may run further,
// so structures starting near the end are read whole).
func (s *memberScan) scanBlock(m int, base int64, b []byte, limit int64) {
	for off := int64(0); off < limit; off += 512 {
		sec := b[off:]
		if len(sec) < 512 {
			return
		}
		// The label records its own sector number (0-3).
		if n, ok := lvmmeta.ProbeLabel(sec); ok && n < 4 {
			s.sightings = append(s.sightings, sighting{member: m, offset: base + off, kind: "lvm-label", arrayAt: int64(n) * 512})
		}
		if off%1024 == 0 && len(sec) >= 1024 && ext.ProbeSuperblock(sec) {
			sb, err := ext.ReadSuperblock(bytes.NewReader(sec[:1024]), 0)
			if err != nil {
				continue
			}
			s.extUUIDs[sb.UUIDString()] = true
			if sb.BlockGroupNr == 0 {
				s.sightings = append(s.sightings, sighting{member: m, offset: base + off, kind: "ext-primary", arrayAt: 1024, extUUID: sb.UUIDString()})
			}
		}
	}
}

// dataOffsets proposes data offsets: for each sighting, the offset that
// puts it where it belongs at the start of an array, plus the data offsets
// recorded in md superblocks. Sightings count as votes.
func (s *memberScan) dataOffsets() []int64 {
	votes := map[int64]int{}
	for _, g := range s.sightings {
		if d := g.offset - g.arrayAt; d >= 0 {
			votes[d] += sightingWeight[g.kind]
		}
	}
	for _, sbs := range s.superblocks {
		for _, sb := range sbs {
			votes[sb.DataOffset] = max(votes[sb.DataOffset], 1)
		}
	}
	return rankedKeys(votes)
}

// sightingWeight: a PV label is where an array almost always starts; an
// ext primary superblock may as well be inside a logical volume.
var sightingWeight = map[string]int{"lvm-label": 10, "ext-primary": 3}

// at returns the sightings on member offset off.
func (s *memberScan) at(d int64) []sighting {
	var out []sighting
	for _, g := range s.sightings {
		if g.offset-g.arrayAt == d {
			out = append(out, g)
		}
	}
	return out
}

// rankedKeys returns the keys by descending votes (ties: smaller first).
func rankedKeys(votes map[int64]int) []int64 {
	keys := make([]int64, 0, len(votes))
	for k := range votes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if votes[keys[i]] != votes[keys[j]] {
			return votes[keys[i]] > votes[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// noteData remembers where 4 KiB blocks hold data, thinning the list
// (every other entry dropped) whenever it fills up.
func (s *memberScan) noteData(base int64, b []byte) {
	for off := 0; off+sampleSize <= len(b); off += sampleSize {
		if isZero(b[off : off+sampleSize]) {
			continue
		}
		if len(s.dataBlocks) >= maxDataBlocks {
			sort.Slice(s.dataBlocks, func(i, j int) bool { return s.dataBlocks[i] < s.dataBlocks[j] })
			s.dataBlocks = slices.Compact(s.dataBlocks)
			for i := range len(s.dataBlocks) / 2 {
				s.dataBlocks[i] = s.dataBlocks[2*i]
			}
			s.dataBlocks = s.dataBlocks[:len(s.dataBlocks)/2]
		}
		s.dataBlocks = append(s.dataBlocks, base+int64(off))
	}
}

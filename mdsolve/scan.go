package mdsolve

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

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
	anchors    []anchor
	// volumeStarts are array offsets where volumes start: LVs, from every
	// LVM metadata text carved whole from the members, and partitions of a
	// partition table at the array's start. Filesystems start there.
	volumeStarts []int64
	// carvedVGs are the LVM metadata texts found whole on the members:
	// where a PV's metadata area header is gone (an installer's md
	// superblock at 4 KiB lands on it), its texts still say which LVs it held.
	carvedVGs []*lvmmeta.VG
	// extCopies are the ext superblock copies found, whose descriptor
	// tables are looked for beside them once the scan is done.
	extCopies []extCopy
}

// extCopy is an ext superblock copy found on member at offset.
type extCopy struct {
	sb     *ext.Superblock
	member int
	offset int64
}

// maxExtCopies bounds the superblock copies kept for the descriptor search.
const maxExtCopies = 64

// maxCarvedVGs bounds the carved metadata versions kept.
const maxCarvedVGs = 256

// carvedVG is the newest carved metadata of a VG that lists PV pvUUID.
func (s *memberScan) carvedVG(pvUUID string) *lvmmeta.VG {
	var best *lvmmeta.VG
	for _, vg := range s.carvedVGs {
		if best != nil && vg.Seqno <= best.Seqno {
			continue
		}
		for _, pv := range vg.PVs {
			if pv.ID == pvUUID {
				best = vg
				break
			}
		}
	}
	return best
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
	var scanned int64
	for pos := int64(0); pos < end; pos += block {
		for m, d := range devs {
			if pos >= d.Size() {
				continue
			}
			// Bytes a device lacks (a ddrescue gap, a region a collect
			// archive did not keep) hold nothing to find: read around them.
			n := int(min(int64(len(buf)), d.Size()-pos))
			if _, err := blockdev.ReadAround(d, buf[:n], pos); err != nil {
				return nil, fmt.Errorf("%s: reading at %d: %w", d.Name(), pos, err)
			}
			s.scanBlock(m, pos, buf[:n], min(int64(n), block))
			s.noteData(pos, buf[:min(int64(n), block)])
		}
		if scanned = pos + block; s.seenEnough(scanned) {
			break
		}
	}
	sort.Slice(s.dataBlocks, func(i, j int) bool { return s.dataBlocks[i] < s.dataBlocks[j] })
	s.dataBlocks = slices.Compact(s.dataBlocks)
	if err := s.scanTails(devs, scanned); err != nil {
		return nil, err
	}
	s.placeMetadataAreas(devs)
	if err := s.findDescriptorTables(devs); err != nil {
		return nil, err
	}
	if err := s.carveLVStarts(devs); err != nil {
		return nil, err
	}
	return s, nil
}

// carveLVStarts finds the LVM metadata texts lying whole on one member
// (any seqno: the start of an LV does not move when others are added) near
// the PV labels, and notes where each LV's first segment starts.
func (s *memberScan) carveLVStarts(devs []blockdev.Device) error {
	end := int64(-1)
	for _, a := range s.anchors {
		if a.what == "PV label" {
			end = max(end, a.offset+carveSpan)
		}
	}
	if end < 0 {
		return nil
	}
	c := lvmmeta.NewCarver()
	for _, d := range devs {
		head, err := blockdev.Slice(d, 0, min(end, d.Size()), d.Name())
		if err != nil {
			return err
		}
		if err := c.Scan(head, head.Size(), d.Name()); err != nil {
			return err
		}
	}
	for _, cv := range c.Results() {
		if !cv.Complete {
			continue
		}
		vg, err := lvmmeta.ParseText(cv.Section)
		if err != nil {
			continue
		}
		if len(s.carvedVGs) < maxCarvedVGs {
			s.carvedVGs = append(s.carvedVGs, vg)
		}
		for _, lv := range vg.LVs {
			if len(lv.Segments) == 0 || len(lv.Segments[0].Stripes) == 0 {
				continue
			}
			if at := lv.Segments[0].Stripes[0].Offset; !slices.Contains(s.volumeStarts, at) && len(s.volumeStarts) < maxVolumeStarts {
				s.volumeStarts = append(s.volumeStarts, at)
			}
		}
	}
	slices.Sort(s.volumeStarts)
	return nil
}

// carveSpan is how far past a PV label LVM metadata texts are looked for
// (the metadata area, 1 MiB by default, spread over the members).
const carveSpan = 2 << 20

// maxVolumeStarts bounds the volume starts kept.
const maxVolumeStarts = 256

// placeMetadataAreas gives the LVM metadata area headers found their array
// offset, from the PV label that lists the area (a label sits whole in one
// chunk); headers no label places are dropped.
func (s *memberScan) placeMetadataAreas(devs []blockdev.Device) {
	at := int64(-1)
	for _, a := range s.anchors {
		if a.what != "PV label" {
			continue
		}
		d := devs[a.holders[0]]
		start := a.offset - a.at
		pv, err := blockdev.Slice(d, start, d.Size()-start, d.Name())
		if err != nil {
			continue
		}
		if l, err := lvmmeta.ReadLabel(pv, pv.Size()); err == nil && len(l.MetadataAreas) > 0 {
			at = l.MetadataAreas[0].Offset
			break
		}
	}
	kept := s.anchors[:0]
	for _, a := range s.anchors {
		if a.at == -1 {
			if at < 0 {
				continue
			}
			a.at = at
		}
		kept = append(kept, a)
	}
	s.anchors = kept
}

// extCopyAnchor names the anchors of ext superblock copies.
const extCopyAnchor = "ext superblock copy of group"

// noteGPTHeader notes a GPT header (primary or backup) in sec as an
// anchor at the array offset it records for itself.
func (s *memberScan) noteGPTHeader(m int, offset int64, sec []byte) {
	if !bytes.HasPrefix(sec, []byte("EFI PART")) {
		return
	}
	if at, ok := blockdev.ProbeGPTHeader(sec); ok {
		what := "GPT header"
		if at > 4096 {
			what = "GPT backup header"
		}
		s.addAnchor(anchor{what: what, offset: offset, at: at}, m)
	}
}

// tailSpan is how much of each member's end is searched for a GPT backup
// header, which sits in an array's last sector: in the last chunk of some
// member (4 MiB at most), before the room md 1.0 keeps for its superblock.
const tailSpan = 8 << 20

// scanTails looks for GPT backup headers at the members' ends, past what
// the scan read (scanned bytes from the start).
func (s *memberScan) scanTails(devs []blockdev.Device, scanned int64) error {
	buf := make([]byte, tailSpan)
	for m, d := range devs {
		from := max(scanned, d.Size()-tailSpan)
		if from >= d.Size() {
			continue
		}
		n := int(d.Size() - from)
		if _, err := blockdev.ReadAround(d, buf[:n], from); err != nil {
			return fmt.Errorf("%s: reading at %d: %w", d.Name(), from, err)
		}
		for off := 0; off+512 <= n; off += 512 {
			s.noteGPTHeader(m, from+int64(off), buf[off:off+512])
		}
	}
	return nil
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
			s.addAnchor(anchor{what: "PV label", offset: base + off, at: int64(n) * 512}, m)
		}
		if starts, ok := blockdev.ProbeMBR(sec); ok {
			s.addAnchor(anchor{what: "partition table", offset: base + off, at: 0}, m)
			for _, st := range starts {
				if !slices.Contains(s.volumeStarts, st) && len(s.volumeStarts) < maxVolumeStarts {
					s.volumeStarts = append(s.volumeStarts, st)
				}
			}
		}
		s.noteGPTHeader(m, base+off, sec)
		if lvmmeta.ProbeMDAHeader(sec) {
			s.addAnchor(anchor{what: "LVM metadata area header", offset: base + off, at: -1}, m)
		}
		if off%1024 == 0 && len(sec) >= 1024 && ext.ProbeSuperblock(sec) {
			sb, err := ext.ReadSuperblock(bytes.NewReader(sec[:1024]), 0)
			if err != nil {
				continue
			}
			s.extUUIDs[sb.UUIDString()] = true
			if len(s.extCopies) < maxExtCopies {
				s.extCopies = append(s.extCopies, extCopy{sb: sb, member: m, offset: base + off})
			}
			s.addAnchor(anchor{what: fmt.Sprintf("%s %d", extCopyAnchor, sb.BlockGroupNr), offset: base + off,
				fs: sb.UUIDString(), at: extCopyOffset(uint32(sb.BlockGroupNr), sb.FirstDataBlock, sb.BlocksPerGroup, sb.BlockSize())}, m)
			if sb.BlockGroupNr == 0 {
				s.sightings = append(s.sightings, sighting{member: m, offset: base + off, kind: "ext-primary", arrayAt: 1024, extUUID: sb.UUIDString()})
			}
		}
	}
}

// dataOffsets proposes data offsets, most votes first: for each sighting,
// the offset that puts it where it belongs at the start of an array; for
// each ext backup superblock, the offset that puts its filesystem's start
// there (a filesystem whose primary was overwritten, on a mirror); the
// data offsets recorded in md superblocks, which may be an installer's.
// Every offset a PV label or md superblock proposes is kept, the others
// up to maxDataOffsets in all.
func (s *memberScan) dataOffsets() []int64 {
	votes := map[int64]int{}
	keep := map[int64]bool{}
	for _, g := range s.sightings {
		if d := g.offset - g.arrayAt; d >= 0 {
			votes[d] += sightingWeight[g.kind]
			keep[d] = keep[d] || g.kind == "lvm-label"
		}
	}
	for _, a := range s.anchors {
		// Only superblock copies: a descriptor table block in another
		// chunk than its superblock would vote for no offset at all.
		if d := a.offset - a.at; strings.HasPrefix(a.what, extCopyAnchor) && a.at != 1024 && d >= 0 {
			votes[d] += sightingWeight["ext-backup"] * len(a.holders)
		}
	}
	for _, sbs := range s.superblocks {
		for _, sb := range sbs {
			votes[sb.DataOffset] = max(votes[sb.DataOffset], 1)
			keep[sb.DataOffset] = true
		}
	}
	var out []int64
	for _, d := range rankedKeys(votes) {
		if len(out) < maxDataOffsets || keep[d] && len(out) < maxKeptDataOffsets {
			out = append(out, d)
		}
	}
	return out
}

// maxDataOffsets bounds the data offsets tried besides those a PV label or
// an md superblock proposes (each offset multiplies the candidates), and
// maxKeptDataOffsets all of them (a crafted member may hold a PV label in
// every sector).
const (
	maxDataOffsets     = 4
	maxKeptDataOffsets = 12
)

// sightingWeight: a PV label is where an array almost always starts; an
// ext primary superblock may as well be inside a logical volume, and a
// backup places a filesystem that starts the array only on a mirror.
var sightingWeight = map[string]int{"lvm-label": 10, "ext-primary": 3, "ext-backup": 2}

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

// blocksBesideSuperblocks: the data blocks seen, but those where a member
// keeps an md superblock (each member's differs).
func (s *memberScan) blocksBesideSuperblocks() []int64 {
	var out []int64
	for _, o := range s.dataBlocks {
		if !slices.ContainsFunc(s.superblocks, func(sbs []*mdraid.Superblock) bool {
			return slices.ContainsFunc(sbs, func(sb *mdraid.Superblock) bool { return sb.Offset/sampleSize == o/sampleSize })
		}) {
			out = append(out, o)
		}
	}
	return out
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

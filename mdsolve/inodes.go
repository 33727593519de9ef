package mdsolve

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"holmes/blockdev"
	"holmes/ext"
)

// Inode tables as anchors. With metadata_csum (ext4's default) an inode's
// checksum names its inode number (ext.InodeNumbers), and the group
// descriptors found beside a superblock copy say where each group's inode
// table starts: so inode-table bytes found on a member sit at a known place
// in their filesystem, which places that member wherever a filesystem's
// inodes lie (past its first chunks, in every group the files use).

// Limits: the 4 KiB blocks that look like inodes kept from the scan
// (thinned, so they spread over the window), and the anchors kept per
// filesystem.
const (
	maxInodeCandidates = 4096
	maxInodeAnchors    = 256
)

// inodeTableAnchor names the anchors of inode-table bytes.
const inodeTableAnchor = "ext inode table"

func isInodeAnchor(a anchor) bool { return strings.HasPrefix(a.what, inodeTableAnchor) }

// fsInodeTables is what the descriptor blocks found say of one filesystem:
// the first block of each group's inode table, 0 where copies disagree.
type fsInodeTables struct {
	sb     *ext.Superblock
	tables map[uint32]uint64
}

// noteInodeTables records the inode tables that a descriptor block of sb's
// filesystem places, the first for group first.
func (s *memberScan) noteInodeTables(sb *ext.Superblock, first uint32, tables []uint64) {
	if s.inodeTables == nil {
		s.inodeTables = map[string]*fsInodeTables{}
	}
	t := s.inodeTables[sb.UUIDString()]
	if t == nil {
		t = &fsInodeTables{sb: sb, tables: map[uint32]uint64{}}
		s.inodeTables[sb.UUIDString()] = t
	}
	for i, block := range tables {
		g := first + uint32(i)
		if old, ok := t.tables[g]; ok && old != block {
			block = 0
		}
		t.tables[g] = block
	}
}

// looksLikeInode is the scan's cheap test of 256 bytes: the size of a
// large inode's extra fields as the kernel and mke2fs write them, and a
// file type in the mode.
func looksLikeInode(b []byte) bool {
	extra := binary.LittleEndian.Uint16(b[0x80:])
	switch binary.LittleEndian.Uint16(b) >> 12 {
	case 0x1, 0x2, 0x4, 0x6, 0x8, 0xA, 0xC:
		return extra >= 16 && extra <= 128 && extra%4 == 0
	}
	return false
}

// noteInodeBlocks remembers the offsets of the 4 KiB blocks of b (read at
// base) holding something that looks like an inode, thinning the list
// (every other entry dropped) whenever it fills up.
func (s *memberScan) noteInodeBlocks(base int64, b []byte) {
	for off := 0; off+sampleSize <= len(b); off += sampleSize {
		at := base + int64(off)
		if n := len(s.inodeBlocks); n > 0 && s.inodeBlocks[n-1] == at {
			continue // another member's block at the same offset
		}
		for k := off; k < off+sampleSize; k += 256 {
			if !looksLikeInode(b[k : k+256]) {
				continue
			}
			if len(s.inodeBlocks) >= maxInodeCandidates {
				for i := range len(s.inodeBlocks) / 2 {
					s.inodeBlocks[i] = s.inodeBlocks[2*i]
				}
				s.inodeBlocks = s.inodeBlocks[:len(s.inodeBlocks)/2]
			}
			s.inodeBlocks = append(s.inodeBlocks, at)
			break
		}
	}
}

// findInodeTables reads the blocks at the offsets the scan noted, on every
// member, and for each filesystem with metadata_csum whose inode tables a
// descriptor block placed, notes a block whose inodes' checksums prove
// their numbers as an anchor: the block's start, at the place in its
// filesystem that its first proven inode gives it. Every member's block
// at that offset is probed, so that the member holding a stripe's parity,
// where the rest of the stripe is zero around these inodes, is seen with
// the one holding the data (the same anchor, two holders) and not alone.
// A block that proves inodes of two filesystems is left out. Copies of
// inode-table blocks in a journal prove their numbers too, yet lie
// elsewhere: fitAnchors lets such an anchor place nothing rather than
// count against a geometry.
func (s *memberScan) findInodeTables(devs []blockdev.Device) error {
	type prober struct {
		uuid string
		t    *fsInodeTables
		x    *ext.InodeNumbers
	}
	var probers []prober
	for _, uuid := range slices.Sorted(maps.Keys(s.inodeTables)) {
		t := s.inodeTables[uuid]
		if x, ok := t.sb.InodeNumbers(); ok {
			probers = append(probers, prober{uuid, t, x})
		}
	}
	if len(probers) == 0 {
		return nil
	}
	slices.Sort(s.inodeBlocks)
	type claim struct {
		anchor
		blocks []int64 // the table blocks (filesystem offsets) whose inodes it proves
	}
	claims := map[memberBlock][]claim{}
	kept := map[string]int{}
	buf := make([]byte, sampleSize)
	for _, off := range slices.Compact(s.inodeBlocks) {
		for m, d := range devs {
			if off >= d.Size() {
				continue
			}
			k := int(min(int64(len(buf)), d.Size()-off))
			if _, err := blockdev.ReadAround(d, buf[:k], off); err != nil { // a hole reads as zeros: no inodes
				return fmt.Errorf("%s: reading at %d: %w", d.Name(), off, err)
			}
			for _, p := range probers {
				slots, n, ok := p.x.Probe(buf[:k])
				if !ok || kept[p.uuid] >= maxInodeAnchors {
					continue
				}
				sb := p.t.sb
				table := p.t.tables[(n-1)/sb.InodesPerGroup]
				if table == 0 {
					continue // no descriptor block (or disagreeing ones) places it
				}
				bs, isz := int64(sb.BlockSize()), int64(sb.InodeSize)
				at := int64(table)*bs + (int64((n-1)%sb.InodesPerGroup)-int64(slots[0]))*isz
				c := claim{anchor: anchor{what: fmt.Sprintf("%s bytes at %d of the filesystem", inodeTableAnchor, at), offset: off, fs: p.uuid, at: at}}
				for _, slot := range slots {
					if b := (at + int64(slot)*isz) / bs * bs; !slices.Contains(c.blocks, b) {
						c.blocks = append(c.blocks, b)
					}
				}
				where := memberBlock{m, off}
				claims[where] = append(claims[where], c)
				kept[p.uuid]++
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(claims), func(a, b memberBlock) int {
		return cmp.Or(cmp.Compare(a.offset, b.offset), cmp.Compare(a.member, b.member))
	})
	// A block of a table found at several offsets is also in the journal
	// (perhaps more than once): the anchors holding it share one anchor's
	// weight, so that copies fitting a wrong geometry by chance never
	// outweigh the table's own blocks under the right one.
	type tableBlock struct {
		fs string
		at int64
	}
	places := map[tableBlock]map[int64]bool{}
	for _, k := range keys {
		if seen := claims[k]; len(seen) == 1 {
			for _, b := range seen[0].blocks {
				tb := tableBlock{seen[0].fs, b}
				if places[tb] == nil {
					places[tb] = map[int64]bool{}
				}
				places[tb][k.offset] = true
			}
		}
	}
	for _, k := range keys {
		if seen := claims[k]; len(seen) == 1 {
			c := seen[0]
			most := 1
			for _, b := range c.blocks {
				most = max(most, len(places[tableBlock{c.fs, b}]))
			}
			c.share = 1 / float64(most)
			s.addAnchor(c.anchor, k.member)
		}
	}
	return nil
}

// memberBlock is a block at offset on member.
type memberBlock struct {
	member int
	offset int64
}

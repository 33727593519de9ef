package mdsolve

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
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

// noteInodeBlocks remembers the 4 KiB blocks of b (read at base on member
// m) holding something that looks like an inode, thinning the list (every
// other entry dropped) whenever it fills up.
func (s *memberScan) noteInodeBlocks(m int, base int64, b []byte) {
	for off := 0; off+sampleSize <= len(b); off += sampleSize {
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
			s.inodeBlocks = append(s.inodeBlocks, memberBlock{m, base + int64(off)})
			break
		}
	}
}

// memberBlock is a block at offset on member.
type memberBlock struct {
	member int
	offset int64
}

// findInodeTables reads the blocks the scan noted as inode-like and, for
// each filesystem with metadata_csum whose inode tables a descriptor block
// placed, notes the first inode whose checksum proves its number as an
// anchor at that inode's place in its filesystem. A block that proves
// inodes of two filesystems is left out. Copies of inode-table blocks in a
// journal prove their numbers too, yet lie elsewhere: such an anchor fits
// no geometry with the others, and fitAnchors lets it place nothing
// rather than count against the geometry.
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
	claims := map[memberBlock][]anchor{}
	kept := map[string]int{}
	buf := make([]byte, sampleSize)
	for _, c := range s.inodeBlocks {
		d := devs[c.member]
		k, err := d.ReadAt(buf[:min(int64(len(buf)), d.Size()-c.offset)], c.offset)
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: reading at %d: %w", d.Name(), c.offset, err)
		}
		for _, p := range probers {
			slot, n, ok := p.x.Probe(buf[:k])
			if !ok || kept[p.uuid] >= maxInodeAnchors {
				continue
			}
			sb := p.t.sb
			table := p.t.tables[(n-1)/sb.InodesPerGroup]
			if table == 0 {
				continue // no descriptor block (or disagreeing ones) places it
			}
			at := int64(table)*int64(sb.BlockSize()) + int64((n-1)%sb.InodesPerGroup)*int64(sb.InodeSize)
			where := memberBlock{c.member, c.offset + int64(slot)*int64(sb.InodeSize)}
			claims[where] = append(claims[where], anchor{what: fmt.Sprintf("%s (inode %d)", inodeTableAnchor, n), offset: where.offset, fs: p.uuid, at: at})
			kept[p.uuid]++
		}
	}
	keys := slices.SortedFunc(maps.Keys(claims), func(a, b memberBlock) int {
		return cmp.Or(cmp.Compare(a.offset, b.offset), cmp.Compare(a.member, b.member))
	})
	for _, k := range keys {
		if seen := claims[k]; len(seen) == 1 {
			s.addAnchor(seen[0], k.member)
		}
	}
	return nil
}

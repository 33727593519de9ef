package ext

import "fmt"

// DescriptorChoice records a group whose descriptor was taken from another
// copy of the descriptor table than the one beside the superblock in use,
// as e2fsck falls back to the backup tables when the primary's are bad.
type DescriptorChoice struct {
	Group uint32 `json:"group"`
	Block uint64 `json:"block"` // the descriptor block the copy used was read from
	From  string `json:"from"`  // which table that block belongs to
	Why   string `json:"why"`   // what is wrong with the first copy
}

func (d DescriptorChoice) String() string {
	return fmt.Sprintf("group %d descriptor taken from %s (block %d): %s", d.Group, d.From, d.Block, d.Why)
}

// maxDescriptorCopies bounds how many tables are read for one damaged
// descriptor block: the first backups are the ones e2fsck tries.
const maxDescriptorCopies = 16

// maxRepairReads bounds the blocks repairGroups reads in all, so that a
// garbage superblock with millions of insane groups costs little.
const maxRepairReads = 4096

// descProblem says what makes a descriptor unusable: a bitmap or inode
// table outside the filesystem (or at block 0); "" when it is sane.
func (fs *FS) descProblem(g groupDesc) string {
	itBlocks := (uint64(fs.SB.InodesPerGroup)*uint64(fs.SB.InodeSize) + uint64(fs.bs) - 1) / uint64(fs.bs)
	for _, f := range []struct {
		what string
		b    uint64
	}{{"block bitmap", g.blockBitmap}, {"inode bitmap", g.inodeBitmap}, {"inode table", g.inodeTable}} {
		if f.b == 0 || f.b < uint64(fs.SB.FirstDataBlock) || f.b >= fs.SB.BlocksCount {
			return fmt.Sprintf("places the %s at block %d, outside the filesystem's %d blocks", f.what, f.b, fs.SB.BlocksCount)
		}
	}
	if g.inodeTable+itBlocks > fs.SB.BlocksCount {
		return fmt.Sprintf("places the inode table at blocks %d+%d, past the end", g.inodeTable, itBlocks)
	}
	return ""
}

// descRank orders copies of one descriptor: sane before insane, then a
// checksum that holds before one that fails.
func (fs *FS) descRank(g groupDesc) int {
	r := 0
	if fs.descProblem(g) == "" {
		r += 2
	}
	if g.checksumOK {
		r++
	}
	return r
}

// otherDescCopies lists the other places descriptor block i is kept, with
// a name for each: the primary table and the table beside every backup
// superblock (or, with meta_bg, the meta group's other copies).
func (fs *FS) otherDescCopies(i uint64) (blocks []uint64, names []string) {
	sb := fs.SB
	if sb.FeatureIncompat&incompatMetaBG != 0 && i >= uint64(sb.FirstMetaBG) {
		for k, b := range fs.descBlocks(i) {
			if k > 0 {
				blocks, names = append(blocks, b), append(names, "another meta_bg copy")
			}
		}
		return blocks, names
	}
	groups := []uint32{0}
	for _, off := range sb.BackupOffsets() {
		if len(groups) >= maxDescriptorCopies {
			break
		}
		groups = append(groups, uint32((uint64(off)/uint64(fs.bs)-uint64(sb.FirstDataBlock))/uint64(sb.BlocksPerGroup)))
	}
	for _, g := range groups {
		if g == uint32(sb.BlockGroupNr) {
			continue
		}
		name := fmt.Sprintf("the backup table in group %d", g)
		if g == 0 {
			name = "the primary table"
		}
		blocks, names = append(blocks, sb.superBlockOf(g)+1+i), append(names, name)
	}
	return blocks, names
}

// repairGroups replaces, group by group, each descriptor that is insane
// or fails its checksum with the best copy found in the other tables, and
// records every replacement in DescriptorChoices. A copy from another
// table may be older (backups are written at mkfs and resize), so its
// uninit flags and unused-inode count are not trusted.
func (fs *FS) repairGroups() {
	perBlock := uint64(fs.bs) / uint64(fs.SB.GroupDescSize())
	n := uint64(len(fs.groups))
	reads := 0
	for i := uint64(0); i*perBlock < n && reads < maxRepairReads; i++ {
		first, count := i*perBlock, min(perBlock, n-i*perBlock)
		damaged := false
		for _, g := range fs.groups[first : first+count] {
			damaged = damaged || fs.descRank(g) < 3
		}
		if !damaged {
			continue
		}
		blocks, names := fs.otherDescCopies(i)
		copies := make([][]groupDesc, len(blocks))
		reads += len(blocks)
		for k, b := range blocks {
			if block, err := fs.readBlock(b); err == nil {
				copies[k], _ = fs.decodeGroupBlock(block, uint32(first), count)
			}
		}
		for j := range count {
			cur := fs.groups[first+j]
			best, bestRank := -1, fs.descRank(cur)
			for k := range copies {
				if copies[k] != nil && fs.descRank(copies[k][j]) > bestRank {
					best, bestRank = k, fs.descRank(copies[k][j])
				}
			}
			if best < 0 {
				continue
			}
			why := fs.descProblem(cur)
			if why == "" {
				why = "its checksum fails"
			}
			g := copies[best][j]
			if !cur.checksumOK {
				fs.GroupChecksumErrors--
			}
			if !g.checksumOK {
				fs.GroupChecksumErrors++
			}
			g.fromOtherTable = true
			fs.groups[first+j] = g
			fs.DescriptorChoices = append(fs.DescriptorChoices, DescriptorChoice{
				Group: uint32(first + j), Block: blocks[best], From: names[best], Why: "the first copy " + why})
		}
	}
}

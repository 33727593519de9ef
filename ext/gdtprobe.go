package ext

// Recognising group descriptor blocks in raw bytes, without a device: a
// solver looking for a lost array's order finds copies of the table on
// the members and places them by the group numbers their content proves.

// DescriptorTable returns the byte offset, relative to the filesystem
// start, of the copy of the group descriptor table that follows group g's
// superblock copy, and how many blocks the table spans. ok is false where
// the table is not one contiguous copy beside every superblock copy
// (meta_bg: not handled) or its size is absurd. sparse_super2 changes only
// which groups hold copies, not what follows a copy.
func (sb *Superblock) DescriptorTable(g uint32) (offset int64, blocks uint64, ok bool) {
	if sb.FeatureIncompat&incompatMetaBG != 0 {
		return 0, 0, false
	}
	n := uint64(sb.GroupCount())
	if n == 0 || n > maxGroups || sb.GroupDescSize() < 32 || sb.GroupDescSize() > sb.BlockSize() {
		return 0, 0, false
	}
	perBlock := uint64(sb.BlockSize() / sb.GroupDescSize())
	return int64(sb.superBlockOf(g)+1) * int64(sb.BlockSize()), (n + perBlock - 1) / perBlock, true
}

// ProbeDescriptorBlock says which block of this filesystem's group
// descriptor table b (one block) is, when its content proves it: every
// descriptor in it places its bitmaps and inode table inside the
// filesystem, in its own group (without flex_bg) or in its flex group's
// first groups (flex_bg, where group checksums are then required), and
// every checksum the features call for holds for that descriptor's group
// number. A block with a single descriptor and no checksum proves nothing.
func (sb *Superblock) ProbeDescriptorBlock(b []byte) (uint64, bool) {
	_, blocks, ok := sb.DescriptorTable(0)
	ds := sb.GroupDescSize()
	if !ok || len(b) < sb.BlockSize() {
		return 0, false
	}
	fs := &FS{SB: sb, bs: int64(sb.BlockSize())}
	first := fs.decodeGroup(0, b[:ds]).blockBitmap
	if first < uint64(sb.FirstDataBlock) || first >= sb.BlocksCount {
		return 0, false
	}
	perBlock := uint64(sb.BlockSize() / ds)
	home := (first - uint64(sb.FirstDataBlock)) / uint64(sb.BlocksPerGroup) // the group holding that bitmap
	checksums := sb.HasMetadataCsum() || sb.FeatureROCompat&roCompatGdtCsum != 0
	span := uint64(1)
	if sb.FeatureIncompat&incompatFlexBG != 0 && sb.LogGroupsPerFlex > 0 {
		if !checksums || sb.LogGroupsPerFlex > 16 {
			return 0, false
		}
		span = 1 << sb.LogGroupsPerFlex
	}
	// The block's first group k is a multiple of perBlock, and its bitmap
	// lies in group k (span 1) or in k's flex group start, home <= k < home+span.
	for k := (home + perBlock - 1) / perBlock * perBlock; k < home+span && k/perBlock < blocks; k += perBlock {
		if sb.descriptorsFit(fs, b, k, span == 1, checksums) {
			return k / perBlock, true
		}
	}
	return 0, false
}

// descriptorsFit checks every descriptor of block b as group first+i.
func (sb *Superblock) descriptorsFit(fs *FS, b []byte, first uint64, ownGroup, checksums bool) bool {
	ds := sb.GroupDescSize()
	count := min(uint64(sb.BlockSize()/ds), uint64(sb.GroupCount())-first)
	if count < 2 && !checksums {
		return false
	}
	bpg := uint64(sb.BlocksPerGroup)
	for i := range count {
		g := first + i
		gd := fs.decodeGroup(uint32(g), b[i*uint64(ds):(i+1)*uint64(ds)])
		if !gd.checksumOK {
			return false
		}
		lo, hi := uint64(sb.FirstDataBlock), sb.BlocksCount
		if ownGroup {
			lo, hi = uint64(sb.FirstDataBlock)+g*bpg, min(hi, uint64(sb.FirstDataBlock)+(g+1)*bpg)
		}
		for _, at := range []uint64{gd.blockBitmap, gd.inodeBitmap, gd.inodeTable} {
			if at == 0 || at < lo || at >= hi {
				return false
			}
		}
	}
	return true
}

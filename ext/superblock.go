// Package ext reads ext2, ext3 and ext4 filesystems from any io.ReaderAt
// without writing, and keeps going when metadata is damaged: it can use a
// backup superblock, rebuild paths whose directory names were lost, and
// list inodes no directory refers to. Every length, count, depth and offset
// read from disk is checked against the device before it is used.
package ext

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"holmes/internal/ondisk"
)

// SuperblockSize is the size of the on-disk superblock structure.
const SuperblockSize = 1024

// PrimaryOffset is the byte offset of the primary superblock from the start
// of the filesystem, whatever the block size.
const PrimaryOffset = 1024

const superMagic = 0xEF53

// Feature bits (the compat, incompat and ro_compat words of the superblock).
const (
	compatHasJournal   = 0x4
	compatExtAttr      = 0x8
	compatResizeInode  = 0x10
	compatDirIndex     = 0x20
	compatSparseSuper2 = 0x200

	incompatFiletype   = 0x2
	incompatRecover    = 0x4
	incompatJournalDev = 0x8
	incompatMetaBG     = 0x10
	incompatExtents    = 0x40
	incompat64Bit      = 0x80
	incompatMMP        = 0x100
	incompatFlexBG     = 0x200
	incompatEAInode    = 0x400
	incompatDirData    = 0x1000
	incompatCsumSeed   = 0x2000
	incompatLargeDir   = 0x4000
	incompatInlineData = 0x8000
	incompatEncrypt    = 0x10000
	incompatCasefold   = 0x20000

	roCompatSparseSuper   = 0x1
	roCompatLargeFile     = 0x2
	roCompatHugeFile      = 0x8
	roCompatGdtCsum       = 0x10
	roCompatDirNlink      = 0x20
	roCompatExtraIsize    = 0x40
	roCompatQuota         = 0x100
	roCompatBigalloc      = 0x200
	roCompatMetadataCsum  = 0x400
	roCompatProject       = 0x2000
	roCompatVerity        = 0x8000
	roCompatOrphanPresent = 0x10000
)

var featureNames = []struct {
	word int // 0 compat, 1 incompat, 2 ro_compat
	bit  uint32
	name string
}{
	{0, 0x1, "dir_prealloc"}, {0, 0x2, "imagic_inodes"}, {0, compatHasJournal, "has_journal"},
	{0, compatExtAttr, "ext_attr"}, {0, compatResizeInode, "resize_inode"}, {0, compatDirIndex, "dir_index"},
	{0, 0x40, "lazy_bg"}, {0, 0x100, "snapshot_bitmap"}, {0, compatSparseSuper2, "sparse_super2"},
	{0, 0x400, "fast_commit"}, {0, 0x800, "stable_inodes"}, {0, 0x1000, "orphan_file"},
	{1, 0x1, "compression"}, {1, incompatFiletype, "filetype"}, {1, incompatRecover, "needs_recovery"},
	{1, incompatJournalDev, "journal_dev"}, {1, incompatMetaBG, "meta_bg"}, {1, incompatExtents, "extent"},
	{1, incompat64Bit, "64bit"}, {1, incompatMMP, "mmp"}, {1, incompatFlexBG, "flex_bg"},
	{1, incompatEAInode, "ea_inode"}, {1, incompatDirData, "dirdata"}, {1, incompatCsumSeed, "metadata_csum_seed"},
	{1, incompatLargeDir, "large_dir"}, {1, incompatInlineData, "inline_data"}, {1, incompatEncrypt, "encrypt"},
	{1, incompatCasefold, "casefold"},
	{2, roCompatSparseSuper, "sparse_super"}, {2, roCompatLargeFile, "large_file"}, {2, 0x4, "btree_dir"},
	{2, roCompatHugeFile, "huge_file"}, {2, roCompatGdtCsum, "uninit_bg"}, {2, roCompatDirNlink, "dir_nlink"},
	{2, roCompatExtraIsize, "extra_isize"}, {2, 0x80, "has_snapshot"}, {2, roCompatQuota, "quota"},
	{2, roCompatBigalloc, "bigalloc"}, {2, roCompatMetadataCsum, "metadata_csum"}, {2, 0x800, "replica"},
	{2, 0x1000, "read-only"}, {2, roCompatProject, "project"}, {2, 0x4000, "shared_blocks"},
	{2, roCompatVerity, "verity"}, {2, roCompatOrphanPresent, "orphan_present"},
}

// Superblock is the decoded ext2/3/4 superblock: the fields a reader needs,
// plus where it was read from and whether its checksum holds.
type Superblock struct {
	Offset int64 // byte offset it was read from, relative to the reader given

	InodesCount      uint32
	BlocksCount      uint64
	FreeBlocksCount  uint64
	FreeInodesCount  uint32
	FirstDataBlock   uint32
	LogBlockSize     uint32
	LogClusterSize   uint32
	BlocksPerGroup   uint32
	ClustersPerGroup uint32 // equals BlocksPerGroup without bigalloc
	InodesPerGroup   uint32
	MountTime        time.Time
	WriteTime        time.Time
	MkfsTime         time.Time
	LastCheck        time.Time
	Magic            uint16
	State            uint16
	RevLevel         uint32
	FirstIno         uint32
	InodeSize        uint16
	BlockGroupNr     uint16 // the group this copy lives in (0 for the primary)
	// GroupFromPlace is true for a backup whose s_block_group_nr says 0,
	// as old mke2fs wrote every copy: BlockGroupNr then comes from where
	// the copy sits (see AdoptOldBackup).
	GroupFromPlace    bool
	FeatureCompat     uint32
	FeatureIncompat   uint32
	FeatureROCompat   uint32
	UUID              [16]byte
	VolumeName        string
	LastMounted       string
	ReservedGDTBlocks uint16
	JournalInum       uint32
	JournalUUID       [16]byte // s_journal_uuid: the external journal's
	HashSeed          [4]uint32
	DefHashVersion    uint8
	DescSize          uint16
	FirstMetaBG       uint32
	MinExtraIsize     uint16
	LogGroupsPerFlex  uint8
	ChecksumType      uint8
	BackupBGs         [2]uint32
	ChecksumSeed      uint32 // s_checksum_seed, meaningful with metadata_csum_seed
	Checksum          uint32

	// ChecksumPresent is true when metadata_csum is on; ChecksumOK then
	// says whether the stored crc32c matches.
	ChecksumPresent bool
	ChecksumOK      bool

	raw [SuperblockSize]byte
}

// ReadSuperblock reads and validates the superblock at byte offset off of r
// (1024 for the primary). It checks the magic number and that the geometry
// is self-consistent; a wrong metadata_csum checksum is reported in
// ChecksumOK, not treated as an error, because damaged filesystems are the
// point.
func ReadSuperblock(r io.ReaderAt, off int64) (*Superblock, error) {
	sb := &Superblock{Offset: off}
	if n, err := r.ReadAt(sb.raw[:], off); n < SuperblockSize {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("ext: superblock at %d: device too short", off)
		}
		return nil, fmt.Errorf("ext: superblock at %d: %w", off, err)
	}
	if err := sb.decode(); err != nil {
		return nil, fmt.Errorf("ext: superblock at %d: %w", off, err)
	}
	if err := sb.checkGeometry(); err != nil {
		return nil, fmt.Errorf("ext: superblock at %d: %w", off, err)
	}
	return sb, nil
}

// ProbeSuperblock says whether b, read where an ext superblock would start,
// carries the ext magic. The magic is only 16 bits: a hit is a candidate
// for ReadSuperblock, not a finding.
func ProbeSuperblock(b []byte) bool {
	return len(b) >= 0x3A && binary.LittleEndian.Uint16(b[0x38:]) == superMagic
}

// ReadJournalDevice reads the superblock of an external journal device
// (mke2fs -O journal_dev) at byte offset off of r. Such a device carries an
// ext superblock with no inodes, which ReadSuperblock refuses as a
// filesystem. It returns nil and no error when off holds no journal device
// superblock; errors are read failures.
func ReadJournalDevice(r io.ReaderAt, off int64) (*Superblock, error) {
	sb := &Superblock{Offset: off}
	if n, err := r.ReadAt(sb.raw[:], off); n < SuperblockSize {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("ext: superblock at %d: %w", off, err)
	}
	if sb.decode() != nil || !sb.IsJournalDevice() || sb.LogBlockSize > 6 || sb.BlocksCount == 0 {
		return nil, nil
	}
	return sb, nil
}

// IsJournalDevice reports the journal_dev feature: the superblock belongs
// to an external journal, not to a filesystem.
func (sb *Superblock) IsJournalDevice() bool { return sb.FeatureIncompat&incompatJournalDev != 0 }

// decode fills the fields from the raw bytes; only the magic is checked.
func (sb *Superblock) decode() error {
	b := sb.raw[:]
	le := binary.LittleEndian
	sb.Magic = le.Uint16(b[0x38:])
	if !ProbeSuperblock(b) {
		return fmt.Errorf("no ext magic (found %#04x)", sb.Magic)
	}
	sb.InodesCount = le.Uint32(b[0x0:])
	sb.BlocksCount = uint64(le.Uint32(b[0x4:]))
	sb.FreeBlocksCount = uint64(le.Uint32(b[0xC:]))
	sb.FreeInodesCount = le.Uint32(b[0x10:])
	sb.FirstDataBlock = le.Uint32(b[0x14:])
	sb.LogBlockSize = le.Uint32(b[0x18:])
	sb.LogClusterSize = le.Uint32(b[0x1C:])
	sb.BlocksPerGroup = le.Uint32(b[0x20:])
	sb.ClustersPerGroup = le.Uint32(b[0x24:])
	sb.InodesPerGroup = le.Uint32(b[0x28:])
	sb.MountTime = unixTime(le.Uint32(b[0x2C:]), b[0x275])
	sb.WriteTime = unixTime(le.Uint32(b[0x30:]), b[0x274])
	sb.State = le.Uint16(b[0x3A:])
	sb.LastCheck = unixTime(le.Uint32(b[0x40:]), b[0x277])
	sb.RevLevel = le.Uint32(b[0x4C:])
	sb.FirstIno = 11
	sb.InodeSize = 128
	if sb.RevLevel >= 1 {
		sb.FirstIno = le.Uint32(b[0x54:])
		sb.InodeSize = le.Uint16(b[0x58:])
	}
	sb.BlockGroupNr = le.Uint16(b[0x5A:])
	sb.FeatureCompat = le.Uint32(b[0x5C:])
	sb.FeatureIncompat = le.Uint32(b[0x60:])
	sb.FeatureROCompat = le.Uint32(b[0x64:])
	copy(sb.UUID[:], b[0x68:0x78])
	sb.VolumeName = ondisk.CString(b[0x78:0x88])
	sb.LastMounted = ondisk.CString(b[0x88:0xC8])
	sb.ReservedGDTBlocks = le.Uint16(b[0xCE:])
	sb.JournalInum = le.Uint32(b[0xE0:])
	copy(sb.JournalUUID[:], b[0xD0:0xE0])
	for i := range sb.HashSeed {
		sb.HashSeed[i] = le.Uint32(b[0xEC+4*i:])
	}
	sb.DefHashVersion = b[0xFC]
	sb.DescSize = le.Uint16(b[0xFE:])
	sb.FirstMetaBG = le.Uint32(b[0x104:])
	sb.MkfsTime = unixTime(le.Uint32(b[0x108:]), b[0x276])
	if sb.Is64Bit() {
		sb.BlocksCount |= uint64(le.Uint32(b[0x150:])) << 32
		sb.FreeBlocksCount |= uint64(le.Uint32(b[0x158:])) << 32
	}
	sb.MinExtraIsize = le.Uint16(b[0x15C:])
	sb.LogGroupsPerFlex = b[0x174]
	sb.ChecksumType = b[0x175]
	sb.BackupBGs = [2]uint32{le.Uint32(b[0x24C:]), le.Uint32(b[0x250:])}
	sb.ChecksumSeed = le.Uint32(b[0x270:])
	sb.Checksum = le.Uint32(b[0x3FC:])
	if sb.FeatureROCompat&roCompatMetadataCsum != 0 {
		sb.ChecksumPresent = true
		sb.ChecksumOK = crc32c(^uint32(0), b[:0x3FC]) == sb.Checksum
	}
	return nil
}

// checkGeometry rejects superblocks whose numbers cannot describe a
// filesystem, so that nothing later divides by zero or allocates from a
// garbage count.
func (sb *Superblock) checkGeometry() error {
	switch {
	case sb.LogBlockSize > 6: // 1 KiB .. 64 KiB
		return fmt.Errorf("block size 2^(10+%d) out of range", sb.LogBlockSize)
	case sb.BlocksCount == 0:
		return fmt.Errorf("zero blocks")
	case sb.IsBigalloc() && (sb.LogClusterSize < sb.LogBlockSize || sb.LogClusterSize-sb.LogBlockSize > 16):
		return fmt.Errorf("cluster size 2^(10+%d) impossible with %d-byte blocks", sb.LogClusterSize, sb.BlockSize())
	case sb.IsBigalloc() && (sb.ClustersPerGroup == 0 || sb.ClustersPerGroup > 8*uint32(sb.BlockSize()) ||
		uint64(sb.BlocksPerGroup) != uint64(sb.ClustersPerGroup)<<(sb.LogClusterSize-sb.LogBlockSize)):
		return fmt.Errorf("%d clusters of 2^%d blocks per group impossible with %d blocks per group and %d-byte blocks",
			sb.ClustersPerGroup, sb.LogClusterSize-sb.LogBlockSize, sb.BlocksPerGroup, sb.BlockSize())
	case sb.BlocksPerGroup == 0 || !sb.IsBigalloc() && sb.BlocksPerGroup > 8*uint32(sb.BlockSize()):
		return fmt.Errorf("%d blocks per group impossible with %d-byte blocks", sb.BlocksPerGroup, sb.BlockSize())
	case sb.InodesPerGroup == 0 || sb.InodesPerGroup > 8*uint32(sb.BlockSize()):
		return fmt.Errorf("%d inodes per group impossible with %d-byte blocks", sb.InodesPerGroup, sb.BlockSize())
	case sb.InodeSize < 128 || sb.InodeSize&(sb.InodeSize-1) != 0 || int(sb.InodeSize) > sb.BlockSize():
		return fmt.Errorf("inode size %d invalid", sb.InodeSize)
	case sb.FirstDataBlock >= uint32(min(sb.BlocksCount, 1<<32-1)):
		return fmt.Errorf("first data block %d beyond %d blocks", sb.FirstDataBlock, sb.BlocksCount)
	case sb.BlockSize() == 1024 && sb.FirstDataBlock != 1 && !(sb.IsBigalloc() && sb.FirstDataBlock == 0),
		sb.BlockSize() > 1024 && sb.FirstDataBlock != 0:
		return fmt.Errorf("first data block %d wrong for %d-byte blocks", sb.FirstDataBlock, sb.BlockSize())
	case sb.Is64Bit() && (sb.DescSize < 64 || sb.DescSize > 1024 || sb.DescSize&(sb.DescSize-1) != 0):
		return fmt.Errorf("64bit with group descriptor size %d", sb.DescSize)
	case uint64(sb.GroupCount())*uint64(sb.InodesPerGroup) < uint64(sb.InodesCount):
		return fmt.Errorf("%d inodes do not fit %d groups of %d", sb.InodesCount, sb.GroupCount(), sb.InodesPerGroup)
	case sb.FirstIno < 3 || sb.FirstIno > sb.InodesCount:
		return fmt.Errorf("first inode %d invalid", sb.FirstIno)
	}
	return nil
}

// BlockSize is the filesystem block size in bytes.
func (sb *Superblock) BlockSize() int { return 1024 << sb.LogBlockSize }

// Is64Bit reports the 64bit feature (64-bit block numbers, large descriptors).
func (sb *Superblock) Is64Bit() bool { return sb.FeatureIncompat&incompat64Bit != 0 }

// IsBigalloc reports the bigalloc feature: blocks are allocated in
// clusters of 2^(LogClusterSize-LogBlockSize) blocks; block numbers in
// extents and descriptors stay block numbers.
func (sb *Superblock) IsBigalloc() bool { return sb.FeatureROCompat&roCompatBigalloc != 0 }

// ClusterSize is the allocation unit in bytes (the block size without
// bigalloc).
func (sb *Superblock) ClusterSize() int {
	if sb.IsBigalloc() {
		return 1024 << sb.LogClusterSize
	}
	return sb.BlockSize()
}

// GroupDescSize is the on-disk size of one group descriptor.
func (sb *Superblock) GroupDescSize() int {
	if sb.Is64Bit() {
		return int(sb.DescSize)
	}
	return 32
}

// GroupCount is the number of block groups.
func (sb *Superblock) GroupCount() uint32 {
	n := (sb.BlocksCount - uint64(sb.FirstDataBlock) + uint64(sb.BlocksPerGroup) - 1) / uint64(sb.BlocksPerGroup)
	return uint32(min(n, 1<<32-1))
}

// Size is the filesystem size in bytes.
func (sb *Superblock) Size() int64 { return int64(sb.BlocksCount) * int64(sb.BlockSize()) }

// HasMetadataCsum reports the metadata_csum feature.
func (sb *Superblock) HasMetadataCsum() bool {
	return sb.FeatureROCompat&roCompatMetadataCsum != 0
}

// Features lists the feature names set, in the order dumpe2fs prints them.
func (sb *Superblock) Features() []string {
	words := [3]uint32{sb.FeatureCompat, sb.FeatureIncompat, sb.FeatureROCompat}
	var names []string
	for _, f := range featureNames {
		if words[f.word]&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return names
}

// UUIDString formats the filesystem UUID the way blkid and dumpe2fs do.
func (sb *Superblock) UUIDString() string { return formatUUID(sb.UUID) }

func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// groupHasSuper reports whether group g carries a superblock copy (and,
// without meta_bg, a copy of the group descriptor table).
func (sb *Superblock) groupHasSuper(g uint32) bool {
	if g == 0 {
		return true
	}
	if sb.FeatureCompat&compatSparseSuper2 != 0 {
		return g == sb.BackupBGs[0] || g == sb.BackupBGs[1]
	}
	if g <= 1 || sb.FeatureROCompat&roCompatSparseSuper == 0 {
		return true
	}
	if g&1 == 0 {
		return false
	}
	return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7)
}

func isPowerOf(n, base uint32) bool {
	for n%base == 0 {
		n /= base
	}
	return n == 1
}

// groupStart is the first block of group g.
func (sb *Superblock) groupStart(g uint32) uint64 {
	return uint64(g)*uint64(sb.BlocksPerGroup) + uint64(sb.FirstDataBlock)
}

// superBlockOf is the block holding group g's superblock copy, which its
// descriptor copy follows: the group's first block, except block 1 for
// group 0 of a 1 KiB-block bigalloc filesystem, whose groups start at 0.
func (sb *Superblock) superBlockOf(g uint32) uint64 {
	if b := sb.groupStart(g); b > 0 || sb.BlockSize() > 1024 {
		return b
	}
	return 1
}

// maxAllGroupBackups caps BackupOffsets without sparse_super, where every
// group has a copy: a garbage group count must not allocate gigabytes.
const maxAllGroupBackups = 1 << 20

// BackupOffsets returns the byte offsets, relative to the filesystem start,
// of every backup superblock this superblock's geometry places, in
// ascending order: groups 1 and the powers of 3, 5 and 7 with sparse_super;
// the two listed groups with sparse_super2; every group otherwise (at most
// the first 1,048,576). A backup sits at the very start of its group's
// first block.
func (sb *Superblock) BackupOffsets() []int64 {
	n := sb.GroupCount()
	var groups []uint32
	switch {
	case sb.FeatureCompat&compatSparseSuper2 != 0:
		for _, g := range sb.BackupBGs {
			if g > 0 && g < n && (len(groups) == 0 || groups[0] != g) {
				groups = append(groups, g)
			}
		}
	case sb.FeatureROCompat&roCompatSparseSuper != 0:
		if n > 1 {
			groups = append(groups, 1)
		}
		for _, base := range []uint64{3, 5, 7} {
			for g := base; g < uint64(n); g *= base {
				groups = append(groups, uint32(g))
			}
		}
	default:
		for g := uint32(1); g < n && g <= maxAllGroupBackups; g++ {
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	offs := make([]int64, len(groups))
	for i, g := range groups {
		offs[i] = int64(sb.groupStart(g)) * int64(sb.BlockSize())
	}
	return offs
}

// FSOffset is the byte offset of the start of the filesystem this
// superblock belongs to, relative to the reader it was read from.
func (sb *Superblock) FSOffset() int64 {
	if sb.BlockGroupNr == 0 {
		return sb.Offset - PrimaryOffset
	}
	return sb.Offset - int64(sb.groupStart(uint32(sb.BlockGroupNr)))*int64(sb.BlockSize())
}

// backupGroupAt returns the group whose superblock copy this superblock's
// geometry places at byte off (the filesystem starting at 0), if any.
func (sb *Superblock) backupGroupAt(off int64) (uint32, bool) {
	bs := int64(sb.BlockSize())
	if off <= PrimaryOffset || off%bs != 0 {
		return 0, false
	}
	b := uint64(off/bs) - min(uint64(off/bs), uint64(sb.FirstDataBlock))
	g := b / uint64(sb.BlocksPerGroup)
	if b%uint64(sb.BlocksPerGroup) != 0 || g == 0 || g >= uint64(sb.GroupCount()) || !sb.groupHasSuper(uint32(g)) {
		return 0, false
	}
	return uint32(g), true
}

// AdoptOldBackup takes a copy that says group 0 but sits where its own
// geometry puts a backup as that backup: old mke2fs wrote 0 in every
// copy. It reports whether it did; a copy that says group 0 elsewhere
// may be the primary of a filesystem that starts 1024 bytes before it,
// so callers adopt only when the user named the copy or another copy
// agrees (see agreesWithACopy).
func (sb *Superblock) AdoptOldBackup() bool {
	if sb.BlockGroupNr != 0 || sb.Offset == PrimaryOffset {
		return false
	}
	g, ok := sb.backupGroupAt(sb.Offset)
	if !ok || g > 0xFFFF {
		return false
	}
	sb.BlockGroupNr, sb.GroupFromPlace = uint16(g), true
	return true
}

// csumSeed is the crc32c seed every metadata_csum checksum starts from.
func (sb *Superblock) csumSeed() uint32 {
	if sb.FeatureIncompat&incompatCsumSeed != 0 {
		return sb.ChecksumSeed
	}
	return crc32c(^uint32(0), sb.UUID[:])
}

func unixTime(lo uint32, hi byte) time.Time {
	if lo == 0 && hi == 0 {
		return time.Time{}
	}
	return time.Unix(int64(lo)|int64(hi&3)<<32, 0).UTC()
}

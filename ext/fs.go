package ext

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"holmes/blockdev"
)

// Superblock choices for Options.Superblock besides a block number.
const (
	SuperblockAuto    int64 = 0  // check the primary, fall back to a backup (the default)
	SuperblockPrimary int64 = -1 // the primary at byte 1024, whatever it says
)

// Options control how Open reads a filesystem.
type Options struct {
	// Superblock is SuperblockAuto (the zero value), SuperblockPrimary, or the block number
	// of a backup superblock as e2fsck -b takes it (the block size is the
	// one that makes the copy's own group number agree with its place).
	Superblock int64
	// NoJournal reads the on-disk state: a journal that needs recovery is
	// not replayed (docs/ext.md, "The journal").
	NoJournal bool
	// JournalDevice is the external journal, for a filesystem whose
	// journal lives on another device; JournalDeviceSize its size.
	JournalDevice     io.ReaderAt
	JournalDeviceSize int64
}

// ParseSuperblockChoice turns "auto", "primary" or a block number into an
// Options.Superblock value.
func ParseSuperblockChoice(s string) (int64, error) {
	switch s {
	case "", "auto":
		return SuperblockAuto, nil
	case "primary":
		return SuperblockPrimary, nil
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("superblock %q: want auto, primary or a block number", s)
	}
	return n, nil
}

// SuperblockChoice is the Options.Superblock that opens the superblock copy
// at byte off of a filesystem of blockSize-byte blocks (the primary is
// SuperblockPrimary: for 1 KiB blocks it is also block 1, for larger ones
// block 0 would mean auto).
func SuperblockChoice(off int64, blockSize int) int64 {
	if off == PrimaryOffset || blockSize <= 0 {
		return SuperblockPrimary
	}
	return off / int64(blockSize)
}

// OtherFilesystems lists the Options.Superblock values that open the other
// filesystems whose superblock copies Open met beside this one (an older
// filesystem this one was made over), one per UUID.
func (fs *FS) OtherFilesystems() []int64 {
	var out []int64
	seen := map[string]bool{fs.SB.UUIDString(): true}
	for _, c := range fs.Choice.Candidates {
		if seen[c.UUID] || c.BlockSize == 0 {
			continue
		}
		seen[c.UUID] = true
		out = append(out, SuperblockChoice(c.Offset, c.BlockSize))
	}
	return out
}

// FS is an open ext2/3/4 filesystem.
type FS struct {
	r      io.ReaderAt
	size   int64 // bytes readable from r
	SB     *Superblock
	bs     int64
	groups []groupDesc

	// Choice says which superblock is in use and why, with every
	// candidate auto considered.
	Choice Choice
	// GroupChecksumErrors counts group descriptors whose checksum fails.
	GroupChecksumErrors int
	// DescriptorChoices lists the groups whose descriptor came from
	// another copy of the table, and why.
	DescriptorChoices []DescriptorChoice
	// Replay is what replaying the journal in memory changed; nil when
	// nothing was replayed.
	Replay      *Replay
	journalNote string // the journal's state, for Problems

	// overwrittenBy is the filesystem whose primary superblock sits where
	// this one's was, when this one is read from a backup: its inodes in
	// this one's tables are not this one's files.
	overwrittenBy *FS
	tableStarts   [][2]int64 // inode table byte offsets and their groups, sorted (inodeAt)
}

// Choice explains the superblock selection.
type Choice struct {
	Used       int64       `json:"used_offset"`
	Group      uint16      `json:"used_group"`
	Why        string      `json:"why"`
	Candidates []Candidate `json:"candidates"`
}

// Candidate is one superblock copy found and how it checked out.
type Candidate struct {
	Offset      int64  `json:"offset"`
	Group       uint16 `json:"group"`
	UUID        string `json:"uuid"`
	BlockSize   int    `json:"block_size"`
	Blocks      uint64 `json:"blocks"`
	MkfsTime    string `json:"mkfs_time,omitempty"`
	WriteTime   string `json:"write_time,omitempty"`
	ChecksumOK  *bool  `json:"checksum_ok"`
	GroupsOK    bool   `json:"group_descriptors_ok"`
	RootInodeOK bool   `json:"root_inode_ok"`
	RootDirOK   bool   `json:"root_directory_ok"`
	Copies      int    `json:"copies"` // superblocks found with this UUID
	Problem     string `json:"problem,omitempty"`

	sb         *Superblock
	fs         *FS
	unfinished bool // a primary whose mkfs never wrote its backups (checkFinished)
}

// groupDesc is one block group descriptor, as little of it as reading
// needs: millions of them may be held.
type groupDesc struct {
	blockBitmap, inodeBitmap, inodeTable uint64
	itableUnused                         uint32
	flags                                uint16
	checksumOK                           bool
	fromOtherTable                       bool // see repairGroups
}

// maxGroups caps the group descriptors Open reads and holds (32 bytes
// each in memory): 2^21 groups are a 256 TiB filesystem at the default
// 4 KiB blocks and 32768 blocks per group. A superblock claiming more is
// refused, whatever the device holds: a crafted group count must not cost
// gigabytes (docs/hostile-input.md).
const maxGroups = 1 << 21

// bgInodeUninit marks a group whose inode table was never used.
const bgInodeUninit = 0x1

// Open reads the filesystem on r (size bytes long) with the superblock
// opts asks for.
func Open(r io.ReaderAt, size int64, opts Options) (*FS, error) {
	fs, err := openOnDisk(r, size, opts)
	if err != nil {
		return nil, err
	}
	over := fs.overwriter()
	if !opts.NoJournal {
		fs = fs.withJournal(opts)
	}
	fs.overwrittenBy = over
	return fs, nil
}

// openOnDisk opens the filesystem as the device holds it.
func openOnDisk(r io.ReaderAt, size int64, opts Options) (*FS, error) {
	switch {
	case opts.Superblock == SuperblockPrimary:
		sb, err := ReadSuperblock(r, PrimaryOffset)
		if err != nil {
			return nil, err
		}
		fs, err := openWith(r, size, sb)
		if err != nil {
			return nil, err
		}
		fs.Choice = Choice{Used: sb.Offset, Why: "primary superblock requested"}
		return fs, nil
	case opts.Superblock > 0:
		return openBackupBlock(r, size, opts.Superblock)
	}
	return openAuto(r, size)
}

// openBackupBlock opens with the superblock copy at block n, trying each
// block size until the copy's group number agrees with where it sits.
func openBackupBlock(r io.ReaderAt, size int64, n int64) (*FS, error) {
	var lastErr error
	for bs := int64(1024); bs <= 65536; bs *= 2 {
		off := n * bs
		if off+SuperblockSize > size || off/bs != n {
			break
		}
		sb, err := ReadSuperblock(r, off)
		if err != nil {
			lastErr = err
			continue
		}
		if int64(sb.BlockSize()) == bs && sb.FSOffset() != 0 {
			sb.AdoptOldBackup() // named by the user: a group 0 where a backup belongs is that backup
		}
		if int64(sb.BlockSize()) != bs || sb.FSOffset() != 0 {
			lastErr = fmt.Errorf("ext: superblock at block %d (offset %d) says group %d, which belongs elsewhere", n, off, sb.BlockGroupNr)
			continue
		}
		fs, err := openWith(r, size, sb)
		if err != nil {
			return nil, err
		}
		fs.Choice = Choice{Used: off, Group: sb.BlockGroupNr, Why: fmt.Sprintf("superblock at block %d requested", n)}
		if sb.GroupFromPlace {
			fs.Choice.Why += fmt.Sprintf(" (it says group 0, as old mke2fs wrote every copy; it sits where group %d's copy belongs)", sb.BlockGroupNr)
		}
		return fs, nil
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("ext: no superblock at block %d", n)
	}
	return nil, lastErr
}

// openWith builds an FS from a chosen superblock: it reads and checks the
// group descriptor table the superblock's copy points to.
func openWith(r io.ReaderAt, size int64, sb *Superblock) (*FS, error) {
	fs := &FS{r: r, size: size, SB: sb, bs: int64(sb.BlockSize())}
	if err := fs.readGroups(); err != nil {
		return nil, err
	}
	return fs, nil
}

// BlockSize is the filesystem block size in bytes.
func (fs *FS) BlockSize() int64 { return fs.bs }

// readBlock reads block n, checking it against both the filesystem and
// the device.
func (fs *FS) readBlock(n uint64) ([]byte, error) {
	if n >= fs.SB.BlocksCount {
		return nil, fmt.Errorf("block %d beyond the filesystem's %d blocks", n, fs.SB.BlocksCount)
	}
	buf := make([]byte, fs.bs)
	if err := fs.readAt(buf, int64(n)*fs.bs); err != nil {
		return nil, err
	}
	return buf, nil
}

// readAt fills p from byte off of the device; a failed read is located
// down the stack the device sits on (blockdev.Error).
func (fs *FS) readAt(p []byte, off int64) error {
	_, err := fs.readAtPartial(p, off)
	return err
}

// readAround reads p at off of the filesystem's device past the ranges
// the evidence lacks and returns them (blockdev.ReadAround).
func (fs *FS) readAround(p []byte, off int64) ([]blockdev.Extent, error) {
	dev, ok := fs.r.(blockdev.Device)
	if !ok {
		return nil, fs.readAt(p, off)
	}
	return blockdev.ReadAround(dev, p, off)
}

// readAtPartial is readAt that also says how many bytes came before a
// failure.
func (fs *FS) readAtPartial(p []byte, off int64) (int, error) {
	if off < 0 || off > fs.size || int64(len(p)) > fs.size-off {
		return 0, fmt.Errorf("bytes %d+%d lie %w (%d bytes)", off, len(p), blockdev.ErrOutOfRange, fs.size)
	}
	n, err := fs.r.ReadAt(p, off)
	if n == len(p) {
		return n, nil // io.ReaderAt may report io.EOF with a full read at the end
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, fs.errorAt(off, "read", err)
}

// errorAt is the error for what at byte off of the filesystem's device,
// naming where that byte lies on every layer below (LV, array, disk).
func (fs *FS) errorAt(off int64, what string, err error) error {
	return blockdev.At(fs.r, off, what, err)
}

// descBlocks returns where block i of the group descriptor table may be
// read, best copy first: next to the superblock in use, or with meta_bg in
// the first, second or last group of meta group i.
func (fs *FS) descBlocks(i uint64) []uint64 {
	sb := fs.SB
	perBlock := uint64(fs.bs) / uint64(sb.GroupDescSize())
	if sb.FeatureIncompat&incompatMetaBG == 0 || i < uint64(sb.FirstMetaBG) {
		return []uint64{sb.superBlockOf(uint32(sb.BlockGroupNr)) + 1 + i}
	}
	// meta_bg: the descriptors of meta group i live in its first, second
	// and last group, after the superblock copy if that group has one.
	first := i * perBlock
	var out []uint64
	for _, g := range []uint64{first, first + 1, first + perBlock - 1} {
		if g >= uint64(sb.GroupCount()) {
			continue
		}
		b := sb.groupStart(uint32(g))
		if sb.groupHasSuper(uint32(g)) {
			b = sb.superBlockOf(uint32(g)) + 1
		}
		out = append(out, b)
	}
	if sb.BlockGroupNr != 0 && len(out) > 1 {
		out[0], out[1] = out[1], out[0] // reading from a backup: the primary's group is suspect
	}
	return out
}

func (fs *FS) readGroups() error {
	sb := fs.SB
	n := uint64(sb.GroupCount())
	ds := uint64(sb.GroupDescSize())
	perBlock := uint64(fs.bs) / ds
	nblocks := (n + perBlock - 1) / perBlock
	if nblocks*uint64(fs.bs) > uint64(fs.size) {
		return fmt.Errorf("ext: superblock at %d: %d group descriptors cannot fit the %d-byte device", sb.Offset, n, fs.size)
	}
	if n > maxGroups {
		return fmt.Errorf("ext: superblock at %d: %d block groups (%d blocks of %d per group) exceed the cap of %d", sb.Offset, n, sb.BlocksCount, sb.BlocksPerGroup, maxGroups)
	}
	fs.groups = make([]groupDesc, 0, n)
	for i := range nblocks {
		// Take the first readable copy whose checksums hold; failing that,
		// the copy with the fewest bad descriptors.
		var best []groupDesc
		bestBad := -1
		var err error
		for _, b := range fs.descBlocks(i) {
			var block []byte
			if block, err = fs.readBlock(b); err != nil {
				continue
			}
			descs, bad := fs.decodeGroupBlock(block, uint32(len(fs.groups)), min(perBlock, n-uint64(len(fs.groups))))
			if bestBad < 0 || bad < bestBad {
				best, bestBad = descs, bad
			}
			if bad == 0 {
				break
			}
		}
		if bestBad < 0 {
			return fmt.Errorf("ext: group descriptors (superblock at %d): %w", sb.Offset, err)
		}
		fs.groups = append(fs.groups, best...)
		fs.GroupChecksumErrors += bestBad
	}
	fs.repairGroups()
	return nil
}

// decodeGroupBlock decodes count descriptors, the first for group first,
// and counts those whose checksum fails.
func (fs *FS) decodeGroupBlock(block []byte, first uint32, count uint64) ([]groupDesc, int) {
	ds := uint64(fs.SB.GroupDescSize())
	descs := make([]groupDesc, count)
	bad := 0
	for j := range count {
		descs[j] = fs.decodeGroup(first+uint32(j), block[j*ds:(j+1)*ds])
		if !descs[j].checksumOK {
			bad++
		}
	}
	return descs, bad
}

func (fs *FS) decodeGroup(g uint32, d []byte) groupDesc {
	le := binary.LittleEndian
	gd := groupDesc{
		blockBitmap:  uint64(le.Uint32(d[0x0:])),
		inodeBitmap:  uint64(le.Uint32(d[0x4:])),
		inodeTable:   uint64(le.Uint32(d[0x8:])),
		flags:        le.Uint16(d[0x12:]),
		itableUnused: uint32(le.Uint16(d[0x1C:])),
		checksumOK:   true,
	}
	checksum := le.Uint16(d[0x1E:])
	if len(d) >= 64 {
		gd.blockBitmap |= uint64(le.Uint32(d[0x20:])) << 32
		gd.inodeBitmap |= uint64(le.Uint32(d[0x24:])) << 32
		gd.inodeTable |= uint64(le.Uint32(d[0x28:])) << 32
		gd.itableUnused |= uint32(le.Uint16(d[0x32:])) << 16
	}
	var num [4]byte
	le.PutUint32(num[:], g)
	switch {
	case fs.SB.HasMetadataCsum():
		c := crc32c(fs.SB.csumSeed(), num[:])
		c = crc32c(c, d[:0x1E])
		c = crc32c(c, []byte{0, 0})
		c = crc32c(c, d[0x20:])
		gd.checksumOK = uint16(c) == checksum
	case fs.SB.FeatureROCompat&roCompatGdtCsum != 0:
		c := crc16(0xFFFF, fs.SB.UUID[:])
		c = crc16(c, num[:])
		c = crc16(c, d[:0x1E])
		c = crc16(c, d[0x20:])
		gd.checksumOK = c == checksum
	}
	return gd
}

// checkGroups reports the first group descriptor that points outside the
// filesystem, or nil when all are plausible.
func (fs *FS) checkGroups() error {
	for i, g := range fs.groups {
		if p := fs.descProblem(g); p != "" {
			return fmt.Errorf("group %d descriptor %s", i, p)
		}
	}
	return nil
}

// Problems lists what is wrong with the metadata Open relied on, for info.
func (fs *FS) Problems() []string {
	var p []string
	if fs.SB.Size() > fs.size {
		p = append(p, fmt.Sprintf("filesystem is %d bytes but the device only %d: truncated", fs.SB.Size(), fs.size))
	}
	if fs.SB.ChecksumPresent && !fs.SB.ChecksumOK {
		p = append(p, fmt.Sprintf("superblock at %d: bad checksum", fs.SB.Offset))
	}
	if fs.journalNote != "" || fs.SB.FeatureIncompat&incompatRecover != 0 {
		p = append(p, fs.JournalState())
	}
	if fs.GroupChecksumErrors > 0 {
		p = append(p, fmt.Sprintf("%d of %d group descriptors have bad checksums", fs.GroupChecksumErrors, len(fs.groups)))
	}
	for _, d := range fs.DescriptorChoices {
		p = append(p, d.String())
	}
	if err := fs.checkGroups(); err != nil {
		p = append(p, err.Error())
	}
	if root := fs.RootProblem(); root != "" {
		p = append(p, root)
	}
	return p
}

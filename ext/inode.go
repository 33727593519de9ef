package ext

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"time"
)

// RootIno is the inode number of the root directory.
const RootIno = 2

// Inode flags this reader acts on.
const (
	flagIndex      = 0x1000
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
)

// File types, the top four bits of the mode.
const (
	modeFIFO = 0x1000
	modeChr  = 0x2000
	modeDir  = 0x4000
	modeBlk  = 0x6000
	modeReg  = 0x8000
	modeLnk  = 0xA000
	modeSock = 0xC000
	modeType = 0xF000
)

// Inode is a decoded on-disk inode.
type Inode struct {
	Num        uint32
	Mode       uint16
	UID, GID   uint32
	Size       uint64
	Atime      time.Time
	Ctime      time.Time
	Mtime      time.Time
	Crtime     time.Time // zero without a large inode
	Dtime      uint32
	Links      uint16
	Blocks     uint64 // i_blocks as stored (512-byte units unless HugeFile)
	Flags      uint32
	Generation uint32
	FileACL    uint64
	Version    uint64
	ProjectID  uint32
	ExtraIsize uint16

	// ChecksumPresent is true with metadata_csum; ChecksumOK says whether
	// the stored crc32c matches.
	ChecksumPresent bool
	ChecksumOK      bool
	Checksum        uint32

	block [60]byte // i_block: block map, extent root, symlink or inline data
	raw   []byte
}

// IsDir, IsRegular and IsSymlink test the file type.
func (in *Inode) IsDir() bool     { return in.Mode&modeType == modeDir }
func (in *Inode) IsRegular() bool { return in.Mode&modeType == modeReg }
func (in *Inode) IsSymlink() bool { return in.Mode&modeType == modeLnk }

// InUse reports whether the inode looks allocated: a file type, links, and
// no deletion time. (The bitmaps may be gone on a damaged filesystem.)
func (in *Inode) InUse() bool {
	return in.Mode&modeType != 0 && in.Links > 0 && in.Dtime == 0
}

// FileMode converts the ext mode to an io/fs mode.
func (in *Inode) FileMode() fs.FileMode {
	m := fs.FileMode(in.Mode & 0o777)
	if in.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if in.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if in.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch in.Mode & modeType {
	case modeDir:
		m |= fs.ModeDir
	case modeLnk:
		m |= fs.ModeSymlink
	case modeFIFO:
		m |= fs.ModeNamedPipe
	case modeSock:
		m |= fs.ModeSocket
	case modeChr:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case modeBlk:
		m |= fs.ModeDevice
	}
	return m
}

// TypeName is the file type as debugfs names it.
func (in *Inode) TypeName() string {
	switch in.Mode & modeType {
	case modeReg:
		return "regular"
	case modeDir:
		return "directory"
	case modeLnk:
		return "symlink"
	case modeFIFO:
		return "FIFO"
	case modeSock:
		return "socket"
	case modeChr:
		return "character special"
	case modeBlk:
		return "block special"
	}
	return "bad type"
}

// DeviceNumber returns major and minor of a device inode.
func (in *Inode) DeviceNumber() (major, minor uint32) {
	le := binary.LittleEndian
	if old := le.Uint32(in.block[0:]); old != 0 {
		return old >> 8 & 0xFF, old & 0xFF
	}
	n := le.Uint32(in.block[4:])
	return n >> 8 & 0xFFF, n&0xFF | n>>12&0xFFF00
}

// inodeLocation returns the byte offset of inode n.
func (fs *FS) inodeLocation(n uint32) (int64, error) {
	if n == 0 || n > fs.SB.InodesCount {
		return 0, fmt.Errorf("inode %d out of range 1..%d", n, fs.SB.InodesCount)
	}
	g := (n - 1) / fs.SB.InodesPerGroup
	if int(g) >= len(fs.groups) {
		return 0, fmt.Errorf("inode %d: group %d has no descriptor", n, g)
	}
	it := fs.groups[g].inodeTable
	idx := int64((n - 1) % fs.SB.InodesPerGroup)
	itBlocks := (int64(fs.SB.InodesPerGroup)*int64(fs.SB.InodeSize) + fs.bs - 1) / fs.bs
	if it < uint64(fs.SB.FirstDataBlock) || it+uint64(itBlocks) > fs.SB.BlocksCount {
		return 0, fmt.Errorf("inode %d: group %d inode table at block %d lies outside the filesystem", n, g, it)
	}
	return int64(it)*fs.bs + idx*int64(fs.SB.InodeSize), nil
}

// Inode reads inode n.
func (fs *FS) Inode(n uint32) (*Inode, error) {
	off, err := fs.inodeLocation(n)
	if err != nil {
		return nil, fmt.Errorf("ext: %w", err)
	}
	raw := make([]byte, fs.SB.InodeSize)
	if err := fs.readAt(raw, off); err != nil {
		return nil, fmt.Errorf("ext: inode %d: %w", n, err) // err says where
	}
	return fs.decodeInode(n, raw), nil
}

func (fs *FS) decodeInode(n uint32, b []byte) *Inode {
	le := binary.LittleEndian
	in := &Inode{
		Num:        n,
		Mode:       le.Uint16(b[0x0:]),
		UID:        uint32(le.Uint16(b[0x2:])) | uint32(le.Uint16(b[0x78:]))<<16,
		Size:       uint64(le.Uint32(b[0x4:])) | uint64(le.Uint32(b[0x6C:]))<<32,
		Dtime:      le.Uint32(b[0x14:]),
		GID:        uint32(le.Uint16(b[0x18:])) | uint32(le.Uint16(b[0x7A:]))<<16,
		Links:      le.Uint16(b[0x1A:]),
		Blocks:     uint64(le.Uint32(b[0x1C:])),
		Flags:      le.Uint32(b[0x20:]),
		Version:    uint64(le.Uint32(b[0x24:])),
		Generation: le.Uint32(b[0x64:]),
		FileACL:    uint64(le.Uint32(b[0x68:])) | uint64(le.Uint16(b[0x76:]))<<32,
		raw:        b,
	}
	if fs.SB.FeatureROCompat&roCompatHugeFile != 0 {
		in.Blocks |= uint64(le.Uint16(b[0x74:])) << 32
	}
	copy(in.block[:], b[0x28:0x64])
	extra := func(off int) uint32 { // a field of the large inode, 0 when absent
		if len(b) >= off+4 && int(in.ExtraIsize)+128 >= off+4 {
			return le.Uint32(b[off:])
		}
		return 0
	}
	if len(b) > 128 {
		in.ExtraIsize = le.Uint16(b[0x80:])
		if int(in.ExtraIsize)+128 > len(b) {
			in.ExtraIsize = 0 // garbage: ignore the extra fields
		}
	}
	in.Ctime = inodeTime(le.Uint32(b[0xC:]), extra(0x84))
	in.Mtime = inodeTime(le.Uint32(b[0x10:]), extra(0x88))
	in.Atime = inodeTime(le.Uint32(b[0x8:]), extra(0x8C))
	if c := extra(0x90); c != 0 {
		in.Crtime = inodeTime(c, extra(0x94))
	}
	in.Version |= uint64(extra(0x98)) << 32
	in.ProjectID = extra(0x9C)
	if fs.SB.HasMetadataCsum() {
		in.ChecksumPresent = true
		in.Checksum = uint32(le.Uint16(b[0x7C:]))
		hasHi := len(b) > 128 && in.ExtraIsize >= 4
		if hasHi {
			in.Checksum |= uint32(le.Uint16(b[0x82:])) << 16
		}
		in.ChecksumOK = fs.inodeChecksum(n, in.Generation, b, hasHi) == in.Checksum
	}
	return in
}

// inodeSeed is where the checksums of an inode and of the blocks it owns
// (directory and extent blocks) start: the filesystem seed, then the inode
// number and generation.
func (fs *FS) inodeSeed(n, gen uint32) uint32 {
	var num [8]byte
	binary.LittleEndian.PutUint32(num[0:], n)
	binary.LittleEndian.PutUint32(num[4:], gen)
	return crc32c(fs.SB.csumSeed(), num[:])
}

func (fs *FS) inodeChecksum(n, gen uint32, b []byte, hasHi bool) uint32 {
	c := fs.inodeSeed(n, gen)
	zero := []byte{0, 0}
	c = crc32c(c, b[:0x7C])
	c = crc32c(c, zero)
	c = crc32c(c, b[0x7E:min(len(b), 0x80)])
	if len(b) <= 128 {
		return c & 0xFFFF
	}
	c = crc32c(c, b[0x80:0x82])
	if hasHi {
		c = crc32c(c, zero)
		c = crc32c(c, b[0x84:])
		return c
	}
	c = crc32c(c, b[0x82:])
	return c & 0xFFFF
}

// inodeTime decodes seconds plus the extra word (2 epoch bits, 30 bits of
// nanoseconds) of a large inode.
func inodeTime(sec, extra uint32) time.Time {
	s := int64(int32(sec)) + int64(extra&3)<<32
	return time.Unix(s, int64(extra>>2)).UTC()
}

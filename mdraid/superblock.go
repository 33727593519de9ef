package mdraid

// The superblock model shared by every metadata version, and Examine, which
// looks for superblocks where the kernel and mdadm put them.

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"holmes/blockdev"
)

// Role values other than an active slot number (0, 1, ...).
const (
	RoleSpare   = -1
	RoleFaulty  = -2
	RoleJournal = -3
)

// mdMagic opens every md superblock (0.90 in the host's byte order, 1.x little-endian).
const mdMagic = 0xa92b4efc

// ProbeSuperblock says whether b, read where an md superblock would start,
// opens with the md magic in either byte order (0.90 superblocks are
// written in the host's). A hit is a candidate for ExamineAt.
func ProbeSuperblock(b []byte) bool {
	return len(b) >= 4 && (binary.LittleEndian.Uint32(b) == mdMagic || binary.BigEndian.Uint32(b) == mdMagic)
}

// Superblock is one md superblock as found on a device, decoded but not
// trusted: ChecksumOK and Problems say what is wrong with it.
type Superblock struct {
	Version        string // "0.90" "1.0" "1.1" "1.2"
	Offset         int64  // byte offset of the superblock on the device
	ByteOrder      string // "little-endian" or "big-endian" (0.90 is host-endian)
	ArrayUUID      string // mdadm form xxxxxxxx:xxxxxxxx:xxxxxxxx:xxxxxxxx
	DeviceUUID     string // 1.x only
	Name           string // 1.x set name; 0.90 has only a preferred minor
	PreferredMinor int    // 0.90 md_minor

	Level      string // raid0 raid1 raid4 raid5 raid6 raid10 linear ... or "unknown(N)"
	LevelCode  int32
	Layout     string // n2 f2 o2 left-symmetric ...; "" where mdadm shows none
	LayoutCode uint32
	ChunkBytes int64
	RaidDisks  int

	Role         int   // slot 0..; RoleSpare, RoleFaulty, RoleJournal
	DeviceNumber int   // this device's index in the role table (1.x dev_number, 0.90 this_disk.number)
	Roles        []int // 1.x: role of every device number; 0.90: raid slot of every active disk descriptor, -1 otherwise
	Events       uint64

	// DataOffset is where the member's data starts, in bytes from the start
	// of the member (which is where Offset-SuperOffset points for 1.x).
	DataOffset  int64
	DataSize    int64 // bytes available for data (1.x data_size; 0.90: everything before the superblock)
	UsedSize    int64 // bytes of each member the array uses (sb->size)
	ArraySize   int64 // bytes, computed as mdadm does for redundant levels; 0 otherwise
	SuperOffset int64 // 1.x super_offset field in bytes from the member start

	CTime, UTime time.Time
	State        string // "clean" or "active"
	ArrayState   string // "AA.A" as mdadm prints it (derived from the disk table for 0.90)

	Checksum         uint32
	ExpectedChecksum uint32
	ChecksumOK       bool
	FeatureMap       uint32

	Bitmap      *Bitmap // internal write-intent bitmap, if the superblock says there is one
	BadBlockLog *Region // 1.x bad-block log, if reserved
	Reshape     *Reshape

	// Problems lists inconsistencies found while decoding (beyond the
	// checksum): fields pointing outside the device, impossible counts.
	Problems []string
}

// Region is a byte range on the device (offset from the start of the device).
type Region struct {
	Offset int64
	Size   int64
}

// Bitmap is an internal write-intent bitmap.
type Bitmap struct {
	Offset     int64 // bytes from the start of the device
	Size       int64 // bytes used by header and bits, rounded to 512; 0 if the header was unreadable
	ChunkBytes int64 // bytes of array data per bit; 0 if the header was unreadable
	Events     uint64
	HeaderOK   bool // the bitmap header carries its magic
}

// Reshape describes an interrupted reshape recorded in the superblock.
type Reshape struct {
	Position   int64 // bytes of array data already reshaped
	NewLevel   string
	NewLayout  string
	NewChunk   int64
	DeltaDisks int
}

// Examine returns every md superblock at the standard position of each
// metadata version on a device of the given size: 0.90 and 1.0 near the end,
// 1.1 at the start, 1.2 at 4 KiB. A device without superblocks yields an
// empty list; only read failures are errors. A position that is unreadable
// (blockdev.UnreadableError: a ddrescue gap) is passed over when a
// superblock was found at another; with none found, it is the error.
func Examine(r io.ReaderAt, size int64) ([]*Superblock, error) {
	var found []*Superblock
	var unreadable error
	seen := map[int64]bool{}
	for _, pos := range standardPositions(size) {
		if seen[pos.offset] {
			continue
		}
		sb, err := examineAt(r, size, pos.offset, pos.version)
		if _, ok := blockdev.AsUnreadable(err); ok {
			// A position in a range the evidence lacks (a ddrescue gap)
			// may or may not hold a superblock: the others still count.
			if unreadable == nil {
				unreadable = err
			}
			continue
		}
		if err != nil {
			return found, err
		}
		if sb != nil {
			seen[pos.offset] = true
			found = append(found, sb)
		}
	}
	if len(found) == 0 && unreadable != nil {
		return nil, unreadable
	}
	return found, nil
}

// ExamineAt decodes the superblock at byte offset off if one starts there
// (nil, nil otherwise). The version comes from the superblock itself, so it
// also works on superblocks found by searching a disk whose partition table
// is gone.
func ExamineAt(r io.ReaderAt, size, off int64) (*Superblock, error) {
	return examineAt(r, size, off, "")
}

type position struct {
	version string
	offset  int64
}

// standardPositions lists where each version keeps its superblock on a
// device of size bytes (sector arithmetic as in mdadm and the kernel).
func standardPositions(size int64) []position {
	sectors := size / 512
	var ps []position
	if sectors >= 24 {
		ps = append(ps, position{"1.1", 0}, position{"1.2", 8 * 512})
		ps = append(ps, position{"1.0", ((sectors - 16) &^ 7) * 512})
	}
	if off := super0Offset(size); off >= 0 {
		ps = append(ps, position{"0.90", off})
	}
	return ps
}

// examineAt reads up to 4 KiB at off and decodes it if it is an md
// superblock. version is the version implied by the position, or "" to take
// it from the superblock.
func examineAt(r io.ReaderAt, size, off int64, version string) (*Superblock, error) {
	if off < 0 || off+256 > size {
		return nil, nil
	}
	n := int64(4096)
	if size-off < n {
		n = size - off
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, fmt.Errorf("md: superblock at %d: %w", off, err)
	}
	le := binary.LittleEndian.Uint32(buf)
	be := binary.BigEndian.Uint32(buf)
	// At a standard position only that position's version counts.
	want1 := version != "0.90"
	want0 := version == "" || version == "0.90"
	var sb *Superblock
	switch {
	case want1 && le == mdMagic && binary.LittleEndian.Uint32(buf[4:]) == 1:
		sb = decodeSuper1(buf, off, size, version)
	case want0 && le == mdMagic && binary.LittleEndian.Uint32(buf[4:]) == 0:
		sb = decodeSuper0(buf, off, binary.LittleEndian)
	case want0 && be == mdMagic && binary.BigEndian.Uint32(buf[4:]) == 0:
		sb = decodeSuper0(buf, off, binary.BigEndian)
	default:
		return nil, nil
	}
	if sb.Bitmap != nil {
		if err := readBitmapHeader(r, size, sb.Bitmap); err != nil {
			return nil, err
		}
	}
	return sb, nil
}

// Bitmap header (bitmap_super_t in md-bitmap.h), little-endian.
const (
	bitmapMagic      = 0x6d746962 // "bitm"
	bitmapHeaderSize = 256
	bitmapEvents     = 24
	bitmapSyncSize   = 40 // sectors covered
	bitmapChunkSize  = 52 // bytes per bit
)

// readBitmapHeader fills in what the bitmap header says about its size. A
// header outside the device or without its magic is left unfilled.
func readBitmapHeader(r io.ReaderAt, size int64, b *Bitmap) error {
	if b.Offset < 0 || b.Offset+bitmapHeaderSize > size {
		return nil
	}
	buf := make([]byte, bitmapHeaderSize)
	if _, err := r.ReadAt(buf, b.Offset); err != nil && err != io.EOF {
		return fmt.Errorf("md: bitmap at %d: %w", b.Offset, err)
	}
	le := binary.LittleEndian
	if le.Uint32(buf) != bitmapMagic {
		return nil
	}
	b.HeaderOK = true
	b.Events = le.Uint64(buf[bitmapEvents:])
	chunk := int64(le.Uint32(buf[bitmapChunkSize:]))
	synced := le.Uint64(buf[bitmapSyncSize:])
	if chunk <= 0 || synced > 1<<54 {
		return nil
	}
	b.ChunkBytes = chunk
	bits := (int64(synced)*512 + chunk - 1) / chunk
	b.Size = (bitmapHeaderSize + (bits+7)/8 + 511) &^ 511
	return nil
}

// foldChecksum folds a 64-bit sum of 32-bit words into 32 bits the way md
// does for both superblock formats.
func foldChecksum(sum uint64) uint32 {
	return uint32(sum&0xffffffff + sum>>32)
}

// levelName names a personality as mdadm does.
func levelName(level int32) string {
	switch level {
	case -1:
		return "linear"
	case -4:
		return "multipath"
	case -5:
		return "faulty"
	case 0, 1, 4, 5, 6, 10:
		return fmt.Sprintf("raid%d", level)
	}
	return fmt.Sprintf("unknown(%d)", level)
}

var raid0Layouts = map[uint32]string{0: "dangerous", 1: "original", 2: "alternate"}

// featureRAID0Layout marks a raid0 whose multi-zone layout is recorded.
const featureRAID0Layout = 1 << 12

// layoutName gives the layout the way mdadm names it; "" for levels whose
// layout mdadm does not show.
func layoutName(level int32, layout, featureMap uint32) string {
	unknown := fmt.Sprintf("unknown(%d)", layout)
	switch level {
	case 0:
		if featureMap&featureRAID0Layout != 0 {
			if s, ok := raid0Layouts[layout]; ok {
				return s
			}
			return unknown
		}
	case 5, 6:
		// raid5 knows the first six algorithms; raid6 also the DDF and
		// "-6" ones (the kernel's algorithm numbers, mdadm's names).
		if s, ok := parityLayoutNames[int(layout)]; ok && (level == 6 || layout <= algParityN) {
			return s
		}
		return unknown
	case 10:
		return raid10LayoutName(layout)
	}
	return ""
}

// raid10LayoutName writes a raid10 layout as mdadm's --layout takes it:
// near copies in the low byte, far (or offset, bit 16) copies in the next.
func raid10LayoutName(layout uint32) string {
	near, far := layout&0xff, (layout>>8)&0xff
	farKind := "f"
	if layout&0x10000 != 0 {
		farKind = "o"
	}
	s := ""
	if near != 1 || far == 1 {
		s = fmt.Sprintf("n%d", near)
	}
	if far != 1 {
		s += fmt.Sprintf("%s%d", farKind, far)
	}
	return s
}

// arraySize is the array's size as mdadm computes it for --examine: only
// for levels with redundancy, from the per-member used size.
func arraySize(level int32, layout uint32, raidDisks int, used int64) int64 {
	data, denom := int64(0), int64(1)
	switch level {
	case 1:
		data = 1
	case 4, 5:
		data = int64(raidDisks) - 1
	case 6:
		data = int64(raidDisks) - 2
	case 10:
		data = int64(raidDisks)
		denom = int64(layout&0xff) * int64((layout>>8)&0xff)
	}
	if data <= 0 || denom <= 0 || used > 1<<52 {
		return 0
	}
	return used * data / denom
}

// unixTime turns an md timestamp (seconds in the low 40 bits, microseconds
// above them in 1.x) into UTC.
func unixTime(v uint64) time.Time {
	sec := int64(v & 0xffffffffff)
	usec := int64(v>>40) % 1000000
	return time.Unix(sec, usec*1000).UTC()
}

// DataEnd is where a member of size bytes stops holding data under
// superblock format version: 0.90 and 1.0 keep their superblock at the end,
// 1.1 and 1.2 at the start. An unknown version, or a device too small for
// the format, gives size.
func DataEnd(version string, size int64) int64 {
	if off, _, ok := SuperblockRange(version, size); ok && (version == "0.90" || version == "1.0") {
		return off
	}
	return size
}

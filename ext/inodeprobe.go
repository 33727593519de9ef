package ext

import (
	"encoding/binary"
	"math"
)

// Recognising inode-table bytes without a device: with metadata_csum an
// inode's checksum is a crc32c over the filesystem's seed, the inode's
// number and generation and the inode's bytes. A crc is linear over GF(2)
// in all of that, so the number is the one unknown of one linear equation
// with a unique solution: the checksum of an inode found anywhere names
// its number, and with the group descriptors, its place in the filesystem.

// InodeNumbers tells which inodes a run of inode-table bytes holds.
type InodeNumbers struct {
	fs *FS
	// pivots[b]: a combination (number n, its checksum term vec) whose vec
	// has b as its highest bit; together they invert n -> checksum term.
	pivots [32]struct{ n, vec uint32 }
}

// InodeNumbers returns the prober of this filesystem's inodes, or false
// where the checksums cannot name an inode: no metadata_csum, or inodes of
// 128 bytes whose 16-bit checksum leaves 65536 numbers per value.
func (sb *Superblock) InodeNumbers() (*InodeNumbers, bool) {
	if !sb.HasMetadataCsum() || sb.InodeSize <= 128 || int(sb.InodeSize) > sb.BlockSize() || sb.InodesPerGroup == 0 {
		return nil, false
	}
	x := &InodeNumbers{fs: &FS{SB: sb, bs: int64(sb.BlockSize())}}
	zero := make([]byte, sb.InodeSize)
	base := x.fs.inodeChecksum(0, 0, zero, true)
	for i := range 32 {
		n := uint32(1) << i
		vec := x.fs.inodeChecksum(n, 0, zero, true) ^ base // the term n adds, whatever the rest
		for b := 31; b >= 0 && vec != 0; b-- {
			if vec>>b&1 == 0 {
				continue
			}
			if x.pivots[b].vec == 0 {
				x.pivots[b].n, x.pivots[b].vec = n, vec
				break
			}
			n ^= x.pivots[b].n
			vec ^= x.pivots[b].vec
		}
	}
	return x, true
}

// number returns the inode number under which the checksum of inode bytes
// b holds, or false when b carries no full checksum.
func (x *InodeNumbers) number(b []byte) (uint32, bool) {
	le := binary.LittleEndian
	if extra := le.Uint16(b[0x80:]); extra < 4 || 128+int(extra) > len(b) {
		return 0, false
	}
	stored := uint32(le.Uint16(b[0x7C:])) | uint32(le.Uint16(b[0x82:]))<<16
	v := stored ^ x.fs.inodeChecksum(0, le.Uint32(b[0x64:]), b, true)
	var n uint32
	for bit := 31; bit >= 0; bit-- {
		if v>>bit&1 == 0 {
			continue
		}
		if x.pivots[bit].vec == 0 {
			return 0, false
		}
		v ^= x.pivots[bit].vec
		n ^= x.pivots[bit].n
	}
	return n, true
}

// minInodeProofBits is how unlikely a chance match must be: every inode
// whose checksum names a number in range is one chance in 2^32 / inodes.
const minInodeProofBits = 24

// Probe finds the inodes in b (whole inodes from an inode boundary:
// inode-table bytes, perhaps running past the table's ends) whose checksum
// names their number, and returns their slots in b and the number of the
// first (slot k holds inode n + k - slots[0]), when the checksums prove
// it: every inode whose checksum names a number in range names one that
// follows on from the first, and together they leave a chance match below
// 1 in 2^24. Slots whose checksum names nothing in range (never used,
// zeroed, outside the table, or left from an older filesystem) are passed
// over; one that does not follow on breaks it.
func (x *InodeNumbers) Probe(b []byte) (slots []int, n uint32, ok bool) {
	sb := x.fs.SB
	isz := int(sb.InodeSize)
	if sb.InodesCount == 0 {
		return nil, 0, false
	}
	perMatch := 32 - math.Log2(float64(sb.InodesCount))
	for k := range len(b) / isz {
		m, ok := x.number(b[k*isz : (k+1)*isz])
		if !ok || m == 0 || m > sb.InodesCount {
			continue
		}
		if len(slots) > 0 && int64(m)-int64(n) != int64(k-slots[0]) {
			return nil, 0, false
		}
		if len(slots) == 0 {
			n = m
		}
		slots = append(slots, k)
	}
	if len(slots) == 0 || float64(len(slots))*perMatch < minInodeProofBits {
		return nil, 0, false
	}
	return slots, n, true
}

// InodeTables returns the first block of the inode table of each group
// described in block j of the group descriptor table (b, as
// ProbeDescriptorBlock proved it), the first for group j × descriptors per block.
func (sb *Superblock) InodeTables(b []byte, j uint64) []uint64 {
	ds := sb.GroupDescSize()
	perBlock := uint64(sb.BlockSize() / ds)
	if len(b) < sb.BlockSize() || j*perBlock >= uint64(sb.GroupCount()) {
		return nil
	}
	fs := &FS{SB: sb, bs: int64(sb.BlockSize())}
	count := min(perBlock, uint64(sb.GroupCount())-j*perBlock)
	out := make([]uint64, count)
	for i := range count {
		out[i] = fs.decodeGroup(uint32(j*perBlock+i), b[i*uint64(ds):(i+1)*uint64(ds)]).inodeTable
	}
	return out
}

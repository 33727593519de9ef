package compare

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// BlockSize is the granularity of diff_blocks and of regions: a 4 KiB block
// is the unit filesystems and md write in, so it is the unit people reason in.
const BlockSize = 4096

const (
	lowBits7 = 0x7f7f7f7f7f7f7f7f
	lowBit   = 0x0101010101010101
	evenByte = 0x00ff00ff00ff00ff
)

// nonZeroLanes sets byte i of the result to 1 if byte i of x is not zero,
// else 0, without branches: adding 0x7f to a byte's low seven bits carries
// into its top bit exactly when they are not all zero (no carry crosses into
// the next byte), and or-ing the byte itself covers its own top bit.
func nonZeroLanes(x uint64) uint64 {
	return (((x&lowBits7 + lowBits7) | x) >> 7) & lowBit
}

// sumLanes adds the eight bytes of acc (each at most 255) together.
func sumLanes(acc uint64) int {
	pairs := acc&evenByte + (acc>>8)&evenByte // four 16-bit lanes
	return int((pairs * 0x0001000100010001) >> 48)
}

// blockDiff is what differs between two equally long byte slices.
type blockDiff struct {
	first int // index of the first differing byte, -1 if none
	count int // number of differing bytes
}

// diffBytes compares a and b (same length). Equal inputs take the assembly
// fast path of bytes.Equal. Otherwise the differing bytes are counted 8 at a
// time without a branch per word, in 256-byte spans whose per-byte tallies
// cannot overflow, so the cost does not depend on how many bytes differ.
func diffBytes(a, b []byte) blockDiff {
	if bytes.Equal(a, b) {
		return blockDiff{first: -1}
	}
	b = b[:len(a)]
	d := blockDiff{first: firstDiff(a, b)}
	n := len(a) &^ 255
	for i := 0; i < n; i += 256 {
		pa, pb := a[i:i+256:i+256], b[i:i+256:i+256]
		var acc uint64
		for j := 0; j < 256; j += 32 {
			acc += nonZeroLanes(binary.LittleEndian.Uint64(pa[j:]) ^ binary.LittleEndian.Uint64(pb[j:]))
			acc += nonZeroLanes(binary.LittleEndian.Uint64(pa[j+8:]) ^ binary.LittleEndian.Uint64(pb[j+8:]))
			acc += nonZeroLanes(binary.LittleEndian.Uint64(pa[j+16:]) ^ binary.LittleEndian.Uint64(pb[j+16:]))
			acc += nonZeroLanes(binary.LittleEndian.Uint64(pa[j+24:]) ^ binary.LittleEndian.Uint64(pb[j+24:]))
		}
		d.count += sumLanes(acc)
	}
	for i := n; i < len(a); i++ {
		if a[i] != b[i] {
			d.count++
		}
	}
	return d
}

// firstDiff returns the index of the first byte where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	i := 0
	for ; i+8 <= len(a); i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < len(a); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

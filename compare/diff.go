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
)

// nonZeroBytes counts the bytes of x that are not zero, without a loop:
// for each byte, adding 0x7f to its low seven bits carries into the top bit
// exactly when those bits are not all zero; or-ing the byte's own top bit
// covers the rest.
func nonZeroBytes(x uint64) int {
	t := (x&lowBits7 + lowBits7) | x
	return bits.OnesCount64(t &^ lowBits7)
}

// blockDiff is what differs between two equally long byte slices.
type blockDiff struct {
	first int // index of the first differing byte, -1 if none
	count int // number of differing bytes
}

// diffBytes compares a and b (same length) 8 bytes at a time and only looks
// inside words that differ, so its cost does not depend on how many bytes
// differ. Equal inputs take the assembly fast path of bytes.Equal.
func diffBytes(a, b []byte) blockDiff {
	if bytes.Equal(a, b) {
		return blockDiff{first: -1}
	}
	d := blockDiff{first: -1}
	b = b[:len(a)]
	// Four words per step: the common case inside a differing block is
	// a run of differing words, and unrolling lets them overlap in the CPU.
	n := len(a) &^ 31
	for i := 0; i < n; i += 32 {
		pa, pb := a[i:i+32:i+32], b[i:i+32:i+32]
		x0 := binary.LittleEndian.Uint64(pa[0:]) ^ binary.LittleEndian.Uint64(pb[0:])
		x1 := binary.LittleEndian.Uint64(pa[8:]) ^ binary.LittleEndian.Uint64(pb[8:])
		x2 := binary.LittleEndian.Uint64(pa[16:]) ^ binary.LittleEndian.Uint64(pb[16:])
		x3 := binary.LittleEndian.Uint64(pa[24:]) ^ binary.LittleEndian.Uint64(pb[24:])
		if x0|x1|x2|x3 == 0 {
			continue
		}
		if d.first < 0 {
			d.first = i + firstNonZeroByte(x0, x1, x2, x3)
		}
		d.count += nonZeroBytes(x0) + nonZeroBytes(x1) + nonZeroBytes(x2) + nonZeroBytes(x3)
	}
	for i := n; i < len(a); i++ {
		if a[i] != b[i] {
			if d.first < 0 {
				d.first = i
			}
			d.count++
		}
	}
	return d
}

// firstNonZeroByte returns the index of the first non-zero byte of the
// little-endian words x0..x3 taken as 32 consecutive bytes; one is not zero.
func firstNonZeroByte(x0, x1, x2, x3 uint64) int {
	switch {
	case x0 != 0:
		return bits.TrailingZeros64(x0) / 8
	case x1 != 0:
		return 8 + bits.TrailingZeros64(x1)/8
	case x2 != 0:
		return 16 + bits.TrailingZeros64(x2)/8
	}
	return 24 + bits.TrailingZeros64(x3)/8
}

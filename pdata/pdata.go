// Package pdata reads the kernel's persistent-data structures
// (drivers/md/persistent-data) that dm-thin and dm-cache metadata are built
// from: checksummed 4 KiB metadata blocks, btrees of 64-bit keys, and
// arrays (a btree of array blocks) with the bitsets over them. Walks are
// bounded by the metadata device and by a budget of node reads; a node
// that does not check out is left out and reported (a Problem) with the
// keys it hides, so the rest of the structure stays readable.
package pdata

import (
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// BlockSize is the metadata block size: the kernel writes 4 KiB metadata
// blocks (8 sectors) and accepts no other.
const BlockSize = 4096

// The checksum seeds of the shared block kinds: every checksum is crc32c
// over the block after its first four bytes, xored with a constant that
// says what the block is.
const (
	BtreeNodeXor  = 121107
	ArrayBlockXor = 595846735
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum is the kernel's dm_bm_checksum of a block: crc32c seeded with
// all ones, not inverted at the end, xored with the block kind's seed.
func Checksum(block []byte, xor uint32) uint32 {
	return ^crc32.Checksum(block[4:], castagnoli) ^ xor
}

// ReadBlock reads metadata block n, which the caller has bounded by the
// device's size.
func ReadBlock(r io.ReaderAt, n uint64) ([]byte, error) {
	b := make([]byte, BlockSize)
	got, err := r.ReadAt(b, int64(n)*BlockSize)
	if got == BlockSize {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// Problem is damage met in the metadata: which metadata block, in which
// structure, and what was wrong with it.
type Problem struct {
	Block uint64 `json:"block"`  // metadata block number
	Tree  string `json:"tree"`   // "data mapping", "device 3 mapping", "dirty bitset", "superblock"
	Msg   string `json:"reason"` // what was wrong
	// Keys are the keys the damage hides, from Lo to Hi inclusive (a
	// btree's keys; an array's entry indices).
	Lo uint64 `json:"keys_from"`
	Hi uint64 `json:"keys_to"`
}

func (p Problem) String() string {
	return fmt.Sprintf("metadata block %d (@ %d), %s tree: %s (keys %s hidden)", p.Block, p.Block*BlockSize, p.Tree, p.Msg, KeyRange(p.Lo, p.Hi))
}

// KeyRange prints the keys lo to hi inclusive.
func KeyRange(lo, hi uint64) string {
	if hi == math.MaxUint64 {
		return fmt.Sprintf("%d and above", lo)
	}
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

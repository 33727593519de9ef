package pdata

import (
	"encoding/binary"
	"fmt"
	"io"
)

// arrayHeaderSize is struct array_block's: checksum, max_entries,
// nr_entries, value_size, then the block's own number.
const arrayHeaderSize = 24

// Array reads a dm-array: a btree whose keys are array block indices and
// whose values are the numbers of array blocks, each holding up to
// (BlockSize-24)/ValueSize values. Every array block but the last is full.
// The kernel shares one array block among several indices when it grows an
// array with a default value, so a block met twice is no damage; the
// budget bounds the reads.
type Array struct {
	R         io.ReaderAt
	NBlocks   uint64 // metadata blocks on the device
	Name      string // what the array is, for Problems
	ValueSize int    // bytes per entry
	Len       uint64 // entries the array holds (its owner's count)
	Budget    *int64 // node and array block reads left
	// Problems is the damage the last Walk met; Lo and Hi are entry
	// indices.
	Problems []Problem
}

// Walk calls entry for every entry of the array at root, in index order.
// Entries in damaged or missing array blocks are left out and listed in
// a.Problems.
func (a *Array) Walk(root uint64, entry func(index uint64, value []byte)) error {
	if a.ValueSize <= 0 || a.ValueSize > BlockSize-arrayHeaderSize {
		return fmt.Errorf("%s: value size %d does not fit an array block", a.Name, a.ValueSize)
	}
	perBlock := uint64((BlockSize - arrayHeaderSize) / a.ValueSize)
	nblocks := a.Len / perBlock // rounded up below, without overflow
	if a.Len%perBlock != 0 {
		nblocks++
	}
	if nblocks > a.NBlocks {
		return fmt.Errorf("%s: %d entries need %d array blocks, more than the metadata device's %d blocks", a.Name, a.Len, nblocks, a.NBlocks)
	}
	entries := func(lo, hi uint64) (uint64, uint64) { // array blocks lo-hi as entry indices
		last := a.Len - 1
		if hi < nblocks-1 {
			last = hi*perBlock + perBlock - 1
		}
		return lo * perBlock, last
	}
	fail := func(block, lo, hi uint64, format string, args ...any) {
		first, last := entries(lo, hi)
		a.Problems = append(a.Problems, Problem{Block: block, Tree: a.Name, Msg: fmt.Sprintf(format, args...), Lo: first, Hi: last})
	}
	if a.Len == 0 {
		return nil
	}
	t := &Tree{R: a.R, NBlocks: a.NBlocks, Name: a.Name, ValueSize: 8, Budget: a.Budget}
	next := uint64(0)    // the first array block index not yet met
	var gaps [][2]uint64 // array block indices the btree lacks
	t.Walk(root, func(leaf, key uint64, v []byte) {
		if key >= nblocks {
			fail(leaf, nblocks-1, nblocks-1, "the btree has array block index %d, past the %d blocks of %d entries", key, nblocks, a.Len)
			return
		}
		if key > next {
			gaps = append(gaps, [2]uint64{next, key - 1})
		}
		next = key + 1
		block := binary.LittleEndian.Uint64(v)
		values, err := a.readArrayBlock(block, key, perBlock, nblocks)
		if err != nil {
			fail(block, key, key, "array block %d: %v", key, err)
			return
		}
		for i := uint64(0); i < uint64(len(values)/a.ValueSize); i++ {
			entry(key*perBlock+i, values[int(i)*a.ValueSize:int(i+1)*a.ValueSize])
		}
	})
	if next < nblocks {
		gaps = append(gaps, [2]uint64{next, nblocks - 1})
	}
	hidden := func(i uint64) bool { // by damage the btree walk reports
		for _, p := range t.Problems {
			if p.Lo <= i && i <= p.Hi {
				return true
			}
		}
		return false
	}
	for _, g := range gaps {
		if !hidden(g[0]) {
			fail(root, g[0], g[1], "the btree has no array blocks %s", KeyRange(g[0], g[1]))
		}
	}
	for _, p := range t.Problems { // keys there are array block indices
		if p.Lo >= nblocks {
			continue
		}
		p.Lo, p.Hi = entries(p.Lo, min(p.Hi, nblocks-1))
		a.Problems = append(a.Problems, p)
	}
	return nil
}

// readArrayBlock reads and checks array block number index (of nblocks):
// bounds, checksum, its own number, its geometry, and that it holds the
// entries its place in the array needs. It returns those entries' bytes.
func (a *Array) readArrayBlock(block, index, perBlock, nblocks uint64) ([]byte, error) {
	switch {
	case block >= a.NBlocks:
		return nil, fmt.Errorf("outside the metadata device (%d blocks)", a.NBlocks)
	case *a.Budget <= 0:
		return nil, fmt.Errorf("not read: the walks of this metadata reached their bound of reads")
	}
	*a.Budget--
	b, err := ReadBlock(a.R, block)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	le := binary.LittleEndian
	if sum := Checksum(b, ArrayBlockXor); le.Uint32(b) != sum {
		return nil, fmt.Errorf("bad checksum %08x, computed %08x", le.Uint32(b), sum)
	}
	max, nr, vsize, self := le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint64(b[16:])
	want := perBlock
	if index == nblocks-1 {
		want = a.Len - index*perBlock
	}
	switch {
	case self != block:
		return nil, fmt.Errorf("says it is block %d", self)
	case int(vsize) != a.ValueSize || uint64(max) != perBlock:
		return nil, fmt.Errorf("value size %d and max_entries %d, want %d and %d", vsize, max, a.ValueSize, perBlock)
	case uint64(nr) < want:
		return nil, fmt.Errorf("nr_entries %d, want at least %d", nr, want)
	}
	return b[arrayHeaderSize : arrayHeaderSize+int(want)*a.ValueSize], nil
}

// WalkBitset calls set for every bit set of the dm-bitset at root (an
// array of 64-bit words, bit i in word i/64) of nbits bits. Bits in damaged
// words are left out and listed in a.Problems (with bit indices).
func (a *Array) WalkBitset(root, nbits uint64, set func(bit uint64)) error {
	a.ValueSize, a.Len = 8, nbits/64
	if nbits%64 != 0 {
		a.Len++
	}
	before := len(a.Problems)
	err := a.Walk(root, func(i uint64, v []byte) {
		w := binary.LittleEndian.Uint64(v)
		for b := uint64(0); w != 0 && b < 64 && i*64+b < nbits; b++ {
			if w&(1<<b) != 0 {
				set(i*64 + b)
			}
		}
	})
	for i := before; i < len(a.Problems); i++ {
		p := &a.Problems[i]
		p.Lo, p.Hi = p.Lo*64, min(p.Hi*64+63, nbits-1)
	}
	return err
}

package pdata_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"holmes/internal/fixture"
	"holmes/pdata"
	"holmes/pdata/pdatatest"
)

const perBlock = (pdata.BlockSize - 24) / 8 // 8-byte entries per array block

// entries are the 8-byte values first, first+1, ... of an array block.
func entries(first, n int) [][]byte {
	var v [][]byte
	for i := 0; i < n; i++ {
		v = append(v, pdatatest.U64(uint64(first+i)))
	}
	return v
}

// walk reads the array of length entries at root (block 1) of meta.
func walk(t *testing.T, meta []byte, length uint64, budget int64) (got []uint64, a *pdata.Array) {
	t.Helper()
	a = &pdata.Array{R: &fixture.Mem{B: meta, N: "crafted"}, NBlocks: uint64(len(meta) / pdata.BlockSize), Name: "test", ValueSize: 8, Len: length, Budget: &budget}
	if err := a.Walk(1, func(i uint64, v []byte) {
		if !bytes.Equal(v, pdatatest.U64(i)) {
			t.Errorf("entry %d holds %x", i, v)
		}
		got = append(got, i)
	}); err != nil {
		t.Fatal(err)
	}
	return got, a
}

// An array of two blocks reads whole and in order; damage and gaps are
// reported with the entries they hide.
func TestArrayWalk(t *testing.T) {
	n := perBlock + 91
	meta := make([]byte, 8*pdata.BlockSize)
	pdatatest.PutNode(meta, 1, pdata.NodeLeaf, 8, []uint64{0, 1}, [][]byte{pdatatest.U64(2), pdatatest.U64(3)})
	pdatatest.PutArrayBlock(meta, 2, 8, entries(0, perBlock))
	pdatatest.PutArrayBlock(meta, 3, 8, entries(perBlock, 91))
	got, a := walk(t, meta, uint64(n), 100)
	if len(got) != n || got[n-1] != uint64(n-1) || len(a.Problems) != 0 {
		t.Fatalf("%d entries, %v", len(got), a.Problems)
	}

	check := func(name string, meta []byte, budget int64, want string, lo, hi uint64) {
		t.Helper()
		got, a := walk(t, meta, uint64(n), budget)
		if len(a.Problems) != 1 || !strings.Contains(a.Problems[0].Msg, want) || a.Problems[0].Lo != lo || a.Problems[0].Hi != hi || len(got) != n-int(hi-lo+1) {
			t.Errorf("%s: %d entries, %v", name, len(got), a.Problems)
		}
	}
	m := bytes.Clone(meta)
	m[3*pdata.BlockSize+50] ^= 1
	check("bad checksum", m, 100, "array block 1: bad checksum", perBlock, uint64(n-1))
	m = bytes.Clone(meta)
	pdatatest.PutNode(m, 1, pdata.NodeLeaf, 8, []uint64{1}, [][]byte{pdatatest.U64(3)})
	check("gap", m, 100, "the btree has no array blocks 0", 0, perBlock-1)
	m = bytes.Clone(meta)
	pdatatest.PutNode(m, 1, pdata.NodeLeaf, 8, []uint64{0}, [][]byte{pdatatest.U64(2)})
	check("short", m, 100, "the btree has no array blocks 1", perBlock, uint64(n-1))
	m = bytes.Clone(meta)
	pdatatest.PutNode(m, 1, pdata.NodeLeaf, 8, []uint64{0, 1}, [][]byte{pdatatest.U64(2), pdatatest.U64(99)})
	check("outside", m, 100, "outside the metadata device", perBlock, uint64(n-1))
	m = bytes.Clone(meta)
	pdatatest.PutArrayBlock(m, 3, 8, entries(perBlock, 90))
	check("too few", m, 100, "nr_entries 90, want at least 91", perBlock, uint64(n-1))
	check("budget", meta, 2, "bound of reads", perBlock, uint64(n-1))
	m = bytes.Clone(meta)
	pdatatest.PutNode(m, 1, pdata.NodeInternal, 8, []uint64{0}, [][]byte{pdatatest.U64(1)})
	check("cycle", m, 100, "reached a second time", 0, uint64(n-1))

	// The kernel grows an array by sharing one full block among indices.
	m = bytes.Clone(meta)
	pdatatest.PutArrayBlock(m, 2, 8, make([][]byte, perBlock))
	pdatatest.PutNode(m, 1, pdata.NodeLeaf, 8, []uint64{0, 1}, [][]byte{pdatatest.U64(2), pdatatest.U64(2)})
	var count int
	budget := int64(100)
	a = &pdata.Array{R: &fixture.Mem{B: m, N: "shared"}, NBlocks: 8, Name: "test", ValueSize: 8, Len: 2 * perBlock, Budget: &budget}
	if err := a.Walk(1, func(uint64, []byte) { count++ }); err != nil || count != 2*perBlock || len(a.Problems) != 0 {
		t.Errorf("shared: %v, %d entries, %v", err, count, a.Problems)
	}
	// More entries than the device could hold, and values wider than a block.
	for _, a := range []*pdata.Array{
		{R: &fixture.Mem{B: meta}, NBlocks: 8, Name: "test", ValueSize: 8, Len: math.MaxUint64, Budget: &budget},
		{R: &fixture.Mem{B: meta}, NBlocks: 8, Name: "test", ValueSize: pdata.BlockSize, Len: 1, Budget: &budget},
	} {
		if err := a.Walk(1, func(uint64, []byte) {}); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
}

// A bitset's bits, those past its length ignored; damage names bits.
func TestBitset(t *testing.T) {
	meta := make([]byte, 4*pdata.BlockSize)
	pdatatest.PutNode(meta, 1, pdata.NodeLeaf, 8, []uint64{0}, [][]byte{pdatatest.U64(2)})
	pdatatest.PutArrayBlock(meta, 2, 8, [][]byte{pdatatest.U64(1<<3 | 1<<63), pdatatest.U64(1<<5 | 1<<40)})
	budget := int64(10)
	a := &pdata.Array{R: &fixture.Mem{B: meta}, NBlocks: 4, Name: "bits", Budget: &budget}
	var set []uint64
	if err := a.WalkBitset(1, 70, func(b uint64) { set = append(set, b) }); err != nil || len(set) != 3 || set[0] != 3 || set[1] != 63 || set[2] != 69 {
		t.Errorf("%v %v", err, set)
	}
	meta[2*pdata.BlockSize+30] ^= 1
	a = &pdata.Array{R: &fixture.Mem{B: meta}, NBlocks: 4, Name: "bits", Budget: &budget}
	if err := a.WalkBitset(1, 70, func(uint64) {}); err != nil || len(a.Problems) != 1 || a.Problems[0].Lo != 0 || a.Problems[0].Hi != 69 {
		t.Errorf("%v %v", err, a.Problems)
	}
}

package pdata

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// A btree node (persistent-data's struct node_header, then max_entries
// little-endian 64-bit keys, then max_entries values of value_size bytes).
const (
	NodeHeaderSize = 32
	NodeInternal   = 1
	NodeLeaf       = 2
	// maxDepth bounds a walk: with at least 84 entries per full node, no
	// tree over 2^64 keys is deeper than 11 levels.
	maxDepth = 16
)

// node is a decoded, checked btree node.
type node struct {
	leaf      bool
	keys      []uint64
	values    []byte
	valueSize int
}

func (n *node) value(i int) []byte { return n.values[i*n.valueSize : (i+1)*n.valueSize] }

// Tree walks one btree of the metadata device, refusing any node that does
// not check out and reporting the keys it would have held.
type Tree struct {
	R         io.ReaderAt
	NBlocks   uint64 // metadata blocks on the device: every pointer must be below
	Name      string // what the tree is, for Problems
	ValueSize int    // of the leaves
	// Budget counts the node reads the metadata's walks may still make:
	// shared subtrees are walked once per owner that maps them, and
	// hostile metadata could make that quadratic in its size.
	Budget   *int64
	Problems []Problem // the damage the last Walk met
	visited  map[uint64]bool
}

// Walk calls leaf for every key and value the tree holds (with the leaf's
// block), in key order; damaged subtrees are left out and listed in
// t.Problems.
func (t *Tree) Walk(root uint64, leaf func(block, key uint64, value []byte)) {
	t.visited = map[uint64]bool{}
	t.walkNode(root, 0, math.MaxUint64, 0, leaf)
}

func (t *Tree) walkNode(block, lo, hi uint64, depth int, leaf func(block, key uint64, value []byte)) {
	fail := func(format string, args ...any) {
		t.Problems = append(t.Problems, Problem{Block: block, Tree: t.Name, Msg: fmt.Sprintf(format, args...), Lo: lo, Hi: hi})
	}
	switch {
	case depth >= maxDepth:
		fail("the tree is deeper than %d levels", maxDepth)
		return
	case block >= t.NBlocks:
		fail("points outside the metadata device (%d blocks)", t.NBlocks)
		return
	case t.visited[block]:
		fail("reached a second time (a cycle or a shared node)")
		return
	case *t.Budget <= 0:
		fail("not read: the walks of this metadata's trees reached their bound of node reads")
		return
	}
	*t.Budget--
	t.visited[block] = true
	n, err := t.readNode(block)
	if err != nil {
		fail("%v", err)
		return
	}
	for i, k := range n.keys {
		if k < lo || k > hi || (i > 0 && k <= n.keys[i-1]) {
			fail("key %d out of order or outside its parent's range", k)
			return
		}
	}
	for i, k := range n.keys {
		if n.leaf {
			leaf(block, k, n.value(i))
			continue
		}
		// Child i holds the keys from keys[i] up to the next child's first.
		childLo, childHi := k, hi
		if i == 0 {
			childLo = lo
		}
		if i+1 < len(n.keys) {
			childHi = n.keys[i+1] - 1
		}
		t.walkNode(binary.LittleEndian.Uint64(n.value(i)), childLo, childHi, depth+1, leaf)
	}
}

// readNode reads and checks a node: checksum, its own block number, the
// sizes of its arrays within the block, its kind and value size.
func (t *Tree) readNode(block uint64) (*node, error) {
	b, err := ReadBlock(t.R, block)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	le := binary.LittleEndian
	if sum := Checksum(b, BtreeNodeXor); le.Uint32(b) != sum {
		return nil, fmt.Errorf("bad checksum %08x, computed %08x", le.Uint32(b), sum)
	}
	flags, self := le.Uint32(b[4:]), le.Uint64(b[8:])
	nr, max, vsize := le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint32(b[24:])
	if self != block {
		return nil, fmt.Errorf("says it is block %d", self)
	}
	n := &node{leaf: flags&NodeLeaf != 0}
	switch {
	case flags != NodeInternal && flags != NodeLeaf:
		return nil, fmt.Errorf("flags %#x are neither internal nor leaf", flags)
	case !n.leaf && vsize != 8, n.leaf && int(vsize) != t.ValueSize:
		return nil, fmt.Errorf("value size %d, want %d", vsize, map[bool]int{false: 8, true: t.ValueSize}[n.leaf])
	case max == 0 || max%3 != 0 || NodeHeaderSize+uint64(max)*(8+uint64(vsize)) > BlockSize:
		return nil, fmt.Errorf("max_entries %d does not fit the block", max)
	case nr > max:
		return nil, fmt.Errorf("nr_entries %d above max_entries %d", nr, max)
	case nr == 0 && !n.leaf:
		return nil, fmt.Errorf("an internal node with no entries")
	}
	n.valueSize = int(vsize)
	n.keys = make([]uint64, nr)
	for i := range n.keys {
		n.keys[i] = le.Uint64(b[NodeHeaderSize+8*i:])
	}
	start := NodeHeaderSize + 8*int(max)
	n.values = b[start : start+int(nr)*n.valueSize]
	return n, nil
}

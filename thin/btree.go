package thin

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// A btree node (persistent-data's struct node_header, then max_entries
// little-endian 64-bit keys, then max_entries values of value_size bytes).
const (
	nodeHeaderSize = 32
	nodeInternal   = 1
	nodeLeaf       = 2
	// maxDepth bounds a walk: with at least 84 entries per full node, no
	// tree over 2^64 keys is deeper than 11 levels.
	maxDepth = 16
)

// Problem is damage met in the metadata: which metadata block, in which
// tree, and what was wrong with it.
type Problem struct {
	Block uint64 `json:"block"`  // metadata block number
	Tree  string `json:"tree"`   // "data mapping", "device 3 mapping", "device details", "superblock"
	Msg   string `json:"reason"` // what was wrong
	// Keys are the keys the damage hides, from Lo to Hi inclusive (device
	// ids in the top-level and details trees, virtual blocks in a device's).
	Lo uint64 `json:"keys_from"`
	Hi uint64 `json:"keys_to"`
}

func (p Problem) String() string {
	return fmt.Sprintf("metadata block %d (@ %d), %s tree: %s (keys %s hidden)", p.Block, p.Block*BlockSize, p.Tree, p.Msg, keyRange(p.Lo, p.Hi))
}

func keyRange(lo, hi uint64) string {
	if hi == math.MaxUint64 {
		return fmt.Sprintf("%d and above", lo)
	}
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// node is a decoded, checked btree node.
type node struct {
	leaf      bool
	keys      []uint64
	values    []byte
	valueSize int
}

func (n *node) value(i int) []byte { return n.values[i*n.valueSize : (i+1)*n.valueSize] }

// tree walks one btree of the metadata device, refusing any node that does
// not check out and reporting the keys it would have held.
type tree struct {
	r         io.ReaderAt
	nblocks   uint64 // metadata blocks on the device: every pointer must be below
	name      string
	valueSize int // of the leaves
	visited   map[uint64]bool
	problems  []Problem
	// budget counts the node reads the pool may still make: shared
	// subtrees are walked once per device that maps them, and hostile
	// metadata could make that quadratic in its size.
	budget *int64
}

// walk calls leaf for every key and value the tree holds (with the leaf's
// block), in key order;
// damaged subtrees are left out and listed in t.problems.
func (t *tree) walk(root uint64, leaf func(block, key uint64, value []byte)) {
	t.visited = map[uint64]bool{}
	t.walkNode(root, 0, math.MaxUint64, 0, leaf)
}

func (t *tree) walkNode(block, lo, hi uint64, depth int, leaf func(block, key uint64, value []byte)) {
	fail := func(format string, args ...any) {
		t.problems = append(t.problems, Problem{Block: block, Tree: t.name, Msg: fmt.Sprintf(format, args...), Lo: lo, Hi: hi})
	}
	switch {
	case depth >= maxDepth:
		fail("the tree is deeper than %d levels", maxDepth)
		return
	case block >= t.nblocks:
		fail("points outside the metadata device (%d blocks)", t.nblocks)
		return
	case t.visited[block]:
		fail("reached a second time (a cycle or a shared node)")
		return
	case *t.budget <= 0:
		fail("not read: the walks of this pool's trees reached their bound of node reads (1024 per metadata block)")
		return
	}
	*t.budget--
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
func (t *tree) readNode(block uint64) (*node, error) {
	b, err := readBlock(t.r, block)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	le := binary.LittleEndian
	if sum := blockChecksum(b, btreeNodeXor); le.Uint32(b) != sum {
		return nil, fmt.Errorf("bad checksum %08x, computed %08x", le.Uint32(b), sum)
	}
	flags, self := le.Uint32(b[4:]), le.Uint64(b[8:])
	nr, max, vsize := le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint32(b[24:])
	if self != block {
		return nil, fmt.Errorf("says it is block %d", self)
	}
	n := &node{leaf: flags&nodeLeaf != 0}
	switch {
	case flags != nodeInternal && flags != nodeLeaf:
		return nil, fmt.Errorf("flags %#x are neither internal nor leaf", flags)
	case !n.leaf && vsize != 8, n.leaf && int(vsize) != t.valueSize:
		return nil, fmt.Errorf("value size %d, want %d", vsize, map[bool]int{false: 8, true: t.valueSize}[n.leaf])
	case max == 0 || max%3 != 0 || nodeHeaderSize+uint64(max)*(8+uint64(vsize)) > BlockSize:
		return nil, fmt.Errorf("max_entries %d does not fit the block", max)
	case nr > max:
		return nil, fmt.Errorf("nr_entries %d above max_entries %d", nr, max)
	case nr == 0 && !n.leaf:
		return nil, fmt.Errorf("an internal node with no entries")
	}
	n.valueSize = int(vsize)
	n.keys = make([]uint64, nr)
	for i := range n.keys {
		n.keys[i] = le.Uint64(b[nodeHeaderSize+8*i:])
	}
	start := nodeHeaderSize + 8*int(max)
	n.values = b[start : start+int(nr)*n.valueSize]
	return n, nil
}

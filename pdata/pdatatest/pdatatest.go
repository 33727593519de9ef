// Package pdatatest writes persistent-data blocks with good checksums into
// metadata in memory, for the tests of the packages built on pdata: crafted
// damage and small fuzz seeds (the kernel wrote every real fixture).
package pdatatest

import (
	"encoding/binary"

	"holmes/pdata"
)

// U64 is v as a little-endian btree or array value.
func U64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// PutNode writes a btree node (flags pdata.NodeLeaf or pdata.NodeInternal)
// holding keys and values of valueSize bytes into metadata block n.
func PutNode(meta []byte, n uint64, flags uint32, valueSize int, keys []uint64, values [][]byte) {
	b := meta[n*pdata.BlockSize : (n+1)*pdata.BlockSize]
	clear(b)
	max := (pdata.BlockSize - pdata.NodeHeaderSize) / (8 + valueSize) / 3 * 3
	le := binary.LittleEndian
	le.PutUint32(b[4:], flags)
	le.PutUint64(b[8:], n)
	le.PutUint32(b[16:], uint32(len(keys)))
	le.PutUint32(b[20:], uint32(max))
	le.PutUint32(b[24:], uint32(valueSize))
	for i, k := range keys {
		le.PutUint64(b[pdata.NodeHeaderSize+8*i:], k)
		copy(b[pdata.NodeHeaderSize+8*max+i*valueSize:], values[i])
	}
	le.PutUint32(b, pdata.Checksum(b, pdata.BtreeNodeXor))
}

// PutArrayBlock writes a dm-array block holding values of valueSize bytes
// into metadata block n.
func PutArrayBlock(meta []byte, n uint64, valueSize int, values [][]byte) {
	b := meta[n*pdata.BlockSize : (n+1)*pdata.BlockSize]
	clear(b)
	le := binary.LittleEndian
	le.PutUint32(b[4:], uint32((pdata.BlockSize-24)/valueSize))
	le.PutUint32(b[8:], uint32(len(values)))
	le.PutUint32(b[12:], uint32(valueSize))
	le.PutUint64(b[16:], n)
	for i, v := range values {
		copy(b[24+i*valueSize:], v)
	}
	le.PutUint32(b, pdata.Checksum(b, pdata.ArrayBlockXor))
}

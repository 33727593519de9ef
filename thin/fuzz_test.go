package thin

import (
	"encoding/binary"
	"testing"
)

// smallPool crafts a four-block metadata device: superblock, a device
// details leaf, the top-level mapping leaf and one device's mapping leaf
// (thin device 1, virtual blocks 0-2 and 7 on data blocks 10-12 and 3).
// The real pools are in the lab tests; this one keeps the fuzz seed small.
func smallPool() []byte {
	meta := make([]byte, 4*BlockSize)
	le := binary.LittleEndian
	details := make([]byte, detailsSize)
	le.PutUint64(details, 4)
	putNode(meta, 1, nodeLeaf, detailsSize, []uint64{1}, [][]byte{details})
	putNode(meta, 2, nodeLeaf, 8, []uint64{1}, [][]byte{u64(3)})
	var vals [][]byte
	for _, d := range []uint64{10, 11, 12, 3} {
		vals = append(vals, u64(d<<24|1))
	}
	putNode(meta, 3, nodeLeaf, 8, []uint64{0, 1, 2, 7}, vals)
	sb := meta[:BlockSize]
	le.PutUint64(sb[offSbMagic:], Magic)
	le.PutUint32(sb[offSbVersion:], 2)
	le.PutUint64(sb[offSbDataSM:], 16) // nr_blocks of the data space map
	le.PutUint64(sb[offSbMappingRoot:], 2)
	le.PutUint64(sb[offSbDetailsRoot:], 1)
	le.PutUint32(sb[offSbDataBlock:], 128)
	le.PutUint32(sb[offSbMetaBlock:], 8)
	le.PutUint32(sb, blockChecksum(sb, superblockXor))
	return meta
}

// Whatever the metadata bytes, Open, Survey and reads through a volume
// return values or errors, never a panic or a hang; reads stay within the
// data device. `go test -fuzz FuzzOpen ./thin` explores.
func FuzzOpen(f *testing.F) {
	f.Add(smallPool(), false)
	f.Add(smallPool()[:BlockSize], false)
	f.Add(smallPool(), true)
	f.Fuzz(func(t *testing.T, b []byte, fixChecksums bool) {
		// With fixChecksums every block gets a good checksum first, so the
		// fuzzer reaches the tree walks behind them.
		if fixChecksums {
			for n := 0; (n+1)*BlockSize <= len(b); n++ {
				blk, xor := b[n*BlockSize:(n+1)*BlockSize], uint32(btreeNodeXor)
				if n == 0 {
					xor = superblockXor
				}
				binary.LittleEndian.PutUint32(blk, blockChecksum(blk, xor))
			}
		}
		p, err := Open(&memDevice{b, "fuzz"}, int64(len(b)))
		if err != nil {
			return
		}
		data := &memDevice{make([]byte, 16*65536), "data"}
		for _, d := range p.Survey() {
			if d.Usage.Exclusive > d.Usage.Mapped {
				t.Fatalf("device %d: %+v", d.ID, d.Usage)
			}
			v, err := p.OpenVolume(d.ID, data, 1<<20, "fuzz")
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 70000)
			v.ReadAt(buf, 60000)
		}
	})
}

// The crafted pool maps what it was made to map.
func TestSmallPool(t *testing.T) {
	p, err := Open(&memDevice{smallPool(), "small"}, 4*BlockSize)
	if err != nil || len(p.Problems) > 0 || len(p.Devices) != 1 {
		t.Fatalf("%v %+v", err, p)
	}
	m := p.Map(1)
	if len(m.Runs) != 2 || m.Runs[0] != (Run{0, 10, 3, 1}) || m.Runs[1] != (Run{7, 3, 1, 1}) {
		t.Errorf("runs %+v", m.Runs)
	}
}

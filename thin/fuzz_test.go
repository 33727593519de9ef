package thin

import (
	"encoding/binary"
	"strings"
	"testing"

	"holmes/internal/fixture"
	"holmes/pdata"
	"holmes/pdata/pdatatest"
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
	pdatatest.PutNode(meta, 1, pdata.NodeLeaf, detailsSize, []uint64{1}, [][]byte{details})
	pdatatest.PutNode(meta, 2, pdata.NodeLeaf, 8, []uint64{1}, [][]byte{pdatatest.U64(3)})
	var vals [][]byte
	for _, d := range []uint64{10, 11, 12, 3} {
		vals = append(vals, pdatatest.U64(d<<24|1))
	}
	pdatatest.PutNode(meta, 3, pdata.NodeLeaf, 8, []uint64{0, 1, 2, 7}, vals)
	sb := meta[:BlockSize]
	le.PutUint64(sb[offSbMagic:], Magic)
	le.PutUint32(sb[offSbVersion:], 2)
	le.PutUint64(sb[offSbDataSM:], 16) // nr_blocks of the data space map
	le.PutUint64(sb[offSbMappingRoot:], 2)
	le.PutUint64(sb[offSbDetailsRoot:], 1)
	le.PutUint32(sb[offSbDataBlock:], 128)
	le.PutUint32(sb[offSbMetaBlock:], 8)
	le.PutUint32(sb, pdata.Checksum(sb, superblockXor))
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
				blk, xor := b[n*BlockSize:(n+1)*BlockSize], uint32(pdata.BtreeNodeXor)
				if n == 0 {
					xor = superblockXor
				}
				binary.LittleEndian.PutUint32(blk, pdata.Checksum(blk, xor))
			}
		}
		p, err := Open(&fixture.Mem{B: b, N: "fuzz"}, int64(len(b)))
		if err != nil {
			return
		}
		data := &fixture.Mem{B: make([]byte, 16*65536), N: "data"}
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
	p, err := Open(&fixture.Mem{B: smallPool(), N: "small"}, 4*BlockSize)
	if err != nil || len(p.Problems) > 0 || len(p.Devices) != 1 {
		t.Fatalf("%v %+v", err, p)
	}
	m := p.Map(1)
	if len(m.Runs) != 2 || m.Runs[0] != (Run{0, 10, 3, 1}) || m.Runs[1] != (Run{7, 3, 1, 1}) {
		t.Errorf("runs %+v", m.Runs)
	}
}

// Crafted metadata whose 7560 devices all map the same 31-node tree would
// cost 234360 node reads; the walks stop at their bound (1024 reads per
// metadata block) and say so, instead of running on.
func TestWalkBound(t *testing.T) {
	const nb = 64
	meta := make([]byte, nb*BlockSize)
	pdatatest.PutNode(meta, 1, pdata.NodeLeaf, detailsSize, nil, nil)
	var topKeys []uint64
	var topVals [][]byte
	for leaf := uint64(3); leaf <= 32; leaf++ {
		var keys []uint64
		var vals [][]byte
		for i := range uint64(252) {
			keys, vals = append(keys, (leaf-3)*252+i), append(vals, pdatatest.U64(33))
		}
		pdatatest.PutNode(meta, leaf, pdata.NodeLeaf, 8, keys, vals)
		topKeys, topVals = append(topKeys, keys[0]), append(topVals, pdatatest.U64(leaf))
	}
	pdatatest.PutNode(meta, 2, pdata.NodeInternal, 8, topKeys, topVals)
	var keys []uint64
	var vals [][]byte
	for leaf := uint64(34); leaf < nb; leaf++ {
		pdatatest.PutNode(meta, leaf, pdata.NodeLeaf, 8, []uint64{leaf * 10}, [][]byte{pdatatest.U64(1 << 24)})
		keys, vals = append(keys, leaf*10), append(vals, pdatatest.U64(leaf))
	}
	pdatatest.PutNode(meta, 33, pdata.NodeInternal, 8, keys, vals)
	sb := meta[:BlockSize]
	le := binary.LittleEndian
	le.PutUint64(sb[offSbMagic:], Magic)
	le.PutUint64(sb[offSbDataSM:], 16)
	le.PutUint64(sb[offSbMappingRoot:], 2)
	le.PutUint64(sb[offSbDetailsRoot:], 1)
	le.PutUint32(sb[offSbDataBlock:], 128)
	le.PutUint32(sb[offSbMetaBlock:], 8)
	le.PutUint32(sb, pdata.Checksum(sb, superblockXor))
	p, err := Open(&fixture.Mem{B: meta, N: "crafted"}, nb*BlockSize)
	if err != nil || len(p.Devices) != 7560 || len(p.Problems) != 0 {
		t.Fatalf("%v, %d devices, %v", err, len(p.Devices), p.Problems)
	}
	survey := p.Survey()
	bounded := 0
	for _, d := range survey {
		for _, pr := range d.Mapping.Problems {
			if strings.Contains(pr.Msg, "bound of node reads") {
				bounded++
			}
		}
	}
	if survey[0].Usage.Mapped != 30 || bounded == 0 || p.budget != 0 {
		t.Errorf("first device maps %d, %d bounded walks, budget %d", survey[0].Usage.Mapped, bounded, p.budget)
	}
}

package dmcache

import (
	"encoding/binary"
	"testing"

	"holmes/internal/fixture"
	"holmes/pdata"
	"holmes/pdata/pdatatest"
)

// smallMetadata crafts a five-block metadata device of format version:
// superblock, the mapping array's btree leaf and array block (4 cache
// blocks of 64 KiB: 0 holds origin block 3, dirty; 1 origin 0; 2 nothing;
// 3 origin 1, dirty), the dirty bitset's leaf and word block. The real
// metadata is in the lab tests; this keeps the fuzz seed small.
func smallMetadata(version uint32) []byte {
	meta := make([]byte, 5*pdata.BlockSize)
	le := binary.LittleEndian
	dirty := uint64(0)
	if version == 1 {
		dirty = mappingDirty
	}
	u64 := pdatatest.U64
	pdatatest.PutNode(meta, 1, pdata.NodeLeaf, 8, []uint64{0}, [][]byte{u64(2)})
	pdatatest.PutArrayBlock(meta, 2, 8, [][]byte{u64(3<<16 | mappingValid | dirty), u64(0<<16 | mappingValid), u64(0), u64(1<<16 | mappingValid | dirty)})
	pdatatest.PutNode(meta, 3, pdata.NodeLeaf, 8, []uint64{0}, [][]byte{u64(4)})
	pdatatest.PutArrayBlock(meta, 4, 8, [][]byte{u64(0b1001)})
	sb := meta[:pdata.BlockSize]
	le.PutUint32(sb[offFlags:], FlagCleanShutdown)
	le.PutUint64(sb[offMagic:], Magic)
	le.PutUint32(sb[offVersion:], version)
	copy(sb[offPolicyName:], "smq")
	le.PutUint64(sb[offMappingRoot:], 1)
	le.PutUint32(sb[offDataBlock:], 128)
	le.PutUint32(sb[offMetaBlock:], 8)
	le.PutUint32(sb[offCacheBlocks:], 4)
	if version == 2 {
		le.PutUint64(sb[offDirtyRoot:], 3)
	}
	le.PutUint32(sb, pdata.Checksum(sb, superblockXor))
	return meta
}

func TestSmallMetadata(t *testing.T) {
	for _, v := range []uint32{1, 2} {
		m, err := Open(&fixture.Mem{B: smallMetadata(v), N: "small"}, 5*pdata.BlockSize)
		if err != nil || len(m.Problems) > 0 || len(m.Mappings) != 3 {
			t.Fatalf("format %d: %v %+v", v, err, m)
		}
		if rs := m.DirtyRanges(); len(rs) != 2 || rs[0] != (Range{1, 1}) || rs[1] != (Range{3, 3}) {
			t.Errorf("format %d: dirty %v", v, rs)
		}
	}
}

// Whatever the metadata bytes, Open, the dirty lists and reads through a
// volume return values or errors, never a panic or a hang; reads stay
// within the devices. `go test -fuzz FuzzOpen ./dmcache` explores.
func FuzzOpen(f *testing.F) {
	f.Add(smallMetadata(2), false)
	f.Add(smallMetadata(1), true)
	f.Add(smallMetadata(2)[:pdata.BlockSize], false)
	f.Fuzz(func(t *testing.T, b []byte, fixChecksums bool) {
		// With fixChecksums every block gets a good checksum first (as a
		// btree node when its flags say one, else as an array block), so
		// the fuzzer reaches the walks behind them.
		if fixChecksums {
			for n := 0; (n+1)*pdata.BlockSize <= len(b); n++ {
				blk := b[n*pdata.BlockSize : (n+1)*pdata.BlockSize]
				xor := uint32(pdata.ArrayBlockXor)
				switch f := binary.LittleEndian.Uint32(blk[4:]); {
				case n == 0:
					xor = superblockXor
				case f == pdata.NodeLeaf || f == pdata.NodeInternal:
					xor = pdata.BtreeNodeXor
				}
				binary.LittleEndian.PutUint32(blk, pdata.Checksum(blk, xor))
			}
		}
		m, err := Open(&fixture.Mem{B: b, N: "fuzz"}, int64(len(b)))
		if err != nil {
			return
		}
		if len(m.Dirty()) > len(m.Mappings) {
			t.Fatalf("%d dirty of %d mappings", len(m.Dirty()), len(m.Mappings))
		}
		m.DirtyRanges()
		origin := &fixture.Mem{B: make([]byte, 8*65536), N: "origin"}
		cache := &fixture.Mem{B: make([]byte, 4*65536), N: "cache"}
		v, err := m.OpenVolume(origin, cache, "fuzz")
		if err != nil {
			return
		}
		buf := make([]byte, 70000)
		v.ReadAt(buf, 60000)
	})
}

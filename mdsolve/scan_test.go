package mdsolve

import (
	"encoding/binary"
	"slices"
	"testing"
)

// An MBR at the array's start is an anchor, and its partitions are where
// filesystems may start; sectors that merely end in 0x55AA are not.
func TestMBRPartitions(t *testing.T) {
	mbr := func(entries ...[4]uint32) []byte { // status, type, start LBA, sectors
		b := make([]byte, 512)
		b[510], b[511] = 0x55, 0xaa
		for i, e := range entries {
			p := b[446+16*i:]
			p[0], p[4] = byte(e[0]), byte(e[1])
			binary.LittleEndian.PutUint32(p[8:], e[2])
			binary.LittleEndian.PutUint32(p[12:], e[3])
		}
		return b
	}
	for _, c := range []struct {
		what   string
		sector []byte
		want   []int64
	}{
		{"two partitions and an extended one", mbr([4]uint32{0x80, 0x83, 2048, 8192}, [4]uint32{0, 0x8e, 10240, 4096}, [4]uint32{0, 0x05, 14336, 100}), []int64{2048 * 512, 10240 * 512}},
		{"no signature", make([]byte, 512), nil},
		{"text ending in 0x55AA", func() []byte { b := mbr(); copy(b[446:], "not a partition table at all, just text"); return b }(), nil},
		{"an empty table", mbr(), nil},
		{"a partition at sector 0", mbr([4]uint32{0, 0x83, 0, 100}), nil},
		{"only a GPT's protective entry", mbr([4]uint32{0, 0xee, 1, 1000}), nil},
	} {
		got, ok := mbrPartitions(c.sector)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v %v, want %v", c.what, got, ok, c.want)
		}
	}
}

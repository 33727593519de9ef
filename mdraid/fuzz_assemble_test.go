package mdraid

import (
	"bytes"
	"encoding/binary"
	"testing"

	"holmes/blockdev"
)

// memMember is a member device over a byte slice.
type memMember struct {
	*bytes.Reader
	name string
}

func (m memMember) Name() string { return m.name }
func (m memMember) Close() error { return nil }

// FuzzAssemble opens arrays from any geometry (as a case file or md
// assemble --level/--chunk/--layout/--data-offset gives it) over small
// members, some missing, and reads across the array: a geometry gives an
// array or an error, never a panic, a division by zero or a huge
// allocation.
func FuzzAssemble(f *testing.F) {
	for _, s := range []struct {
		level, layout string
		chunk, off    int64
		disks, miss   uint8
	}{
		{"raid5", "left-symmetric", 4096, 0, 4, 0},
		{"raid6", "", 8192, 4096, 5, 2},
		{"raid10", "f2", 4096, 0, 4, 1},
		{"raid10", "o3", 4096, 0, 5, 0},
		{"raid0", "", 65536, 0, 3, 0},
		{"raid1", "", 0, 8192, 2, 1},
		{"linear", "", 0, 0, 3, 0},
		{"raid4", "", 4096, 0, 3, 3},
	} {
		f.Add(s.level, s.layout, s.chunk, s.off, int64(0), s.disks, s.miss, int64(12345))
	}
	f.Fuzz(func(t *testing.T, level, layout string, chunk, dataOffset, dataSize int64, disks, missing uint8, at int64) {
		g := Geometry{Level: level, Layout: layout, ChunkBytes: chunk, RaidDisks: int(disks % 16), DataOffset: dataOffset, DataSize: dataSize}
		members := make([]blockdev.Device, g.RaidDisks)
		for i := range members {
			if missing&(1<<(i%8)) != 0 {
				continue
			}
			b := make([]byte, 64<<10)
			for j := 0; j < len(b); j += 512 {
				binary.LittleEndian.PutUint64(b[j:], uint64(i<<32|j))
			}
			members[i] = memMember{bytes.NewReader(b), "m"}
		}
		a, err := Open(g, members, "fuzz")
		if err != nil {
			return
		}
		if a.Size() < 0 {
			t.Fatalf("%+v: size %d", g, a.Size())
		}
		buf := make([]byte, 8192)
		for _, off := range []int64{0, at, a.Size() - 100, a.Size() / 2} {
			a.ReadAt(buf, off)
		}
	})
}

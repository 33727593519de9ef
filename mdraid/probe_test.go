package mdraid

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestProbeSuperblock sees the magic of a real 1.2 superblock and of 0.90
// ones in either byte order.
func TestProbeSuperblock(t *testing.T) {
	img := utilLinuxImage(t, "mdraid-1.img.xz")
	if !ProbeSuperblock(img[4096:]) || ProbeSuperblock(img[:512]) {
		t.Error("md 1.2 magic not seen at 4 KiB, or seen in sector 0")
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b := make([]byte, 512)
		bo.PutUint32(b, mdMagic)
		if !ProbeSuperblock(b) {
			t.Errorf("%v magic not seen", bo)
		}
	}
	if ProbeSuperblock([]byte{0xfc, 0x4e, 0x2b}) {
		t.Error("three bytes probed as a superblock")
	}
}

// TestFreshest: the one rule for which of a device's superblocks speaks.
func TestFreshest(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sb := func(array string, events uint64, utime time.Time, ok bool) *Superblock {
		return &Superblock{ArrayUUID: array, Events: events, UTime: utime, ChecksumOK: ok}
	}
	for _, c := range []struct {
		name string
		sbs  []*Superblock
		want int
	}{
		{"same array: most events", []*Superblock{sb("a", 10, t0.Add(time.Hour), true), sb("a", 12, t0, true)}, 1},
		{"same array, same events: latest update", []*Superblock{sb("a", 12, t0.Add(time.Hour), true), sb("a", 12, t0, true)}, 0},
		{"other arrays: latest update, whatever the events", []*Superblock{sb("old", 900, t0, true), sb("new", 3, t0.Add(time.Hour), true)}, 1},
		{"a good checksum beats a bad one", []*Superblock{sb("a", 99, t0.Add(time.Hour), false), sb("a", 12, t0, true)}, 1},
		{"only bad checksums: still the freshest", []*Superblock{sb("a", 1, t0, false), sb("a", 2, t0, false)}, 1},
	} {
		if got := Freshest(c.sbs); got != c.sbs[c.want] {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.sbs[c.want])
		}
	}
	if Freshest(nil) != nil {
		t.Error("Freshest(nil) is not nil")
	}
}

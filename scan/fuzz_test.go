package scan

import (
	"os"
	"testing"

	"holmes/internal/fixture"
)

// FuzzScan searches small devices holding a partition table, an md
// superblock, an LVM label and an ext superblock, mutated: any bytes give
// a report or an error, never a panic, and what is reported lies on the
// device.
func FuzzScan(f *testing.F) {
	for _, name := range []string{"mdraid-1.img.xz", "lvm2.img.xz", "ext4.img.xz"} {
		img, err := os.ReadFile(fixture.Unpack(f, fixture.Public(f, "util-linux/tests/ts/blkid/images-fs/"+name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(img[:min(len(img), 64<<10)])
	}
	sb := make([]byte, 4096)
	copy(sb[1024:], craftedExtSuperblock(64))
	f.Add(sb)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Scan(memDevice{b}, Options{})
		if err != nil {
			return
		}
		for _, s := range r.Signatures {
			if s.Offset < 0 || s.Offset >= int64(len(b)) {
				t.Fatalf("signature outside the device: %+v", s)
			}
		}
	})
}

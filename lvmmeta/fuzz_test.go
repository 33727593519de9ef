package lvmmeta

import (
	"os"
	"testing"

	"holmes/internal/fixture"
)

// Corrupted input is the normal case: whatever the bytes, parsing and
// scanning return a value or an error, never a panic. `go test` runs the
// seeds; `go test -fuzz FuzzParseText ./lvmmeta` explores.
func FuzzParseText(f *testing.F) {
	text, err := os.ReadFile(fixture.Repo(f, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	f.Add(text[:len(text)/2])
	f.Add([]byte("a { b { c = [\"x\", 1, -1.5] } }"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if vg, err := ParseText(b); err == nil {
			for _, lv := range vg.LVs {
				OpenLV(vg, lv.Name, nil)
			}
		}
		c := NewCarver()
		c.Scan(bytesReader(b), int64(len(b)), "fuzz")
		for _, r := range c.Results() {
			if r.Complete {
				r.RestoreFile()
			}
		}
	})
}

func FuzzScan(f *testing.F) {
	d := openFixture(f, fixture.Public(f, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz"))
	img := make([]byte, 16384)
	d.ReadAt(img, 0)
	f.Add(img)
	f.Fuzz(func(t *testing.T, b []byte) {
		Scan(bytesReader(b), int64(len(b)), "fuzz")
	})
}

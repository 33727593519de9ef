package mdraid

import (
	"bytes"
	"testing"
)

// FuzzExamine feeds the real superblocks of the util-linux images, mutated,
// through Examine and ExamineAt: any input must give superblocks or an
// error, never a panic or a hang. The seed device is 128 KiB with the
// superblock where its version keeps it.
func FuzzExamine(f *testing.F) {
	for _, name := range []string{"mdraid.img.xz", "mdraid-1.img.xz"} {
		img := utilLinuxImage(f, name)
		sbs, err := Examine(bytes.NewReader(img), int64(len(img)))
		if err != nil || len(sbs) == 0 {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(img[sbs[0].Offset:sbs[0].Offset+4096], sbs[0].Version == "0.90")
	}
	f.Fuzz(func(t *testing.T, sb []byte, nearEnd bool) {
		disk := make([]byte, 128<<10)
		at := 4096
		if nearEnd {
			at = 64 << 10
		}
		copy(disk[at:], sb)
		r := bytes.NewReader(disk)
		found, err := Examine(r, int64(len(disk)))
		if err != nil {
			return
		}
		for _, s := range found {
			if _, err := s.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = ExamineAt(r, int64(len(disk)), int64(at))
	})
}

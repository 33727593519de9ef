// Package extgap places test gaps in the small real ext4 image of
// internal/fixture: where a file's bytes lie on the image, so that a test
// can cut a ddrescue-like gap exactly over them. (It lives apart from
// fixture because it reads ext, whose own tests use fixture.)
package extgap

import (
	"testing"

	"holmes/blockdev"
	"holmes/ext"
	"holmes/internal/fixture"
)

// BigAt returns the small ext4 image (fixture.SmallExt "ext4") and where
// byte fileAt of its file /big lies on it. The 100 KiB file is one run of
// 1 KiB blocks, so n bytes from fileAt stay contiguous on the image.
func BigAt(t testing.TB, fileAt int64) (img string, at int64) {
	t.Helper()
	img = fixture.SmallExt(t, "ext4")
	d, err := blockdev.OpenFile(img)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fs, err := ext.Open(d, d.Size(), ext.Options{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := fs.Lookup("/big")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fs.Map(big)
	bs := int64(fs.SB.BlockSize())
	if err != nil || len(m.Runs) != 1 || int64(m.Runs[0].Len)*bs <= fileAt {
		t.Fatalf("/big's block map %+v, %v: want one run past %d", m, err, fileAt)
	}
	return img, int64(m.Runs[0].Physical)*bs + fileAt
}

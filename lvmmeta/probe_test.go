package lvmmeta

import (
	"os"
	"testing"

	"holmes/internal/fixture"
)

// TestProbeLabel finds the label pvcreate wrote in sector 1 of util-linux's
// lvm2 image, and nothing in the sectors around it.
func TestProbeLabel(t *testing.T) {
	img, err := os.ReadFile(fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	for s := range 4 {
		claimed, ok := ProbeLabel(img[s*sectorSize : (s+1)*sectorSize])
		if ok != (s == 1) || (ok && claimed != 1) {
			t.Errorf("sector %d: ProbeLabel = %d, %v; the label is in sector 1 and says so", s, claimed, ok)
		}
	}
	other := append([]byte(nil), img[sectorSize:2*sectorSize]...)
	copy(other[24:], "LVM1 001")
	if _, ok := ProbeLabel(other); ok {
		t.Error("a LABELONE of another type probed as an LVM2 label")
	}
	if _, ok := ProbeLabel(img[sectorSize : sectorSize+16]); ok {
		t.Error("a buffer shorter than the label header probed as a label")
	}
}

package lvmmeta

import (
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

func openFixture(t testing.TB, path string) blockdev.Device {
	t.Helper()
	d, err := blockdev.OpenFile(fixture.Unpack(t, path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// The util-linux image is a truncated PV: blkid reports its UUID
// (tests/expected/blkid/low-probe-lvm2), the label claims 10 MiB.
func TestReadLabelUtilLinux(t *testing.T) {
	d := openFixture(t, fixture.Shared(t, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz"))
	l, err := ReadLabel(d, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	if l.Sector != 1 || l.PVUUID != "Vynv4k-APH8-xQER-HSBb-8VJ3-SvFF-PB5O1U" || l.DeviceSize != 10<<20 {
		t.Errorf("label = %+v", l)
	}
	if len(l.DataAreas) != 1 || l.DataAreas[0] != (Area{Offset: 0x30000, Size: 0}) {
		t.Errorf("data areas = %v", l.DataAreas)
	}
	if len(l.MetadataAreas) != 1 || l.MetadataAreas[0] != (Area{Offset: 0x1000, Size: 0x2f000}) {
		t.Errorf("metadata areas = %v", l.MetadataAreas)
	}
}

type bytesReader []byte

func (b bytesReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, nil
	}
	return copy(p, b[off:]), nil
}

func TestReadLabelDamaged(t *testing.T) {
	d := openFixture(t, fixture.Shared(t, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz"))
	img := make([]byte, 8192)
	if _, err := d.ReadAt(img, 0); err != nil {
		t.Fatal(err)
	}
	img[0x230] ^= 1 // inside the PV UUID: the CRC must catch it
	_, err := ReadLabel(bytesReader(img), int64(len(img)))
	if err == nil || !strings.Contains(err.Error(), "sector 1") || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("flipped bit: err = %v", err)
	}
	if _, err := ReadLabel(bytesReader(make([]byte, 4096)), 4096); err == nil {
		t.Error("zeros: no error")
	}
}

package lvmmeta

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	d := openFixture(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz"))
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
	d := openFixture(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/lvm2.img.xz"))
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

// pvckHeaders reads "key value" lines of pvck --dump headers.
func pvckHeaders(text string) map[string]string {
	kv := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
			kv[k], _, _ = strings.Cut(v, " #")
		}
	}
	return kv
}

// compareHeaders checks the label and mda header against pvck's dump.
func compareHeaders(t *testing.T, pvck string, d blockdev.Device) {
	t.Helper()
	kv := pvckHeaders(pvck)
	l, err := ReadLabel(d, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadMDAHeader(d, l.MetadataAreas[0])
	if err != nil {
		t.Fatal(err)
	}
	for key, got := range map[string]any{
		"label_header.sector":               l.Sector,
		"pv_header.pv_uuid":                 strings.ReplaceAll(l.PVUUID, "-", ""),
		"pv_header.device_size":             l.DeviceSize,
		"pv_header.disk_locn[0].offset":     l.DataAreas[0].Offset,
		"pv_header.disk_locn[2].offset":     l.MetadataAreas[0].Offset,
		"pv_header.disk_locn[2].size":       l.MetadataAreas[0].Size,
		"mda_header_1.start":                h.Start,
		"mda_header_1.size":                 h.Size,
		"mda_header_1.raw_locn[0].offset":   h.Slots[0].Offset,
		"mda_header_1.raw_locn[0].size":     h.Slots[0].Size,
		"mda_header_1.raw_locn[0].checksum": fmt.Sprintf("%#x", h.Slots[0].Checksum),
	} {
		if want := kv[key]; fmt.Sprint(got) != want {
			t.Errorf("%s: holmes %v, pvck %q", key, got, want)
		}
	}
}

func TestLabelMatchesPvckHeaders(t *testing.T) {
	for name, dev := range labPVs(t) {
		md := map[string]string{"pv0": "md0", "pv1": "md1"}[name]
		rec, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/"+md+".pvck-headers.after.txt"))
		if err != nil {
			t.Fatal(err)
		}
		compareHeaders(t, string(rec), dev)
	}
	pvck, err := exec.LookPath("pvck")
	if err != nil {
		t.Skip("pvck not installed: compared with the record only")
	}
	c := labPVs(t)["pv1"]
	conf := t.TempDir()
	os.WriteFile(filepath.Join(conf, "lvm.conf"), nil, 0o644)
	cmd := exec.Command(pvck, "--dump", "headers", c.Name())
	cmd.Env = append(os.Environ(), "LVM_SYSTEM_DIR="+conf, "LVM_SUPPRESS_FD_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("pvck does not run here: %v: %s", err, out)
	}
	compareHeaders(t, string(out), c)
}

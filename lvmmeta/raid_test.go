package lvmmeta

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// raidLab is the raid lab's VG (testdata/lab/lvm-thin.sh: raid1 r1 on
// pv0+pv1, raid5 r5 over pv0..pv2) and its three PVs.
func raidLab(t *testing.T) (*VG, map[string]blockdev.Device) {
	t.Helper()
	return openLab(t, "thin", "raid.vg", "raid-b", "raid-c", "raid-d")
}

// openLab is an LVM lab's VG (testdata/lvm/LAB/record/VGFILE) with the
// images testdata/lvm/LAB/IMAGE.img.xz as its PVs pv0, pv1, ...
func openLab(t *testing.T, lab, vgFile string, images ...string) (*VG, map[string]blockdev.Device) {
	t.Helper()
	vg := vgFixture(t, "testdata/lvm/"+lab+"/record/"+vgFile)
	pvs := map[string]blockdev.Device{}
	for i, img := range images {
		pvs[vg.PVs[i].Name] = openFixture(t, fixture.Repo(t, "testdata/lvm/"+lab+"/"+img+".img.xz"))
	}
	return vg, pvs
}

// lvSum is the sha256 of a whole LV read through holmes.
func lvSum(t *testing.T, vg *VG, lv string, pvs map[string]blockdev.Device) string {
	t.Helper()
	d, err := OpenLV(vg, lv, pvs)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(d, 0, d.Size()), make([]byte, 77777)); err != nil {
		t.Fatalf("%s: %v", lv, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// kernelSum is the sha256 the guest's kernel read from /dev/raid/LV.
func kernelSum(t *testing.T, lv string) string {
	t.Helper()
	return recordedSum(t, "thin", "raid/"+lv)
}

// recordedSum is the sha256 an LVM lab (testdata/lvm/LAB) recorded in its
// lv-sha256.txt for VG/LV, as the guest's kernel read it.
func recordedSum(t *testing.T, lab, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/"+lab+"/record/lv-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if sum, n, ok := strings.Cut(line, "  "); ok && n == name {
			return sum
		}
	}
	t.Fatalf("no sum for %s in the %s lab", name, lab)
	return ""
}

// without is pvs without the named PVs.
func without(pvs map[string]blockdev.Device, drop ...string) map[string]blockdev.Device {
	out := map[string]blockdev.Device{}
	for k, v := range pvs {
		out[k] = v
	}
	for _, d := range drop {
		delete(out, d)
	}
	return out
}

// The raid1 and raid5 LVs read byte-identical to the kernel's, whole, and
// still do with any one PV gone (raid5 rebuilt from parity).
func TestRaidLVsMatchKernel(t *testing.T) {
	vg, pvs := raidLab(t)
	for _, lv := range []string{"r1", "r5"} {
		want := kernelSum(t, lv)
		if got := lvSum(t, vg, lv, pvs); got != want {
			t.Errorf("%s: sha256 %s, the kernel's %s", lv, got, want)
		}
		for _, gone := range []string{"pv0", "pv1", "pv2"} {
			if got := lvSum(t, vg, lv, without(pvs, gone)); got != want {
				t.Errorf("%s without %s: sha256 %s, the kernel's %s", lv, gone, got, want)
			}
		}
	}
	// Two of raid5's three images gone: nothing to rebuild from.
	if d, err := OpenLV(vg, "r5", without(pvs, "pv0", "pv1")); err == nil {
		_, err = io.Copy(io.Discard, io.NewSectionReader(d, 0, d.Size()))
		if err == nil || !strings.Contains(err.Error(), "are all lost") {
			t.Errorf("r5 on one PV read: %v", err)
		}
	}
	if _, err := OpenLV(vg, "r1", without(pvs, "pv0", "pv1")); err == nil || !strings.Contains(err.Error(), "no image has a readable dm-raid superblock") {
		t.Errorf("r1 without its PVs: %v", err)
	}
}

// The geometry holmes reads the lab's LVs with, from the VG text and the
// superblocks: what dmsetup table showed (raid5_ls, 128-sector chunk).
func TestRaidLayoutOfLab(t *testing.T) {
	vg, pvs := raidLab(t)
	r, err := vg.Raid("r5", pvs)
	if err != nil {
		t.Fatal(err)
	}
	g := r.Geometry
	if g.Level != "raid5" || g.Layout != "left-symmetric" || g.ChunkBytes != 65536 || g.RaidDisks != 3 || g.DataSize != 4<<20 {
		t.Errorf("r5 geometry %+v", g)
	}
	if r.Events != 20 || r.ResyncOffset != -1 || len(r.Images) != 3 {
		t.Errorf("r5 %+v", r)
	}
	for i, im := range r.Images {
		if im.Missing != "" || im.Superblock == nil || im.Superblock.ArrayPosition != i || im.DataOffset != 0 || im.Meta != "r5_rmeta_"+string(rune('0'+i)) {
			t.Errorf("r5 image %d: %+v", i, im)
		}
	}
	r, err = vg.Raid("r1", without(pvs, "pv1"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Geometry.Level != "raid1" || r.Geometry.RaidDisks != 2 || r.Images[0].Missing != "" || !strings.Contains(r.Images[1].Missing, "pv1") {
		t.Errorf("r1 without pv1: %+v", r)
	}
	if _, err := vg.Raid("r1_rimage_0", pvs); err == nil || !strings.Contains(err.Error(), "not a raid") {
		t.Errorf("an image as a raid LV: %v", err)
	}
	// Without PVs: the text's geometry alone.
	if r, err = vg.Raid("r5", nil); err != nil || r.Geometry.Layout != "left-symmetric" || r.Images[2].Missing != "no PVs given" {
		t.Errorf("r5 from the text: %+v %v", r, err)
	}
}

// patched is a PV with some bytes replaced, as a damaged disk would hold them.
type patched struct {
	blockdev.Device
	at    int64
	bytes []byte
}

func (p patched) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.Device.ReadAt(b, off)
	for i := range p.bytes {
		if j := p.at + int64(i) - off; j >= 0 && j < int64(n) {
			b[j] = p.bytes[i]
		}
	}
	return n, err
}

// superblockAt is where an image's rmeta LV (its superblock) starts on its PV.
func superblockAt(t *testing.T, vg *VG, meta string) (string, int64) {
	t.Helper()
	st := vg.LV(meta).Segments[0].Stripes[0]
	return st.PV, st.Offset
}

// patchSuperblock returns pvs with bytes of meta's superblock replaced at field offset off.
func patchSuperblock(t *testing.T, vg *VG, pvs map[string]blockdev.Device, meta string, off int64, b []byte) map[string]blockdev.Device {
	pv, at := superblockAt(t, vg, meta)
	out := without(pvs)
	out[pv] = patched{out[pv], at + off, b}
	return out
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// An image the freshest superblock records as failed is not read, even
// when its bytes are garbage; a stale one neither. The LV still matches.
func TestRaidFailedImageReadsFromRedundancy(t *testing.T) {
	vg, pvs := raidLab(t)
	want := kernelSum(t, "r5")
	// role 1's superblock: one event newer, role 0 failed.
	p := patchSuperblock(t, vg, pvs, "r5_rmeta_1", 16, append(le64(21), le64(1)...))
	// role 0's data image: garbage.
	img := vg.LV("r5_rimage_0").Segments[0].Stripes[0]
	p[img.PV] = patched{p[img.PV], img.Offset, make([]byte, 3<<20)}
	r, err := vg.Raid("r5", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Images[0].Missing, "records role 0 as failed") || r.Images[2].Missing == "" || !strings.Contains(r.Images[2].Missing, "stale") {
		t.Errorf("images %+v", r.Images)
	}
	// Role 2 is stale (events 20 < 21): brought to 21 too, only role 0 is
	// left out, and its garbage is not read.
	p = patchSuperblock(t, vg, p, "r5_rmeta_2", 16, le64(21))
	if got := lvSum(t, vg, "r5", p); got != want {
		t.Errorf("r5 with role 0 failed: sha256 %s, the kernel's %s", got, want)
	}
	// r1: role 1 marked failed in role 0's superblock, role 1's data garbage.
	p = patchSuperblock(t, vg, pvs, "r1_rmeta_0", 16, append(le64(20), le64(2)...))
	img = vg.LV("r1_rimage_1").Segments[0].Stripes[0]
	p[img.PV] = patched{p[img.PV], img.Offset, make([]byte, 8<<20)}
	if got := lvSum(t, vg, "r1", p); got != kernelSum(t, "r1") {
		t.Errorf("r1 with role 1 failed: sha256 %s", got)
	}
}

// Crafted superblocks: a bad magic leaves that image out (the kernel would
// rebuild it); bad magic everywhere, absurd counts and offsets, and a
// disagreement with the VG text are clean errors.
func TestRaidHostileSuperblocks(t *testing.T) {
	vg, pvs := raidLab(t)
	p := patchSuperblock(t, vg, pvs, "r5_rmeta_1", 0, []byte("XXXX"))
	r, err := vg.Raid("r5", p)
	if err != nil || !strings.Contains(r.Images[1].Missing, "would rebuild") || !strings.Contains(r.Images[1].Missing, "magic") {
		t.Fatalf("one bad magic: %+v %v", r, err)
	}
	if got := lvSum(t, vg, "r5", p); got != kernelSum(t, "r5") {
		t.Errorf("r5 with one bad superblock: sha256 %s", got)
	}
	for _, m := range []string{"r5_rmeta_0", "r5_rmeta_2"} {
		p = patchSuperblock(t, vg, p, m, 0, []byte("XXXX"))
	}
	if _, err := OpenLV(vg, "r5", p); err == nil || !strings.Contains(err.Error(), "no image has a readable dm-raid superblock") {
		t.Errorf("no magic anywhere: %v", err)
	}
	for _, c := range []struct {
		name string
		off  int64
		b    []byte
		want string
	}{
		{"num_devices", 8, le32(100000), "num_devices 100000"},
		{"array_position", 12, le32(7), "array_position 7 of 3"},
		{"data_offset", 96, le64(1 << 40), "data_offset"},
		{"sectors", 112, le64(1 << 50), "sectors"},
		{"stripe_sectors", 56, le32(1 << 31), "stripe_sectors"},
		{"incompat", 144, le32(1), "incompatible"},
	} {
		// Every image's superblock carries the damage.
		p := pvs
		for _, m := range []string{"r5_rmeta_0", "r5_rmeta_1", "r5_rmeta_2"} {
			p = patchSuperblock(t, vg, p, m, c.off, c.b)
		}
		if _, err := OpenLV(vg, "r5", p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The superblocks say raid5_ls; a text saying raid5_ra is refused.
	vg.LV("r5").Segments[0].Type = "raid5_ra"
	if _, err := OpenLV(vg, "r5", pvs); err == nil || !strings.Contains(err.Error(), "the VG text says raid5 right-asymmetric chunk 65536 over 3 images, the superblocks raid5 left-symmetric") {
		t.Errorf("text and superblocks disagree: %v", err)
	}
}

// A raid4 text takes the parity position from the superblocks: the lab's
// raid5_ls superblocks do not fit it and are refused, naming both.
func TestRaid4NeedsParitySuperblocks(t *testing.T) {
	vg, pvs := raidLab(t)
	vg.LV("r5").Segments[0].Type = "raid4"
	if _, err := OpenLV(vg, "r5", pvs); err == nil || !strings.Contains(err.Error(), "the VG text says raid4 chunk 65536 over 3 images, the superblocks raid5 left-symmetric") {
		t.Errorf("raid4 over raid5_ls superblocks: %v", err)
	}
	if r, err := vg.Raid("r5", nil); err != nil || !strings.Contains(strings.Join(r.Notes, " "), "read from the superblocks") {
		t.Errorf("raid4 from the text: %+v %v", r, err)
	}
}

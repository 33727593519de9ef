package lvmmeta

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/thin"
)

// thinLab is the thin lab's VG (testdata/lab/lvm-thin.sh) and its one PV.
func thinLab(t *testing.T) (*VG, map[string]blockdev.Device) {
	t.Helper()
	return thinLabVG(t, "pve.vg"), map[string]blockdev.Device{"pv0": openFixture(t, fixture.Repo(t, "testdata/lvm/thin/pve.img.xz"))}
}

// thinLabVG parses a vgcfgbackup file the thin lab recorded.
func thinLabVG(t *testing.T, name string) *VG {
	t.Helper()
	return vgFixture(t, "testdata/lvm/thin/record/"+name)
}

// Every thin LV, the snapshot and the over-provisioned one included, reads
// byte-identical to the kernel's /dev/pve/*.
func TestThinLVsMatchKernel(t *testing.T) {
	vg, pvs := thinLab(t)
	sums, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/lv-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, lv := range vg.LVs {
		if lv.Segments[0].Type != "thin" {
			continue
		}
		n++
		d, err := OpenLV(vg, lv.Name, pvs)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(d, 0, d.Size()), make([]byte, 100003)); err != nil {
			t.Fatal(err)
		}
		d.Close()
		if got := hex.EncodeToString(h.Sum(nil)); !strings.Contains(string(sums), got+"  pve/"+lv.Name+"\n") {
			t.Errorf("%s: sha256 %s is not the kernel's", lv.Name, got)
		}
	}
	if n != 5 {
		t.Errorf("%d thin LVs, want 5", n)
	}
}

// The pool as the VG text describes it, and its transaction id as the
// pool's own metadata holds it.
func TestThinPool(t *testing.T) {
	vg, pvs := thinLab(t)
	p, err := vg.ThinPool("data")
	if err != nil {
		t.Fatal(err)
	}
	if p.Metadata != "data_tmeta" || p.Data != "data_tdata" || p.Segment.ChunkSize != 65536 || len(p.Volumes) != 5 || p.Volumes[5] != "home-snap" {
		t.Errorf("pool %+v", p)
	}
	meta, err := OpenLV(vg, p.Metadata, pvs)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := thin.Open(meta, meta.Size())
	if err != nil {
		t.Fatal(err)
	}
	if int64(pool.Super.TransactionID) != p.Segment.TransactionID || p.Segment.TransactionID != 5 {
		t.Errorf("transaction id: metadata %d, VG text %d", pool.Super.TransactionID, p.Segment.TransactionID)
	}
	ext := *vg.LV("www").Segments[0]
	ext.Refs = map[string]string{"thin_pool": "data", "external_origin": "golden"}
	vg.LV("www").Segments[0] = &ext
	if _, err := OpenLV(vg, "www", pvs); err == nil || !strings.Contains(err.Error(), "external origin golden") {
		t.Errorf("external origin: %v", err)
	}
	if _, err := vg.ThinPool("home"); err == nil || !strings.Contains(err.Error(), "not a thin pool") {
		t.Errorf("home as a pool: %v", err)
	}
}

// The raid lab's raid1 LV: each image is a linear LV holding the bytes the
// kernel's /dev/raid/r1 read (dm-raid keeps its superblock and bitmap in the
// _rmeta LVs).
func TestRaidLabImages(t *testing.T) {
	vg, pvs := raidLab(t)
	sums, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/lv-sha256.txt"))
	for _, lv := range []string{"r1_rimage_0", "r1_rimage_1"} {
		d, err := OpenLV(vg, lv, pvs)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, io.NewSectionReader(d, 0, d.Size()))
		if got := hex.EncodeToString(h.Sum(nil)); !strings.Contains(string(sums), got+"  raid/r1\n") {
			t.Errorf("%s: sha256 %s is not the kernel's raid/r1", lv, got)
		}
	}
}

// The restore plan reads the pool's transaction id from the targets: the
// recorded text agrees; a text one transaction ahead is named as one lvm
// would not activate.
func TestPlanChecksThinTransaction(t *testing.T) {
	vg, pvs := thinLab(t)
	target := map[string]Target{"pv0": {Path: "/dev/sdb", Size: pvs["pv0"].Size(), Dev: pvs["pv0"]}}
	p := MakePlan(vg, "pve.vg", target)
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "thin pool data: its metadata on the targets is at transaction 5, as this text says") {
		t.Errorf("warnings %q", p.Warnings)
	}
	vg.LV("data").Segments[0].TransactionID = 6
	p = MakePlan(vg, "pve.vg", target)
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "at transaction 5, this text says 6: lvm will not activate") {
		t.Errorf("warnings %q", p.Warnings)
	}
	delete(target, "pv0")
	p = MakePlan(vg, "pve.vg", target)
	if strings.Contains(strings.Join(p.Warnings, "\n"), "at transaction") {
		t.Errorf("checked without the PV: %q", p.Warnings)
	}
}

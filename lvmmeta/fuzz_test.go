package lvmmeta

import (
	"os"
	"testing"

	"holmes/blockdev"
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

// FuzzPlan parses a VG text and makes the restore plan for it (lvm plan),
// then maps every LV over small PVs: segments pointing past their PV, at
// each other or at themselves, and any extent size give a plan or an
// error, never a panic or a huge allocation.
func FuzzPlan(f *testing.F) {
	text, err := os.ReadFile(fixture.Repo(f, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	f.Add([]byte("vg {\nid = \"x\"\nseqno = 1\nextent_size = 8\nphysical_volumes {\npv0 {\nid = \"p\"\ndevice = \"/dev/x\"\npe_start = 8\npe_count = 4\n}\n}\n" +
		"logical_volumes {\nlv {\nid = \"l\"\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 4\ntype = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]\n}\n}\n}\n}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vg, err := ParseText(b)
		if err != nil {
			return
		}
		targets := map[string]Target{}
		pvs := map[string]blockdev.Device{}
		for i, pv := range vg.PVs {
			targets[pv.Name] = Target{Path: "/dev/fuzz", Size: int64(i) << 20}
			pvs[pv.Name] = memPV{bytesReader(make([]byte, 64<<10))}
		}
		MakePlan(vg, "fuzz.vg", targets)
		buf := make([]byte, 4096)
		for _, lv := range vg.LVs {
			if d, err := OpenLV(vg, lv.Name, pvs); err == nil {
				d.ReadAt(buf, 0)
				d.ReadAt(buf, d.Size()-1)
			}
		}
	})
}

// memPV is a small PV for FuzzPlan.
type memPV struct{ bytesReader }

func (m memPV) Size() int64  { return int64(len(m.bytesReader)) }
func (m memPV) Name() string { return "pv" }
func (m memPV) Close() error { return nil }

package lvmmeta

import (
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// PVUseAt inverts OpenLV: every LV byte (every 3000th) maps to a PV byte
// that PVUseAt maps back to the same LV byte; bytes before pe_start and
// extents no LV uses are named.
func TestPVUseAtInvertsOpenLV(t *testing.T) {
	vg, err := ReadVGFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	pvs := map[string]blockdev.Device{}
	for _, pv := range vg.PVs {
		pvs[pv.Name] = zeros{name: pv.Name, size: pv.PEStart + pv.PECount*vg.ExtentSize}
	}
	used := map[string]map[int64]bool{}
	for _, lv := range vg.LVs {
		d, err := OpenLV(vg, lv.Name, pvs)
		if err != nil {
			continue // not a linear or striped LV
		}
		m := d.(blockdev.Mapper)
		for off := int64(0); off < d.Size(); off += 3000 {
			dev, pvOff, ok := m.MapOffset(off)
			if !ok {
				t.Fatalf("%s @ %d: not mapped", lv.Name, off)
			}
			u, err := vg.PVUseAt(dev.Name(), pvOff)
			if err != nil || u.LV != lv.Name || u.LVOffset != off || u.Length <= 0 {
				t.Fatalf("%s @ %d = %s @ %d maps back to %+v, %v", lv.Name, off, dev.Name(), pvOff, u, err)
			}
			if used[dev.Name()] == nil {
				used[dev.Name()] = map[int64]bool{}
			}
			used[dev.Name()][(pvOff-vg.PV(dev.Name()).PEStart)/vg.ExtentSize] = true
		}
	}
	for _, pv := range vg.PVs {
		if u, _ := vg.PVUseAt(pv.Name, 512); u.What != "LVM PV label and metadata area" || u.Length != pv.PEStart-512 {
			t.Errorf("%s @ 512: %+v", pv.Name, u)
		}
		for e := int64(0); e < pv.PECount; e++ {
			u, _ := vg.PVUseAt(pv.Name, pv.PEStart+e*vg.ExtentSize)
			if used[pv.Name][e] == (u.What == "unallocated extents") {
				t.Errorf("%s extent %d: %+v, used by an LV: %v", pv.Name, e, u, used[pv.Name][e])
			}
		}
		if u, _ := vg.PVUseAt(pv.Name, pv.PEStart+pv.PECount*vg.ExtentSize); u.What != "past the last extent" {
			t.Errorf("%s past the end: %+v", pv.Name, u)
		}
	}
	if _, err := vg.PVUseAt("nope", 0); err == nil {
		t.Error("an unknown PV answered")
	}
}

type zeros struct {
	name string
	size int64
}

func (z zeros) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }
func (z zeros) Size() int64                             { return z.size }
func (z zeros) Name() string                            { return z.name }
func (z zeros) Close() error                            { return nil }

// AreaAt names the label sector and the metadata areas the label lists,
// and says how far each answer holds.
func TestLabelAreaAt(t *testing.T) {
	l := &Label{Sector: 1, MetadataAreas: []Area{{Offset: 4096, Size: 1044480}, {Offset: 9 << 20, Size: 1 << 20}}}
	for _, c := range []struct {
		off, limit int64
		what       string
		n          int64
	}{
		{0, 4096, "", 512},
		{512, 4096, "LVM PV label", 512},
		{600, 100, "LVM PV label", 100},
		{1024, 1 << 20, "", 3072},
		{4096, 2 << 20, "LVM metadata area", 1044480},
		{1 << 20, 100 << 20, "", 8 << 20},
		{9<<20 + 5, 100 << 20, "LVM metadata area", 1<<20 - 5},
		{10 << 20, 7, "", 7},
	} {
		what, n := l.AreaAt(c.off, c.limit)
		if what != c.what || n != c.n {
			t.Errorf("AreaAt(%d, %d) = %q, %d; want %q, %d", c.off, c.limit, what, n, c.what, c.n)
		}
	}
}

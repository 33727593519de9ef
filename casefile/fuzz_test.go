package casefile

import (
	"os"
	"path/filepath"
	"testing"

	"holmes/internal/fixture"
)

// FuzzCaseFile loads case files and opens every name they define, over
// two small member files and a real VG text: any file must give devices
// or errors, and names stacked on themselves must fail, not recurse.
func FuzzCaseFile(f *testing.F) {
	dir := f.TempDir()
	for _, m := range []string{"a.img", "b.img"} {
		if err := os.WriteFile(filepath.Join(dir, m), make([]byte, 1<<20), 0o444); err != nil {
			f.Fatal(err)
		}
	}
	vg, err := os.ReadFile(fixture.Repo(f, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "guests.vg"), vg, 0o444); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 4096, "members": ["a.img", "b.img"]}]}`,
		`{"arrays": [{"name": "md0", "level": "raid0", "chunk_bytes": 65536, "data_offset": 0, "members": ["a.img", null, "md0"]}]}`,
		`{"arrays": [{"name": "md0", "level": "raid5", "chunk_bytes": 4096, "data_offset": 0, "members": ["a.img", "b.img", null]}],
		  "volume_groups": [{"metadata": "guests.vg", "pvs": {"pv0": "md0", "pv1": "guests/root"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "case.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			return
		}
		c.dir = dir
		var names []string
		for _, a := range c.Arrays {
			names = append(names, a.Name)
		}
		for _, g := range c.VolumeGroups {
			if v, err := c.loadVG(&g); err == nil {
				for _, lv := range v.LVs {
					names = append(names, v.Name+"/"+lv.Name)
				}
			}
		}
		for _, n := range names {
			if d, err := c.Resolve(n); err == nil {
				d.ReadAt(make([]byte, 4096), 0)
				d.Close()
			}
		}
	})
}

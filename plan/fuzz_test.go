package plan

import (
	"os"
	"path/filepath"
	"testing"

	"holmes/casefile"
	"holmes/internal/fixture"
)

// FuzzFromCase plans arbitrary case files over two small files and a real
// VG text: any case file gives a plan or an error, never a panic or a loop
// (names stacked on themselves through arrays and VGs included).
func FuzzFromCase(f *testing.F) {
	dir := f.TempDir()
	for _, m := range []string{"a.img", "b.img"} {
		if err := os.WriteFile(filepath.Join(dir, m), nil, 0o444); err != nil {
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
		`{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "metadata": "0.90", "members": ["a.img:p1", null]}],
		  "filesystems": [{"dev": "md0", "superblock": 8193, "block_size": 1024, "root_lost": true}]}`,
		`{"arrays": [{"name": "md0", "level": "raid10", "layout": "n2", "chunk_bytes": 65536, "data_offset": 2097152, "members": ["a.img@1M+4M", "b.img:p2@4096", "md0"]}]}`,
		`{"arrays": [{"name": "md1", "level": "linear", "data_offset": 0, "members": ["guests/root"]}],
		  "volume_groups": [{"metadata": "guests.vg", "pvs": {"pv0": "md1:p1", "pv1": "/dev/sdq"}}],
		  "filesystems": [{"dev": "guests/home:p1@1M"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// beside the member files, one file per run: fuzz workers run at once
		tmp, err := os.CreateTemp(dir, "case-*.json")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(b); err != nil {
			t.Fatal(err)
		}
		tmp.Close()
		c, err := casefile.Load(tmp.Name())
		if err != nil {
			return
		}
		if pl, err := FromCase(c, Options{}); err == nil {
			pl.Lines()
		}
	})
}

package casefile

import (
	"holmes/internal/fixture"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func str(s string) *string { return &s }

// SetArray keeps what people wrote, replaces the array of the same name,
// and stores member paths relative to the case file.
func TestSetArrayKeepsTheRestAndRelativizes(t *testing.T) {
	dir := t.TempDir()
	disks := filepath.Join(dir, "disks")
	if err := os.Mkdir(disks, 0o755); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(disks, "d0.img")
	if err := os.WriteFile(disk, make([]byte, 4096), 0o444); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "case.json")
	initial := `{"arrays": [{"name": "md1", "level": "raid1", "data_offset": 0, "members": ["old.img"]}],
 "volume_groups": [{"metadata": "guests_12.vg", "pvs": {"pv0": "md1"}}]}`
	if err := os.WriteFile(path, []byte(initial), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file whose name holds ':' keeps its partition suffix apart.
	colon := filepath.Join(disks, "disk:1.img")
	if err := os.WriteFile(colon, make([]byte, 4096), 0o444); err != nil {
		t.Fatal(err)
	}
	a := Array{Name: "md1", Level: "raid10", Layout: "n2", ChunkBytes: 65536, DataOffset: 1 << 20,
		Members: []*string{str(disk + ":p2"), nil, str(colon + ":p1"), str(colon + "@1M")}}
	if err := SetArray(path, a); err != nil {
		t.Fatal(err)
	}
	if err := SetArray(path, Array{Name: "md2", Level: "raid1", Members: []*string{str("vg/lv")}}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Arrays) != 2 || len(c.VolumeGroups) != 1 || c.VolumeGroups[0].PVs["pv0"] != "md1" {
		t.Fatalf("case after two SetArray calls: %+v", c)
	}
	md1 := c.Arrays[0]
	if md1.Level != "raid10" || *md1.Members[0] != "disks/d0.img:p2" || md1.Members[1] != nil ||
		*md1.Members[2] != "disks/disk:1.img:p1" || *md1.Members[3] != "disks/disk:1.img@1M" {
		t.Errorf("md1 recorded as %+v (member 0 %q)", md1, *md1.Members[0])
	}
	if *c.Arrays[1].Members[0] != "vg/lv" {
		t.Errorf("a name that is not a path changed: %q", *c.Arrays[1].Members[0])
	}
}

// Names stacked on themselves are refused, not followed forever: arrays
// containing each other, and an array whose member is an LV whose PV is
// that array.
func TestOpenRefusesCycles(t *testing.T) {
	dir := t.TempDir()
	vg, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "guests.vg"), vg, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"arrays": `{"arrays": [{"name": "md1", "level": "raid1", "data_offset": 0, "members": ["md2"]},
 {"name": "md2", "level": "raid1", "data_offset": 0, "members": ["md1"]}]}`,
		"array and LV": `{"arrays": [{"name": "md1", "level": "raid1", "data_offset": 0, "members": ["guests/home"]}],
 "volume_groups": [{"metadata": "guests.vg", "pvs": {"pv0": "md1", "pv1": "md1"}}]}`,
	} {
		path := filepath.Join(dir, "case.json")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Resolve("md1"); err == nil || !strings.Contains(err.Error(), "stacked on itself") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

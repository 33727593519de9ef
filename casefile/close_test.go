package casefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/lvmmeta"
	"holmes/mdraid"
)

// countingDevice is a device of zeros that counts its Close calls.
type countingDevice struct {
	size   int64
	closes int
}

func (d *countingDevice) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }
func (d *countingDevice) Size() int64                             { return d.size }
func (d *countingDevice) Name() string                            { return "counting" }
func (d *countingDevice) Close() error                            { d.closes++; return nil }

// Who opens closes: the layers (a slice, an array, an LV) never close what
// they were given; blockdev.Stack, which the resolvers use for the chains
// they open, closes each device below exactly once.
func TestConstructorsNeverCloseWhatTheyWereGiven(t *testing.T) {
	a, b := &countingDevice{size: 64 << 20}, &countingDevice{size: 64 << 20}
	arr, err := mdraid.Open(mdraid.Geometry{Level: "raid1", RaidDisks: 2}, []blockdev.Device{a, b}, "md1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := blockdev.Slice(arr, 0, 4096, "md1@0+4K")
	if err != nil {
		t.Fatal(err)
	}
	vg, err := lvmmeta.ReadVGFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	lv, err := lvmmeta.OpenLV(vg, "root", map[string]blockdev.Device{"pv0": arr, "pv1": b})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []blockdev.Device{s, lv, arr} {
		d.Close()
	}
	if a.closes != 0 || b.closes != 0 {
		t.Fatalf("members closed %d and %d times by the layers above them", a.closes, b.closes)
	}
	blockdev.Stack(arr, a, nil, b).Close()
	if a.closes != 1 || b.closes != 1 {
		t.Errorf("Stack closed the members %d and %d times, want once each", a.closes, b.closes)
	}
}

// Resolving a case-file name opens a chain of files; closing what Resolve
// returned (through a range on top, as blockdev.Open adds it) closes them all.
func TestResolveClosesTheChainItOpened(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.img", "b.img"} {
		if err := os.WriteFile(filepath.Join(dir, f), make([]byte, 1<<20), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "case.json")
	os.WriteFile(path, []byte(`{"arrays": [{"name": "md1", "level": "raid1", "data_offset": 0, "members": ["a.img", "b.img:p1@0"]},
 {"name": "md2", "level": "raid1", "data_offset": 0, "members": ["a.img", "b.img"]},
 {"name": "md3", "level": "linear", "data_offset": 0, "members": ["md2@4K", "a.img@512K"]}]}`), 0o644)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	before := openFiles(t)
	if _, err := blockdev.Open("md1", c); err == nil {
		t.Fatal("md1: b.img has no partition table, yet it opened")
	}
	if n := openFiles(t); n != before {
		t.Errorf("a failed open left %d files open", n-before)
	}
	d, err := blockdev.Open("md3@1M", c)
	if err != nil {
		t.Fatal(err)
	}
	if n := openFiles(t); n != before+3 {
		t.Errorf("md3 holds %d files open, want 3", n-before)
	}
	d.Close()
	if n := openFiles(t); n != before {
		t.Errorf("closing md3@1M left %d files open", n-before)
	}
}

func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// TestCaseMapsAreRelativeToTheCaseFile: the case file's maps name images
// and mapfiles relative to it, and apply to the arrays' members.
func TestCaseMapsAreRelativeToTheCaseFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "disks"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("disks/a.img", strings.Repeat("a", 8192))
	write("disks/a.map", "0 + 1\n0 4096 +\n4096 512 -\n4608 3584 +\n")
	write("case.json", `{"arrays": [{"name": "md0", "level": "linear", "data_offset": 0, "members": ["disks/a.img"]}],
		"maps": {"disks/a.img": "disks/a.map"}}`)
	t.Chdir(t.TempDir()) // paths are the case file's, not the working directory's
	c, err := Load(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := blockdev.Open("md0", c)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.ReadAt(make([]byte, 8192), 0)
	if u, ok := blockdev.AsUnreadable(err); !ok || u.Off != 4096 || !strings.Contains(u.Why, "bad sector in ddrescue mapfile "+filepath.Join(dir, "disks/a.map")) {
		t.Errorf("read over the bad sector: %v", err)
	}
	write("bad.json", `{"maps": {"disks/a.img": "disks/none.map"}}`)
	if _, err := Load(filepath.Join(dir, "bad.json")); err == nil || !strings.Contains(err.Error(), "maps") {
		t.Errorf("a missing mapfile: %v", err)
	}
}

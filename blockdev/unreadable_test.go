package blockdev

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestWithHolesFailsOnlyWhereTheHolesAre(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 100)
	d := WithHoles(memDevice(data),
		[]Extent{{60, 10}, {10, 5}, {12, 8}, {95, 50}, {-5, 0}}, "not finished in ddrescue mapfile disk1.map")
	if got, want := HolesOf(Stack(d)), []Extent{{10, 10}, {60, 10}, {95, 5}}; !slices.Equal(got, want) {
		t.Fatalf("holes %v, want %v", got, want)
	}
	p := make([]byte, 10)
	if n, err := d.ReadAt(p, 0); n != 10 || err != nil {
		t.Fatalf("read before the hole: %d, %v", n, err)
	}
	n, err := d.ReadAt(p, 5)
	u, ok := AsUnreadable(err)
	if n != 5 || !ok || u.Off != 10 || u.Len != 10 || u.Dev != "mem" {
		t.Fatalf("read into the hole: %d, %v", n, err)
	}
	if !strings.Contains(err.Error(), "mem: bytes 10-19 unreadable (not finished in ddrescue mapfile disk1.map)") {
		t.Errorf("error says %q", err)
	}
	if n, err := d.ReadAt(p, 20); n != 10 || err != nil {
		t.Fatalf("read between holes: %d, %v", n, err)
	}
	if _, err := d.ReadAt(p, 92); err == nil || err == io.EOF {
		t.Fatalf("read into the last hole: %v", err)
	}
}

func TestComplement(t *testing.T) {
	got := Complement([]Extent{{50, 10}, {0, 10}, {55, 20}}, 100)
	if want := []Extent{{10, 40}, {75, 25}}; !slices.Equal(got, want) {
		t.Fatalf("complement %v, want %v", got, want)
	}
	if got := Complement(nil, 8); !slices.Equal(got, []Extent{{0, 8}}) {
		t.Fatalf("complement of nothing %v", got)
	}
}

// TestHolesOfAPartition: a partition's holes are its disk's, in its own
// offsets, cut to it.
func TestHolesOfAPartition(t *testing.T) {
	d := WithHoles(memDevice(bytes.Repeat([]byte{7}, 100)), []Extent{{5, 5}, {20, 10}, {30, 5}, {60, 10}}, "not collected")
	part, err := Slice(d, 15, 80, "d:p1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := HolesOf(part), []Extent{{5, 15}, {45, 10}}; !slices.Equal(got, want) {
		t.Errorf("holes of the partition %v, want %v", got, want)
	}
}

// claiming resolves "disk.img" itself, before any file of that name.
type claiming struct{ d Device }

func (c claiming) Claims(name string) bool { return name == "disk.img" }
func (c claiming) Resolve(name string) (Device, error) {
	if name == "disk.img" {
		return c.d, nil
	}
	return nil, io.ErrUnexpectedEOF
}

// TestClaimerComesBeforeFiles: a name the resolver claims is its own even
// where a file of that name exists, and its partitions and ranges too.
func TestClaimerComesBeforeFiles(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("disk.img", []byte("other bytes"), 0o444); err != nil {
		t.Fatal(err)
	}
	r := claiming{memDevice(bytes.Repeat([]byte{9}, 4096))}
	for _, spec := range []string{"disk.img", "disk.img@1K+1K"} {
		d, err := Open(spec, r)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		if _, err := d.ReadAt(b, 0); err != nil || b[0] != 9 {
			t.Errorf("%s read %v, %v: not the claimed device", spec, b, err)
		}
	}
}

func TestUnreadableFromFollowsTheLayers(t *testing.T) {
	disk := WithEachHole(memDevice(make([]byte, 1000)), []Hole{
		{Extent{300, 50}, "bad sector in ddrescue mapfile d.map"},
		{Extent{350, 20}, "non-tried in ddrescue mapfile d.map"},
		{Extent{340, 5}, "bad sector in ddrescue mapfile d.map"},
	})
	part, err := Slice(disk, 100, 800, "mem:p1")
	if err != nil {
		t.Fatal(err)
	}
	area, err := Slice(Stack(part), 50, 700, "mem:p1")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 400)
	n, err := area.ReadAt(p, 0)
	if n != 150 {
		t.Fatalf("read %d bytes before the hole, want 150 (%v)", n, err)
	}
	if e, ok := UnreadableFrom(area, 150, err); !ok || e != (Extent{150, 50}) {
		t.Errorf("hole in the area's offsets %v %v, want 150+50", e, ok)
	}
	n, err = area.ReadAt(p, 200)
	if u, ok := AsUnreadable(err); n != 0 || !ok || u.Off != 350 || u.Len != 20 || !strings.Contains(u.Why, "non-tried") {
		t.Errorf("the next hole: %d %v", n, err)
	}
	if _, ok := UnreadableFrom(area, 0, io.ErrUnexpectedEOF); ok {
		t.Error("an error that is no UnreadableError gave a range")
	}
}

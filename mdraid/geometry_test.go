package mdraid

import (
	"errors"
	"io"
	"strings"
	"testing"

	"holmes/blockdev"
)

func TestNormalizeNamesAndDefaults(t *testing.T) {
	for _, c := range []struct {
		in   Geometry
		want string // level/layout after normalizing
	}{
		{Geometry{Level: "5", ChunkBytes: 65536, RaidDisks: 4}, "raid5/left-symmetric"},
		{Geometry{Level: "raid5", Layout: "ra", ChunkBytes: 65536, RaidDisks: 4}, "raid5/right-asymmetric"},
		{Geometry{Level: "raid6", Layout: "parity-first-6", ChunkBytes: 65536, RaidDisks: 5}, "raid6/parity-first-6"},
		{Geometry{Level: "10", ChunkBytes: 65536, RaidDisks: 4}, "raid10/n2"},
		{Geometry{Level: "raid10", Layout: "o3", ChunkBytes: 65536, RaidDisks: 5}, "raid10/o3"},
		{Geometry{Level: "raid10", Layout: "0x202", ChunkBytes: 65536, RaidDisks: 4}, "raid10/n2f2"},
		{Geometry{Level: "raid10", Layout: "0x40201", ChunkBytes: 65536, RaidDisks: 4}, "raid10/0x40201"},
		{Geometry{Level: "raid0", ChunkBytes: 65536, RaidDisks: 3}, "raid0/original"},
		{Geometry{Level: "mirror", ChunkBytes: 65536, RaidDisks: 2}, "raid1/"},
		{Geometry{Level: "raid4", Layout: "left-symmetric", ChunkBytes: 65536, RaidDisks: 3}, "raid4/parity-last"},
		{Geometry{Level: "linear", RaidDisks: 2}, "linear/"},
	} {
		g, err := c.in.Normalize()
		if err != nil {
			t.Errorf("%+v: %v", c.in, err)
			continue
		}
		if got := g.Level + "/" + g.Layout; got != c.want {
			t.Errorf("%+v: normalized to %s, want %s", c.in, got, c.want)
		}
	}
}

func TestNormalizeRefusesNonsense(t *testing.T) {
	for _, c := range []struct {
		in   Geometry
		want string
	}{
		{Geometry{Level: "raid7", RaidDisks: 4, ChunkBytes: 65536}, "unknown raid level"},
		{Geometry{Level: "raid5", RaidDisks: 4}, "chunk size is needed"},
		{Geometry{Level: "raid5", RaidDisks: 4, ChunkBytes: 1000}, "not a multiple of 512"},
		{Geometry{Level: "raid5", RaidDisks: 0, ChunkBytes: 65536}, "raid disks"},
		{Geometry{Level: "raid6", RaidDisks: 3, ChunkBytes: 65536}, "at least 4"},
		{Geometry{Level: "raid5", Layout: "ddf-N-restart", RaidDisks: 4, ChunkBytes: 65536}, "raid6 only"},
		{Geometry{Level: "raid10", Layout: "n3", RaidDisks: 2, ChunkBytes: 65536}, "needs 3 copies"},
		{Geometry{Level: "raid10", Layout: "x2", RaidDisks: 4, ChunkBytes: 65536}, "bad raid10 layout"},
		{Geometry{Level: "raid10", RaidDisks: 4, ChunkBytes: 3 << 10}, "not a power of two"},
		{Geometry{Level: "raid1", RaidDisks: 2, DataOffset: 100}, "multiple of 512"},
		{Geometry{Level: "raid0", Layout: "sideways", RaidDisks: 2, ChunkBytes: 65536}, "unknown layout"},
	} {
		if _, err := c.in.Normalize(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one saying %q", c.in, err, c.want)
		}
	}
}

// labMembers opens the members of a lab examine fixture in role order.
func labMembers(t *testing.T, name string) ([]blockdev.Device, labArray) {
	t.Helper()
	for _, e := range labArrays(t) {
		if e.Name != name {
			continue
		}
		devs := make([]blockdev.Device, len(e.Members))
		for i, m := range e.Members {
			if m != nil {
				devs[i] = openLabMember(t, *m)
			}
		}
		return devs, e
	}
	t.Fatalf("lab fixture %s missing from the manifest", name)
	return nil, labArray{}
}

func TestOpenRefusesWhatCannotBeRead(t *testing.T) {
	devs, e := labMembers(t, "r5-ls-v12")
	g := Geometry{Level: e.Level, Layout: e.Layout, ChunkBytes: e.ChunkBytes, RaidDisks: e.RaidDisks, DataOffset: e.DataOffset}
	check := func(what string, members []blockdev.Device, g Geometry, want string) {
		t.Helper()
		if _, err := Open(g, members, "md9"); err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "md9") {
			t.Errorf("%s: error %v, want one starting md9 and saying %q", what, err, want)
		}
	}
	check("three members for four disks", devs[:3], g, "3 members given for 4 raid disks")
	check("all missing", make([]blockdev.Device, 4), g, "every member is missing")
	far := g
	far.DataOffset = devs[0].Size() + 512
	check("data offset past the end", devs, far, "outside the device")

	// raid0 over the same disks with one missing: reads that need it fail
	// with an error naming the offset, others work.
	r0 := Geometry{Level: "raid0", ChunkBytes: 65536, RaidDisks: 4, DataOffset: e.DataOffset, DataSize: devs[0].Size() - e.DataOffset}
	a, err := Open(r0, []blockdev.Device{devs[0], nil, devs[2], devs[3]}, "md9")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	if _, err := a.ReadAt(buf, 0); err != nil {
		t.Errorf("read from a present member: %v", err)
	}
	var where *blockdev.Error
	if _, err := a.ReadAt(buf, 65536); !errors.As(err, &where) || where.Dev() != "md9" || where.Off() != 65536 ||
		!strings.Contains(err.Error(), "missing member (roles [1])") {
		t.Errorf("read from the missing member: error %v", err)
	}
	if n, err := a.ReadAt(buf, a.Size()-100); n != 100 || err != io.EOF {
		t.Errorf("read across the end: %d, %v; want 100, EOF", n, err)
	}
	if _, err := a.ReadAt(buf, -1); err == nil {
		t.Error("read at a negative offset succeeded")
	}
	if _, err := a.CheckRedundancy(0, 512); !errors.Is(err, ErrNoRedundancy) {
		t.Errorf("raid0 redundancy check: %v", err)
	}

	// raid5 with two of four missing opens; what needs them cannot be rebuilt.
	r5, err := Open(g, []blockdev.Device{devs[0], nil, nil, devs[3]}, "md9")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r5.ReadAt(buf, 0); err != nil {
		t.Errorf("raid5 chunk on a present member: %v", err)
	}
	if _, err := r5.ReadAt(buf, 65536); err == nil || !strings.Contains(err.Error(), "cannot rebuild member 1") {
		t.Errorf("raid5 chunk on a lost member with another lost: error %v", err)
	}
}

// TestRedundancyCheck: on the kernel's raid5 the parity agrees everywhere;
// assembled in the wrong order it still does (XOR does not care), but the
// mirrors of a raid10 assembled wrongly do not.
func TestRedundancyCheck(t *testing.T) {
	for _, name := range []string{"r5-ls-v12", "r6-v12", "r10-n2-v12", "r10-f2-v12"} {
		devs, e := labMembers(t, name)
		g := Geometry{Level: e.Level, Layout: e.Layout, ChunkBytes: e.ChunkBytes, RaidDisks: len(devs), DataOffset: e.DataOffset}
		a, err := Open(g, devs, name)
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < a.Size(); off += a.Size() / 7 {
			if ok, err := a.CheckRedundancy(off, 512); err != nil || !ok {
				t.Errorf("%s at %d: agrees=%v, %v", name, off, ok, err)
			}
		}
		if e.Level == "raid5" {
			continue
		}
		swapped := append([]blockdev.Device(nil), devs...)
		swapped[1], swapped[2] = swapped[2], swapped[1]
		b, err := Open(g, swapped, name)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for off := int64(0); off < b.Size(); off += b.Size() / 7 {
			if ok, _ := b.CheckRedundancy(off, 512); !ok {
				bad++
			}
		}
		if bad == 0 {
			t.Errorf("%s with roles 1 and 2 swapped: redundancy agrees everywhere", name)
		}
	}
}

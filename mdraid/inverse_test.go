package mdraid

import (
	"testing"

	"holmes/blockdev"
)

// MemberRuns inverts every level's mapping: each copy of every array byte
// (every 1536th byte, so chunk edges and far copies are crossed) maps back
// to that byte, and every run it calls data is one locate agrees with.
func TestMemberRunsInvertsLocate(t *testing.T) {
	const area = 96 << 10
	for _, g := range []Geometry{
		{Level: "raid1", RaidDisks: 3},
		{Level: "linear", RaidDisks: 3},
		{Level: "raid0", ChunkBytes: 4096, RaidDisks: 3},
		{Level: "raid0", Layout: "alternate", ChunkBytes: 4096, RaidDisks: 3},
		{Level: "raid10", Layout: "n2", ChunkBytes: 4096, RaidDisks: 4},
		{Level: "raid10", Layout: "n2", ChunkBytes: 4096, RaidDisks: 5},
		{Level: "raid10", Layout: "f2", ChunkBytes: 4096, RaidDisks: 4},
		{Level: "raid10", Layout: "o2", ChunkBytes: 4096, RaidDisks: 5},
		{Level: "raid10", Layout: "n3", ChunkBytes: 4096, RaidDisks: 3},
		{Level: "raid10", Layout: "f3", ChunkBytes: 8192, RaidDisks: 5},
		{Level: "raid5", Layout: "left-symmetric", ChunkBytes: 4096, RaidDisks: 4},
		{Level: "raid6", Layout: "right-asymmetric", ChunkBytes: 4096, RaidDisks: 6},
	} {
		areas := make([]blockdev.Device, g.RaidDisks)
		for i := range areas {
			areas[i] = zeroArea(area + int64(i)*4096*int64(i%2)) // unequal for raid0 zones and linear
		}
		a, err := openAreas(g, areas, "t")
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < a.Size(); off += 1536 {
			places, _ := a.layout.locate(off)
			for _, p := range places {
				runs := a.MemberRuns(p.member, p.offset, 1, 1)
				if len(runs) != 1 || runs[0].ArrayOffset != off {
					t.Fatalf("%+v: array byte %d on role %d at %d maps back to %+v", g, off, p.member, p.offset, runs)
				}
			}
		}
		data := int64(0)
		for role := range g.RaidDisks {
			for _, r := range a.MemberRuns(role, 0, areas[role].Size(), 1<<20) {
				if r.ArrayOffset >= 0 {
					data += r.Length
				}
			}
		}
		copies := int64(max(1, g.Redundancy()+1))
		if g.Level == "raid5" || g.Level == "raid6" {
			copies = 1
		}
		if data != a.Size()*copies {
			t.Errorf("%+v: the members' runs hold %d bytes of data, want %d copies of %d", g, data, copies, a.Size())
		}
	}
}

// Parity runs say which stripe's P or Q they hold.
func TestMemberRunsNameParity(t *testing.T) {
	g := Geometry{Level: "raid6", Layout: "left-symmetric", ChunkBytes: 4096, RaidDisks: 5, DataSize: 64 << 10}
	areas := make([]blockdev.Device, 5)
	for i := range areas {
		areas[i] = zeroArea(g.DataSize)
	}
	a, err := openAreas(g, areas, "t")
	if err != nil {
		t.Fatal(err)
	}
	for stripe := int64(0); stripe < 16; stripe++ {
		_, _, p, q := a.Locate(stripe * 3 * 4096)
		for role, want := range map[int]string{p: "P", q: "Q"} {
			r := a.MemberRuns(role, stripe*4096+100, 10, 4)
			if len(r) != 1 || r[0].Parity != want || r[0].Stripe != stripe || r[0].ArrayOffset != -1 {
				t.Errorf("stripe %d role %d: %+v, want %s", stripe, role, r, want)
			}
		}
	}
}

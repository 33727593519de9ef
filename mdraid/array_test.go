package mdraid

import (
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// labArray is the part of an md lab manifest entry (testdata/md/manifest.json)
// the assembly tests use: the members in role order and what the kernel read.
type labArray struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Level       string    `json:"level"`
	Layout      string    `json:"layout"`
	ChunkBytes  int64     `json:"chunk_bytes"`
	DataOffset  int64     `json:"data_offset"`
	RaidDisks   int       `json:"raid_disks"`
	Members     []*string `json:"members"`
	ArraySize   int64     `json:"array_size"`
	ArraySHA256 string    `json:"array_sha256"`
}

func labArrays(t *testing.T) []labArray {
	t.Helper()
	var all []labArray
	fixture.JSON(t, "testdata/md/manifest.json", &all)
	var out []labArray
	for _, e := range all {
		if e.ArraySHA256 != "" && e.Kind == "examine" {
			out = append(out, e)
		}
	}
	return out
}

// openLabMember unpacks a manifest member ("dir/d0.img.xz:p1") and opens it
// with its partition or range suffix.
func openLabMember(t *testing.T, member string) blockdev.Device {
	t.Helper()
	i := strings.Index(member, ".img.xz") + len(".img.xz")
	path := fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/md", member[:i])))
	d, err := blockdev.Open(path+member[i:], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func sha(t *testing.T, a *Array) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(a, 0, a.Size())); err != nil {
		t.Fatalf("%s: reading the array: %v", a.Name(), err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestLabArraysReadAsTheKernel assembles every lab array the real kernel
// built (each level and layout, metadata 0.90 to 1.2) and checks that the
// virtual array reads byte-identical to /dev/mdX: from the superblocks, from
// the lab's recorded geometry given as flags, and with each member left
// out in turn wherever the level's redundancy allows.
func TestLabArraysReadAsTheKernel(t *testing.T) {
	entries := labArrays(t)
	if len(entries) == 0 {
		t.Fatal("no examine fixtures with array_sha256 in testdata/md/manifest.json")
	}
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			// -short: a mirror, a stripe over unequal members, parity, double parity.
			fixture.SkipUnlessRepresentative(t, e.Name, "r10-n2-v12", "r0-zones-v12", "r5-ls-v12", "r6-v090")
			roles := make([]blockdev.Device, len(e.Members))
			var present []blockdev.Device
			missing := 0
			for i, m := range e.Members {
				if m == nil {
					missing++
					continue
				}
				roles[i] = openLabMember(t, *m)
				present = append(present, roles[i])
			}
			plan, err := PlanFromSuperblocks(present, "")
			if err != nil {
				t.Fatal(err)
			}
			arr, err := plan.Open(present, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if arr.Size() != e.ArraySize {
				t.Fatalf("array size %d, the kernel's was %d", arr.Size(), e.ArraySize)
			}
			if got := sha(t, arr); got != e.ArraySHA256 {
				t.Fatalf("from superblocks: sha256 %s, the kernel read %s", got, e.ArraySHA256)
			}
			// The recorded geometry, as a user would give it with flags.
			g := Geometry{Level: e.Level, Layout: e.Layout, ChunkBytes: e.ChunkBytes, RaidDisks: e.RaidDisks,
				DataOffset: e.DataOffset, DataSize: plan.Geometry.DataSize}
			if g.RaidDisks == 0 {
				g.RaidDisks = len(e.Members)
			}
			if g.Level == "raid0" || g.Level == "linear" {
				g.DataSize = 0
				if strings.HasPrefix(plan.Metadata, "0.9") || plan.Metadata == "1.0" {
					return // superblocks at the end: member sizes come from them only
				}
			}
			flagged, err := Open(g, roles, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if got := sha(t, flagged); got != e.ArraySHA256 {
				t.Fatalf("from recorded geometry %+v: sha256 %s, the kernel read %s", g, got, e.ArraySHA256)
			}
			if missing >= flagged.Geometry().Redundancy() {
				return
			}
			for drop := range roles {
				if roles[drop] == nil {
					continue
				}
				degraded := append([]blockdev.Device(nil), roles...)
				degraded[drop] = nil
				a, err := Open(g, degraded, e.Name)
				if err != nil {
					t.Fatalf("without role %d: %v", drop, err)
				}
				if got := sha(t, a); got != e.ArraySHA256 {
					t.Fatalf("without role %d: sha256 %s, the kernel read %s", drop, got, e.ArraySHA256)
				}
			}
			if missing > 0 || flagged.Geometry().Redundancy() < 2 {
				return
			}
			// raid6: every pair of lost members is rebuilt from P and Q.
			for d1 := range roles {
				for d2 := d1 + 1; d2 < len(roles); d2++ {
					degraded := append([]blockdev.Device(nil), roles...)
					degraded[d1], degraded[d2] = nil, nil
					a, err := Open(g, degraded, e.Name)
					if err != nil {
						t.Fatalf("without roles %d and %d: %v", d1, d2, err)
					}
					if got := sha(t, a); got != e.ArraySHA256 {
						t.Fatalf("without roles %d and %d: sha256 %s, the kernel read %s", d1, d2, got, e.ArraySHA256)
					}
				}
			}
		})
	}
}

// A spare's superblock belongs to the array but holds no role: it is
// reported as such and left out, and the array still reads as the kernel's.
func TestPlanReportsSpares(t *testing.T) {
	devs, e := labMembers(t, "r5-spare-v12")
	spare := openLabMember(t, "r5-spare-v12/d3.img.xz")
	all := append([]blockdev.Device{spare}, devs...)
	plan, err := PlanFromSuperblocks(all, "")
	if err != nil {
		t.Fatal(err)
	}
	if c := plan.Candidates[0]; c.Status != "spare" || c.Role != nil {
		t.Errorf("spare reported as %+v", c)
	}
	for r, i := range plan.Roles {
		if i != r+1 {
			t.Errorf("role %d filled by device %d, want %d", r, i, r+1)
		}
	}
	arr, err := plan.Open(all, e.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha(t, arr); got != e.ArraySHA256 {
		t.Errorf("sha256 %s, the kernel read %s", got, e.ArraySHA256)
	}
}

// Locate and ArrayOffset are inverses on every data byte of a parity array,
// and ArrayOffset refuses where a role holds P or Q.
func TestLocateArrayOffsetInverse(t *testing.T) {
	for _, g := range []Geometry{
		{Level: "raid5", Layout: "left-symmetric", ChunkBytes: 4096, RaidDisks: 5, DataSize: 64 << 10},
		{Level: "raid5", Layout: "right-asymmetric", ChunkBytes: 8192, RaidDisks: 4, DataSize: 64 << 10},
		{Level: "raid6", Layout: "left-symmetric", ChunkBytes: 4096, RaidDisks: 6, DataSize: 64 << 10},
		{Level: "raid6", Layout: "right-asymmetric", ChunkBytes: 4096, RaidDisks: 7, DataSize: 64 << 10},
	} {
		areas := make([]blockdev.Device, g.RaidDisks)
		for i := range areas {
			areas[i] = zeroArea(g.DataSize)
		}
		a, err := openAreas(g, areas, "t")
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < a.Size(); off += 1536 {
			role, ao, p, q := a.Locate(off)
			back, ok := a.ArrayOffset(role, ao)
			if !ok || back != off {
				t.Fatalf("%+v: %d -> role %d at %d -> %d %v", g, off, role, ao, back, ok)
			}
			if _, ok := a.ArrayOffset(p, ao); ok || role == p || role == q {
				t.Fatalf("%+v: %d: P on role %d reads as data", g, off, p)
			}
			if q >= 0 {
				if _, ok := a.ArrayOffset(q, ao); ok {
					t.Fatalf("%+v: %d: Q on role %d reads as data", g, off, q)
				}
			}
		}
	}
}

// zeroArea is a data area of size zero bytes: Locate needs no content.
type zeroArea int64

func (z zeroArea) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }
func (z zeroArea) Size() int64                             { return int64(z) }
func (z zeroArea) Name() string                            { return "zero" }
func (z zeroArea) Close() error                            { return nil }

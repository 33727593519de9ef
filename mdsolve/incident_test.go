package mdsolve

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/mdraid"
)

// TestSolveIncident: on the incident lab (an installer re-created both
// arrays over the old ones with newer defaults, put a new empty VG of the
// same name on the raid10 and began a mkfs over the raid1; mirror halves
// diverged), solve finds the ORIGINAL arrays, not the installer's: the
// raid10 at data offset 0 whose old VG's LVs read through (not the new
// empty PV at 2 MiB), and the raid1 at offset 0 with the 0.90 metadata
// its filesystem's size shows.
func TestSolveIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	record := fixture.LoadIncident(t)
	for _, want := range []fixture.IncidentArray{record.Original.Raid10, record.Original.Raid1} {
		t.Run(want.Level, func(t *testing.T) {
			devs, byName := openIncident(t, want.Order)
			res, err := Solve(devs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			summary := fmt.Sprintf("%s %s chunk %d offset %d metadata %s order %v (ambiguous %v %q)\n  evidence: %s",
				res.Level, res.Layout, res.ChunkBytes, res.DataOffset, res.Metadata, res.Order, res.Ambiguous, res.Why,
				strings.Join(res.Evidence, "\n    "))
			if res.Ambiguous || res.MdadmCreate == nil {
				t.Fatalf("the evidence (the old VG's LVs, the old filesystem) decides, yet: %s", summary)
			}
			chunk, layout := int64(0), ""
			if want.ChunkBytes != nil {
				chunk = *want.ChunkBytes
			}
			if want.Layout != nil {
				layout = *want.Layout
			}
			if res.Level != want.Level || res.Layout != layout || res.ChunkBytes != chunk || res.DataOffset != want.DataOffset || res.Metadata != want.Metadata {
				t.Fatalf("WRONG ANSWER with a create line: %s\nthe original: %s %s chunk %d offset %d metadata %s", summary, want.Level, layout, chunk, want.DataOffset, want.Metadata)
			}
			// Mirror halves in either order: compare groups of copies.
			width := len(want.Order)
			if want.Level == "raid10" {
				width = 2
			}
			for i := 0; i < len(want.Order); i += width {
				got := make([]string, width)
				for k := range width {
					got[k] = byName[res.Order[i+k]]
				}
				if !sameMembers(got, want.Order[i:i+width]) {
					t.Fatalf("roles %d-%d hold %v, the original %v: %s", i, i+width-1, got, want.Order[i:i+width], summary)
				}
			}
			members := make([]blockdev.Device, len(res.Order))
			for r, name := range res.Order {
				members[r] = devs[slices.IndexFunc(devs, func(d blockdev.Device) bool { return d.Name() == name })]
			}
			g := res.Geometry()
			if g.DataSize == 0 {
				g.DataSize = mdraid.Super090DataSize(members[0].Size())
			}
			arr, err := mdraid.Open(g, members, "solved")
			if err != nil {
				t.Fatal(err)
			}
			if arr.Size() != want.ArraySize {
				t.Errorf("the solved array holds %d bytes, the original %d", arr.Size(), want.ArraySize)
			}
			t.Logf("%s", summary)
		})
	}
}

func sameMembers(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// openIncident unpacks the incident disks of the record DEVs
// ("d3.img.xz:p2") and opens their partitions, in reverse order so that a
// solver echoing its input cannot pass; byName maps each device's name
// back to its record DEV.
func openIncident(t *testing.T, order []string) (devs []blockdev.Device, byName map[string]string) {
	t.Helper()
	byName = map[string]string{}
	for i := len(order) - 1; i >= 0; i-- {
		p, err := blockdev.Open(fixture.IncidentDev(t, order[i]), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		devs = append(devs, p)
		byName[p.Name()] = order[i]
	}
	return devs, byName
}

package trace

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/extgap"
	"holmes/internal/fixture"
	"holmes/mdraid"
)

// mirrorOfSmallExt is a raid1 "md9" of two copies of a real ext4 image
// (mke2fs and debugfs made it; data offset 0, so the array is the image),
// each copy with its own holes, and where /big's data lies on it.
func mirrorOfSmallExt(t *testing.T, holes map[string][]blockdev.Extent) (*Stack, []string) {
	t.Helper()
	img, err := os.ReadFile(fixture.SmallExt(t, "ext4"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var names []string
	for _, n := range []string{"a.img", "b.img"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, img, 0o444); err != nil {
			t.Fatal(err)
		}
		names = append(names, p)
	}
	geom := mdraid.Geometry{Level: "raid1", RaidDisks: 2, DataOffset: 0, DataSize: int64(len(img))}
	s := &Stack{Arrays: []Array{{Name: "md9", Geometry: geom, Members: names}}}
	var member func(name string) (blockdev.Device, error)
	member = func(name string) (blockdev.Device, error) {
		d, err := blockdev.OpenFile(name)
		if err != nil {
			return nil, err
		}
		return blockdev.WithHoles(d, holes[filepath.Base(name)], "not finished in ddrescue mapfile "+filepath.Base(name)+".map"), nil
	}
	s.Open = func(name string) (blockdev.Device, error) {
		if name != "md9" {
			return member(name)
		}
		var ms []blockdev.Device
		for _, n := range names {
			d, err := member(n)
			if err != nil {
				return nil, err
			}
			ms = append(ms, d)
		}
		a, err := mdraid.Open(geom, ms, "md9")
		if err != nil {
			return nil, err
		}
		return blockdev.Stack(a, ms...), nil
	}
	return s, names
}

// holeText is a Hole's steps in short: "layer what path@offset+length".
func holeText(h Hole) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d+%d (%s)\n", filepath.Base(h.Dev), h.Offset, h.Length, h.Why)
	for _, s := range h.Steps {
		fmt.Fprintf(&b, "  %s %s %d+%d %s %s@%d\n", s.Layer, filepath.Base(s.Dev), s.Offset, s.Length, s.What, s.Path, s.FileOffset)
	}
	return b.String()
}

// TestHolesOfAMirror: the same range missing on both halves of a raid1 is
// lost, and traces to the file it held, at the file's own offsets; ranges
// missing on one half only are read from the other (routed around) and
// trace no further.
func TestHolesOfAMirror(t *testing.T) {
	_, at := extgap.BigAt(t, 4096)
	lost := blockdev.Extent{Off: at + 100, Len: 700}
	s, names := mirrorOfSmallExt(t, map[string][]blockdev.Extent{
		"a.img": {lost, {Off: at + 4096, Len: 1024}},
		"b.img": {{Off: at - 1024, Len: 1824}, {Off: at + 8192, Len: 512}},
	})
	holes, err := s.Holes(names)
	if err != nil {
		t.Fatal(err)
	}
	if len(holes) != 4 {
		t.Fatalf("%d holes, want 4", len(holes))
	}
	var files []string
	for _, h := range holes {
		for _, st := range h.Steps {
			if st.Layer == "ext" {
				files = append(files, fmt.Sprintf("%s %s %d+%d", filepath.Base(h.Dev), st.Path, st.FileOffset, st.Length))
			}
		}
		if !strings.Contains(h.Why, "not finished in ddrescue mapfile") {
			t.Errorf("hole without its reason:\n%s", holeText(h))
		}
	}
	// a.img's 700 bytes at /big 4196 are also missing on b.img (whose
	// hole ends at /big 4896): lost; the other three are read from the
	// other half. Both halves' holes name the lost part.
	want := []string{"a.img /big 4196+700", "b.img /big 4196+700"}
	if !slices.Equal(files, want) {
		var all strings.Builder
		for _, h := range holes {
			all.WriteString(holeText(h))
		}
		t.Fatalf("files hit %q, want %q\n%s", files, want, all.String())
	}
	routed := 0
	for _, h := range holes {
		for _, st := range h.Steps {
			if st.What == RoutedAround {
				routed++
			}
		}
	}
	if routed < 3 {
		t.Errorf("%d routed-around steps, want one per hole the other half holds", routed)
	}
}

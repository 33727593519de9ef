package compare

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// TestCompareListsUnreadableRangesApart compares two real raid10 halves
// (testdata/md/pairs: d3 was written while d0 was away) with ddrescue-like
// gaps on both: one inside the region that differs, one where they agree.
// The gaps are listed per device in its own offsets, and their bytes count
// neither as differing nor as compared equal; the rest is what cmp says.
func TestCompareListsUnreadableRangesApart(t *testing.T) {
	pathA := fixture.Unpack(t, fixture.Repo(t, "testdata/md/pairs/d3.img.xz"))
	pathB := fixture.Unpack(t, fixture.Repo(t, "testdata/md/pairs/d0.img.xz"))
	rawA, _ := os.ReadFile(pathA)
	rawB, _ := os.ReadFile(pathB)
	holesA := []blockdev.Extent{{Off: 1060864, Len: 4096}} // inside d3's differing blocks
	holesB := []blockdev.Extent{{Off: 2 << 20, Len: 10000}, {Off: 8388608 - 700, Len: 700}}
	a := blockdev.WithHoles(openT(t, pathA), holesA, "not finished in ddrescue mapfile d3.map")
	b := blockdev.WithEachHole(openT(t, pathB), []blockdev.Hole{
		{Extent: holesB[0], Why: "bad sector in ddrescue mapfile d0.map"},
		{Extent: holesB[1], Why: "non-tried in ddrescue mapfile d0.map"}})

	rep, err := Devices(a, b, Request{Limit: -1, Locate: MD, Options: Options{ChunkSize: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	wantUnreadable := []Unreadable{
		{a.Name(), 1060864, 1064960, "not finished in ddrescue mapfile d3.map"},
		{b.Name(), 2 << 20, 2<<20 + 10000, "bad sector in ddrescue mapfile d0.map"},
		{b.Name(), 8388608 - 700, 8388608, "non-tried in ddrescue mapfile d0.map"},
	}
	got := slices.Clone(rep.Unreadable)
	slices.SortFunc(got, func(x, y Unreadable) int { return int(x.Start - y.Start) })
	if !reflect.DeepEqual(got, wantUnreadable) {
		t.Fatalf("unreadable %+v, want %+v", got, wantUnreadable)
	}
	// The naive answer over the bytes both sides hold.
	var diff, first int64 = 0, -1
	hole := func(off int64) bool {
		for _, h := range append(slices.Clone(holesA), holesB...) {
			if h.Off <= off && off < h.End() {
				return true
			}
		}
		return false
	}
	unreadable := int64(0)
	for off := rep.StartA; off < rep.StartA+rep.Compared; off++ {
		if hole(off) {
			unreadable++
			continue
		}
		if rawA[off] != rawB[off] {
			diff++
			if first < 0 {
				first = off
			}
		}
	}
	if rep.DiffBytes != diff || rep.FirstDiff == nil || *rep.FirstDiff != first || rep.UnreadableBytes != unreadable {
		t.Fatalf("diff bytes %d first %v unreadable %d, want %d, %d, %d", rep.DiffBytes, rep.FirstDiff, rep.UnreadableBytes, diff, first, unreadable)
	}
	if diff == 528 || diff == 0 {
		t.Fatalf("the gap in A should hide some of the 528 differing bytes, hides %d", 528-diff)
	}
	for _, r := range rep.Regions {
		if r.Start < 1064960 && r.End > 1060864 && r.Start >= 1060864 && r.End <= 1064960 {
			t.Errorf("region %+v lies wholly in the unreadable range", r)
		}
	}
}

// TestHashMarksUnreadablePieces: a manifest never hashes a gap as zeros;
// the piece is marked with its unreadable ranges, survives the text form,
// and a comparison counts it apart from differing and equal pieces.
func TestHashMarksUnreadablePieces(t *testing.T) {
	path := fixture.Unpack(t, fixture.Repo(t, "testdata/md/pairs/d0.img.xz"))
	whole := openT(t, path)
	holey := blockdev.WithHoles(whole, []blockdev.Extent{{Off: 3<<20 - 512, Len: 1024}, {Off: 5 << 20, Len: 4096}}, "not finished in ddrescue mapfile d0.map")
	m, err := Hash(holey, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]Region{2: {{3<<20 - 512, 3 << 20}}, 3: {{3 << 20, 3<<20 + 512}}, 5: {{5 << 20, 5<<20 + 4096}}}
	for i, p := range m.Pieces {
		if !reflect.DeepEqual(p.Unreadable, want[i]) || (p.Hash == "") != (want[i] != nil) {
			t.Errorf("piece %d: hash %q unreadable %v, want %v", i, p.Hash, p.Unreadable, want[i])
		}
	}
	var text bytes.Buffer
	m.WriteTo(&text)
	if !bytes.Contains(text.Bytes(), []byte("\n2097152 1048576 unreadable 3145216+512\n")) {
		t.Fatalf("manifest text:\n%s", text.String())
	}
	back, err := ReadManifest(&text, "d0.b3")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("round trip: %+v, want %+v", back, m)
	}
	full, err := Hash(whole, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ComparePieces(full, back)
	if err != nil {
		t.Fatal(err)
	}
	if rep.UnreadablePieces != 3 || len(rep.Differing) != 0 || rep.ComparedCount != 5 || len(rep.Unreadable) != 3 {
		t.Fatalf("compared %d, differing %d, unreadable pieces %d (%+v)", rep.ComparedCount, len(rep.Differing), rep.UnreadablePieces, rep.Unreadable)
	}
	for _, bad := range []string{"0+0", "5+1,5+1", "2097152+1,2097153+1", "9999999+1", "x+1"} {
		line := "2097152 1048576 unreadable " + bad
		if _, err := parsePiece(line); err == nil {
			t.Errorf("%q accepted", line)
		}
	}
}

// A gap over a member's md superblock does not stop the comparison: that
// side counts as carrying none, and the gap is listed.
func TestCompareGoesOnPastAGapOverTheSuperblock(t *testing.T) {
	pathA := fixture.Unpack(t, fixture.Repo(t, "testdata/md/pairs/d3.img.xz"))
	pathB := fixture.Unpack(t, fixture.Repo(t, "testdata/md/pairs/d0.img.xz"))
	a := blockdev.WithHoles(openT(t, pathA), []blockdev.Extent{{Off: 0, Len: 8192}}, "not finished in ddrescue mapfile d3.map")
	rep, err := Devices(a, openT(t, pathB), Request{Limit: -1, Locate: MD})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unreadable) != 1 || rep.Unreadable[0].End != 8192 || rep.StartA != 0 {
		t.Fatalf("unreadable %+v, compared from %d", rep.Unreadable, rep.StartA)
	}
}

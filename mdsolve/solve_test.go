package mdsolve

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
	"holmes/mdraid"
)

// solveFixture is a solve entry of the md lab manifest: an array made by
// the real kernel, filled (sector text, LVM, ext), then re-created by a
// second mdadm --create in another order, chunk and data offset.
type solveFixture struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Disks       []string `json:"disks"`
	ArraySize   int64    `json:"array_size"`
	ArraySHA256 string   `json:"array_sha256"`
	Original    struct {
		Level      string    `json:"level"`
		Layout     string    `json:"layout"`
		ChunkBytes int64     `json:"chunk_bytes"`
		DataOffset int64     `json:"data_offset"`
		Metadata   string    `json:"metadata"`
		Order      []*string `json:"order"`
	} `json:"original"`
}

func solveFixtures(t *testing.T) []solveFixture {
	t.Helper()
	var all []solveFixture
	fixture.JSON(t, "testdata/md/manifest.json", &all)
	var out []solveFixture
	for _, e := range all {
		if e.Kind == "solve" {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		t.Fatal("no solve fixtures in testdata/md/manifest.json: the lab's solve set is in the repository")
	}
	return out
}

// openDisks unpacks the fixture's disks and opens them in reverse order, so
// that a solver echoing its input order cannot pass.
func openDisks(t testing.TB, disks []string) (devs []blockdev.Device, byPath map[string]string) {
	t.Helper()
	byPath = map[string]string{}
	for i := len(disks) - 1; i >= 0; i-- {
		path := fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/md", disks[i])))
		d, err := blockdev.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		devs = append(devs, d)
		byPath[path] = disks[i]
	}
	return devs, byPath
}

// TestSolveRecoversOriginalGeometry: on every lab array whose superblocks
// were overwritten by a second mdadm --create, solve finds the original
// level, layout, chunk, data offset and order (mirror halves in either
// order), and the solved geometry assembles to the bytes the kernel read
// from the original array.
func TestSolveRecoversOriginalGeometry(t *testing.T) {
	for _, f := range solveFixtures(t) {
		t.Run(f.Name, func(t *testing.T) {
			// -short: a mirror-pair layout and a parity one.
			fixture.SkipUnlessRepresentative(t, f.Name, "solve-r10-n2", "solve-r5-ls")
			devs, byPath := openDisks(t, f.Disks)
			res, err := Solve(devs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The beam search that takes over past seven free members must
			// find the same assembly (checked where orders are many).
			if len(f.Disks) <= 6 {
				beam, err := Solve(devs, Options{ExhaustiveOrders: 1})
				if err != nil {
					t.Fatal(err)
				}
				if beam.Geometry() != res.Geometry() || !sameOrder(beam.Order, res.Order, mirrorWidth(res.Geometry())) {
					t.Errorf("beam search found %+v %v, exhaustive search %+v %v", beam.Geometry(), beam.Order, res.Geometry(), res.Order)
				}
			}
			want := f.Original
			got := make([]string, len(res.Order))
			for i, p := range res.Order {
				got[i] = byPath[p]
			}
			truth := make([]string, len(want.Order))
			for i, p := range want.Order {
				if p != nil {
					truth[i] = *p
				}
			}
			g := res.Geometry()
			if g.Level != want.Level || g.DataOffset != want.DataOffset ||
				(want.Level != "raid1" && g.ChunkBytes != want.ChunkBytes) ||
				(want.Layout != "" && g.Layout != want.Layout) {
				t.Fatalf("solved %s %s chunk %d offset %d, the original was %s %s chunk %d offset %d\nevidence: %s",
					g.Level, g.Layout, g.ChunkBytes, g.DataOffset, want.Level, want.Layout, want.ChunkBytes, want.DataOffset,
					strings.Join(res.Evidence, "\n  "))
			}
			if !sameOrder(got, truth, mirrorWidth(g)) {
				t.Fatalf("solved order %v, the original was %v", got, truth)
			}
			if !strings.Contains(res.MdadmCreate, "--assume-clean --readonly") || !strings.Contains(res.MdadmCreate, "--level="+want.Level) {
				t.Errorf("mdadm line %q", res.MdadmCreate)
			}
			if f.ArraySHA256 != "" {
				checkArraySHA(t, g, devs, res, f)
			}
			checkVerified(t, f.Name, g, res)
			// The installer's superblocks are reported as contradicting the data.
			if len(res.Superblocks) < len(f.Disks) {
				t.Errorf("superblock report has %d lines for %d disks: %q", len(res.Superblocks), len(f.Disks), res.Superblocks)
			}
			for _, line := range res.Superblocks {
				if !strings.Contains(line, "contradicts the data") {
					t.Errorf("the re-created superblock is not called out: %s", line)
				}
			}
			t.Logf("%s: confidence %.3f over %d candidates", f.Name, res.Confidence, res.Searched)
		})
	}
}

// mirrorWidth is how many consecutive roles hold copies of the same data
// (their order does not matter).
func mirrorWidth(g mdraid.Geometry) int {
	switch {
	case g.Level == "raid1":
		return g.RaidDisks
	case g.Level == "raid10" && strings.HasPrefix(g.Layout, "n") && len(g.Layout) == 2:
		return int(g.Layout[1] - '0')
	}
	return 1
}

func sameOrder(got, want []string, width int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := 0; i < len(got); i += width {
		a := slices.Clone(got[i:min(i+width, len(got))])
		b := slices.Clone(want[i:min(i+width, len(want))])
		sort.Strings(a)
		sort.Strings(b)
		if !slices.Equal(a, b) {
			return false
		}
	}
	return true
}

// checkArraySHA assembles the solved geometry and hashes as many bytes as
// the original array had.
func checkArraySHA(t *testing.T, g mdraid.Geometry, devs []blockdev.Device, res *Result, f solveFixture) {
	t.Helper()
	byName := map[string]blockdev.Device{}
	for _, d := range devs {
		byName[d.Name()] = d
	}
	members := make([]blockdev.Device, len(res.Order))
	for i, n := range res.Order {
		members[i] = byName[n]
	}
	arr, err := mdraid.Open(g, members, f.Name)
	if err != nil {
		t.Fatal(err)
	}
	if arr.Size() < f.ArraySize {
		t.Fatalf("solved array holds %d bytes, the original %d", arr.Size(), f.ArraySize)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(arr, 0, f.ArraySize)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != f.ArraySHA256 {
		t.Fatalf("solved geometry reads sha256 %s, the original array read %s", got, f.ArraySHA256)
	}
}

// BenchmarkSolveBigRaid10 solves the lab's 10-member raid10 (100 MiB
// members): the time the issue asks to keep to seconds.
func BenchmarkSolveBigRaid10(b *testing.B) {
	var all []solveFixture
	fixture.JSON(b, "testdata/md/manifest.json", &all)
	for _, f := range all {
		if f.Kind != "solve" || len(f.Disks) < 10 {
			continue
		}
		devs, _ := openDisks(b, f.Disks)
		b.ResetTimer()
		for range b.N {
			if _, err := Solve(devs, Options{}); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.Skip("no 10-member solve fixture in the manifest")
}

// checkVerified reads the record md-solve-verify.sh made in the lab: the
// mdadm --create line solve printed for fresh copies of the disks (named
// d0.img, ...) was run by the real mdadm and kernel, and e2fsck -fn passed
// on every filesystem of the array. The line solve prints now must be the
// one that was verified.
func checkVerified(t *testing.T, name string, g mdraid.Geometry, res *Result) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixture.RepoRoot(t), "testdata/mdsolve/verify", name+".txt"))
	if err != nil {
		t.Fatalf("no lab verification of the mdadm line (run testdata/lab/md-solve-verify.sh %s): %v", name, err)
	}
	text := string(raw)
	base := make([]string, len(res.Order))
	for i, p := range res.Order {
		base[i] = filepath.Base(p)
	}
	// Mirror halves may come in either order: compare the options exactly,
	// the members group by group.
	today := strings.Fields(MdadmCreate("/dev/md0", g, res.Metadata, base))
	var verified []string
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "holmes: "); ok {
			verified = strings.Fields(rest)
		}
	}
	opts := len(today) - len(base)
	if len(verified) != len(today) || !slices.Equal(verified[:opts], today[:opts]) || !sameOrder(verified[opts:], today[opts:], mirrorWidth(g)) {
		t.Errorf("the verified mdadm line differs from today's %q:\n%s", strings.Join(today, " "), text)
	}
	checks, failed := strings.Count(text, "== e2fsck -fn"), strings.Count(text, "\nexit ")-strings.Count(text, "\nexit 0\n")
	if checks == 0 || failed != 0 || !strings.Contains(text, "started") {
		t.Errorf("lab verification of %s: %d e2fsck runs, %d failed:\n%s", name, checks, failed, text)
	}
}

// TestSolveDegraded: with the member holding the array's start missing (a
// dead disk), solve still finds the geometry and places "missing" in its
// role, reading through parity or the surviving copy.
func TestSolveDegraded(t *testing.T) {
	for _, f := range solveFixtures(t) {
		t.Run(f.Name, func(t *testing.T) {
			if f.Original.Level == "raid0" || f.Original.Level == "raid1" || len(f.Disks) > 6 {
				t.Skip("no redundancy to lose, or large (the test budget)")
			}
			fixture.SkipUnlessRepresentative(t, f.Name, "solve-r5-ls")
			lost := *f.Original.Order[0]
			var kept []string
			for _, d := range f.Disks {
				if d != lost {
					kept = append(kept, d)
				}
			}
			devs, byPath := openDisks(t, kept)
			res, err := Solve(devs, Options{RaidDisks: len(f.Disks)})
			if err != nil {
				t.Fatal(err)
			}
			truth := make([]string, len(f.Original.Order))
			for i, p := range f.Original.Order {
				truth[i] = *p
				if *p == lost {
					truth[i] = "missing"
				}
			}
			got := make([]string, len(res.Order))
			for i, p := range res.Order {
				got[i] = p
				if name, ok := byPath[p]; ok {
					got[i] = name
				}
			}
			g := res.Geometry()
			if g.Level != f.Original.Level || g.DataOffset != f.Original.DataOffset || g.ChunkBytes != f.Original.ChunkBytes ||
				(f.Original.Layout != "" && g.Layout != f.Original.Layout) || !sameOrder(got, truth, mirrorWidth(g)) {
				t.Fatalf("without %s: solved %s %s chunk %d offset %d order %v; the original was %s %s chunk %d offset %d order %v",
					lost, g.Level, g.Layout, g.ChunkBytes, g.DataOffset, got,
					f.Original.Level, f.Original.Layout, f.Original.ChunkBytes, f.Original.DataOffset, truth)
			}
			if !strings.Contains(res.MdadmCreate, " missing") {
				t.Errorf("mdadm line lacks the missing member: %s", res.MdadmCreate)
			}
		})
	}
}

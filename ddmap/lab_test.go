package ddmap

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// TestLabMapfiles: the mapfiles real ddrescue 1.27 wrote in the lab
// (testdata/ddrescue, docs/labs.md) parse, and what they leave unfinished
// is exactly the sectors the device-mapper tables failed (record/holes-SET.txt,
// offsets on the member disk), plus the last MiB of diff/r5-2, imaged with
// -s 15Mi and so never tried. Statuses seen: finished, bad sector (the edges
// of each area), non-scraped (imaged with -n) and non-tried.
func TestLabMapfiles(t *testing.T) {
	disks := map[string]string{"ubda": "r1-0", "ubdb": "r1-1", "ubdc": "r5-0", "ubdd": "r5-1", "ubde": "r5-2"}
	const size = 16 << 20
	seen := map[Status]bool{}
	for _, set := range []string{"diff", "overlap"} {
		want := map[string][]blockdev.Extent{}
		f, err := os.Open(fixture.Repo(t, "testdata/ddrescue/record/holes-"+set+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			w := strings.Fields(sc.Text())
			off, err1 := strconv.ParseInt(w[1], 10, 64)
			n, err2 := strconv.ParseInt(w[2], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("holes-%s.txt: %q", set, sc.Text())
			}
			want[disks[w[0]]] = append(want[disks[w[0]]], blockdev.Extent{Off: off, Len: n})
		}
		f.Close()
		if set == "diff" {
			want["r5-2"] = append(want["r5-2"], blockdev.Extent{Off: 15 << 20, Len: 1 << 20})
		}
		for _, name := range disks {
			path := fixture.Repo(t, filepath.Join("testdata/ddrescue", set, name+".map"))
			m, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.CurrentStatus != '+' || m.CurrentPass != 1 || m.End() != size {
				t.Errorf("%s/%s: status %c pass %d, describes %d bytes", set, name, m.CurrentStatus, m.CurrentPass, m.End())
			}
			var got []blockdev.Extent
			for _, h := range m.Unfinished(size, path) {
				got = append(got, h.Extent)
			}
			for _, b := range m.Blocks {
				seen[b.Status] = true
			}
			merged := blockdev.HolesOf(blockdev.WithHoles(memDevice(size), got, ""))
			w := blockdev.HolesOf(blockdev.WithHoles(memDevice(size), want[name], ""))
			if !slices.Equal(merged, w) {
				t.Errorf("%s/%s: unfinished %v, the device-mapper table failed %v", set, name, merged, w)
			}
		}
	}
	for _, s := range []Status{Finished, BadSector, NonScraped, NonTried} {
		if !seen[s] {
			t.Errorf("no lab mapfile has a %s block", s)
		}
	}
}

// memDevice is a device of n bytes, for the arithmetic of holes.
type memDevice int64

func (m memDevice) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }
func (m memDevice) Size() int64                             { return int64(m) }
func (m memDevice) Name() string                            { return "mem" }
func (m memDevice) Close() error                            { return nil }

// TestLabMapfilesAsDdrescuelog: the sectors holmes takes as not finished in
// each lab mapfile are the ones GNU ddrescuelog lists as non-tried,
// non-trimmed, non-scraped or bad (ddrescuelog -b 512 -l '?*/-').
func TestLabMapfilesAsDdrescuelog(t *testing.T) {
	fixture.SkipComparisonInShort(t, "ddrescuelog")
	tool, err := exec.LookPath("ddrescuelog")
	if err != nil {
		t.Skip("ddrescuelog (Debian gddrescue) is not installed")
	}
	paths, _ := filepath.Glob(fixture.Repo(t, "testdata/ddrescue") + "/*/*.map")
	if len(paths) != 10 {
		t.Fatalf("%d lab mapfiles, want 10", len(paths))
	}
	for _, path := range paths {
		out, err := exec.Command(tool, "-b", "512", "-l?*/-", path).Output()
		if err != nil {
			t.Fatalf("ddrescuelog %s: %v", path, err)
		}
		m, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var mine []string
		for _, h := range m.Unfinished(m.End(), path) {
			for s := h.Off / 512; s < h.End()/512; s++ {
				mine = append(mine, strconv.FormatInt(s, 10))
			}
		}
		if got := strings.Fields(string(out)); !slices.Equal(mine, got) {
			t.Errorf("%s: %d sectors not finished, ddrescuelog lists %d", path, len(mine), len(got))
		}
	}
}

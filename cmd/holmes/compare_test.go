package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// pairsDisk unpacks disk N of the md lab's pairs fixture: ten disks, a raid10
// n2 and a raid1 whose superblocks were re-created in another order, halves
// written behind their partner's back, and two disks in no pair.
func pairsDisk(t *testing.T, n int) string {
	t.Helper()
	return fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/md/pairs", "d"+string(rune('0'+n))+".img.xz")))
}

type compareJSON struct {
	A, B       string
	Compared   int64  `json:"compared_bytes"`
	FirstDiff  *int64 `json:"first_diff"`
	DiffBytes  int64  `json:"diff_bytes"`
	DiffBlocks int64  `json:"diff_blocks"`
	Regions    []struct{ Start, End int64 }
	Excluded   []struct {
		Start, End int64
		Why        string
	}
	Notes         []string
	StartA        int64 `json:"start_a"`
	ComparedPiece *int  `json:"compared_pieces"`
}

func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	stdout, stderr, code := holmes(t, append(args, "--json")...)
	if code != 0 || stderr != "" {
		t.Fatalf("holmes %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
}

// TestCompareCLI checks the docs/cli.md JSON against what the lab recorded with
// cmp -l -i 1048576 -n 7340032 d3 d0 | wc -l (528 bytes, first at 1056778).
func TestCompareCLI(t *testing.T) {
	t.Parallel()
	d0, d3 := pairsDisk(t, 0), pairsDisk(t, 3)
	var got compareJSON
	runJSON(t, &got, "compare", d3, d0)
	if got.A != d3 || got.B != d0 || got.StartA != 1<<20 || got.Compared != 7340032 || got.FirstDiff == nil ||
		*got.FirstDiff != 1056778 || got.DiffBytes != 528 || got.DiffBlocks == 0 || len(got.Regions) == 0 {
		t.Fatalf("compare: %+v", got)
	}
	// The data area runs to the end of the disk: only the front is left out.
	if len(got.Excluded) != 1 || !strings.Contains(got.Excluded[0].Why, "md 1.2") || got.Excluded[0].End != 1<<20 {
		t.Errorf("excluded %+v, want the md 1.2 metadata before 1 MiB", got.Excluded)
	}

	var raw compareJSON
	runJSON(t, &raw, "compare", "--raw", d3, d0)
	if raw.Compared != 8<<20 || len(raw.Excluded) != 0 || raw.DiffBytes <= got.DiffBytes || *raw.FirstDiff >= 1<<20 {
		t.Errorf("--raw: %+v", raw)
	}
	var win compareJSON
	runJSON(t, &win, "compare", "--offset", "1056778", "--length", "1", d3, d0)
	if win.Compared != 1 || win.DiffBytes != 1 || *win.FirstDiff != 1056778 {
		t.Errorf("--offset/--length: %+v", win)
	}

	stdout, _, code := holmes(t, "compare", d3, d0)
	if code != 0 || !strings.Contains(stdout, "first diff : 1056778 (cmp: byte 1056779)") ||
		!strings.Contains(stdout, "excluded: md 1.2 metadata") {
		t.Errorf("human output:\n%s", stdout)
	}
}

func TestCompareCLIErrors(t *testing.T) {
	t.Parallel()
	d0 := pairsDisk(t, 0)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"compare", d0}, 2, "holmes compare: takes A B (got 1 argument) (usage: holmes compare A B [flags])"},
		{[]string{"compare", "--offset", "x", d0, d0}, 2, "--offset"},
		{[]string{"compare", d0, "/nonexistent/disk.img"}, 1, "/nonexistent/disk.img"},
		{[]string{"compare", "--offset", "9G", "--raw", d0, d0}, 1, "offset 9663676416 is past the end"},
		{[]string{"md", "pairs", d0}, 2, "holmes md pairs: needs at least 2 DEVs"},
		{[]string{"md", "pairs", d0, d0}, 1, "given twice"},
	} {
		_, stderr, code := holmes(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) || strings.Count(stderr, "\n") > 1 {
			t.Errorf("holmes %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

// TestMdPairsCLI wants exactly the lab's true pairs, whatever order the
// disks are given in.
func TestMdPairsCLI(t *testing.T) {
	t.Parallel()
	var disks []string
	for _, n := range []int{9, 2, 7, 0, 5, 8, 3, 6, 1, 4} {
		disks = append(disks, pairsDisk(t, n))
	}
	var got struct {
		Pairs []struct {
			Members      []string
			FirstDiff    *int64  `json:"first_diff"`
			DiffBytes    int64   `json:"diff_bytes"`
			SameFraction float64 `json:"same_fraction"`
			Confidence   string
		}
		Unpaired []string
	}
	runJSON(t, &got, append([]string{"md", "pairs"}, disks...)...)
	want := map[string]int64{ // pair (sorted disk numbers) -> recorded cmp diff bytes
		"0+3": 528, "1+5": 1760, "2+4": 0, "6+7": -1, // 6+7: raid1 0.90, checked below
	}
	for _, p := range got.Pairs {
		ids := []string{diskID(p.Members[0]), diskID(p.Members[1])}
		slices.Sort(ids)
		key := strings.Join(ids, "+")
		diff, ok := want[key]
		if !ok {
			t.Errorf("false pair %s", key)
			continue
		}
		delete(want, key)
		if diff >= 0 && p.DiffBytes != diff || p.SameFraction < 0.9 || p.Confidence != "high" {
			t.Errorf("pair %s: %+v", key, p)
		}
	}
	if len(want) > 0 {
		t.Errorf("pairs not found: %v", want)
	}
	var unpaired []string
	for _, u := range got.Unpaired {
		unpaired = append(unpaired, diskID(u))
	}
	slices.Sort(unpaired)
	if !slices.Equal(unpaired, []string{"8", "9"}) {
		t.Errorf("unpaired %v, want d8 d9", unpaired)
	}
}

// TestMdPairsRawCLI: with --raw the superblocks count too, so the pair
// whose data areas are identical differs in its md metadata.
func TestMdPairsRawCLI(t *testing.T) {
	t.Parallel()
	var got struct {
		Pairs []struct {
			DiffBytes int64 `json:"diff_bytes"`
			FirstDiff int64 `json:"first_diff"`
		}
	}
	runJSON(t, &got, "md", "pairs", "--raw", pairsDisk(t, 2), pairsDisk(t, 4), pairsDisk(t, 9))
	if len(got.Pairs) != 1 || got.Pairs[0].DiffBytes == 0 || got.Pairs[0].FirstDiff >= 1<<20 {
		t.Fatalf("md pairs --raw: %+v", got)
	}
}

func diskID(path string) string {
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "d"), ".img")
}

// TestHashCLI verifies a copy by manifests: the manifest of d0 against d2
// (another disk) and against itself, as after a dd | ssh copy.
func TestHashCLI(t *testing.T) {
	t.Parallel()
	d0, d2 := pairsDisk(t, 0), pairsDisk(t, 2)
	dir := t.TempDir()
	m0 := filepath.Join(dir, "d0.manifest")
	if _, stderr, code := holmes(t, "hash", "--block-size", "1M", "--out", m0, d0); code != 0 {
		t.Fatalf("hash: exit %d: %s", code, stderr)
	}
	text, _ := os.ReadFile(m0)
	if !strings.HasPrefix(string(text), "holmes-hash-manifest 1\ndevice: "+d0+"\nsize: 8388608\nblock-size: 1048576\nalgorithm: blake3\npieces: 8\n") {
		t.Fatalf("manifest:\n%s", text)
	}
	var same, other, both struct {
		Differing []struct{ Offset int64 } `json:"differing_pieces"`
		Compared  int                      `json:"compared_pieces"`
	}
	runJSON(t, &same, "compare", m0, d0)
	runJSON(t, &other, "compare", m0, d2)
	if same.Compared != 8 || len(same.Differing) != 0 || len(other.Differing) == 0 {
		t.Errorf("manifest against device: same %+v, other %+v", same, other)
	}
	m2 := filepath.Join(dir, "d2.manifest")
	if _, stderr, code := holmes(t, "hash", "--block-size", "1M", "--out", m2, d2); code != 0 {
		t.Fatalf("hash: exit %d: %s", code, stderr)
	}
	runJSON(t, &both, "compare", m0, m2)
	if !slices.Equal(both.Differing, other.Differing) {
		t.Errorf("manifest against manifest %+v, against device %+v", both.Differing, other.Differing)
	}

	// --out never replaces a file that is not a manifest (an image, say).
	victim := filepath.Join(dir, "disk.img")
	os.WriteFile(victim, []byte("evidence"), 0o644)
	if _, stderr, code := holmes(t, "hash", "--out", victim, d0); code != 1 || !strings.Contains(stderr, "not a holmes hash manifest") {
		t.Errorf("hash --out over an image: exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "evidence" {
		t.Errorf("hash --out replaced a file that was not a manifest")
	}
}

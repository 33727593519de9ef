package compare

import (
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// labEntry is the part of a testdata/md/manifest.json entry these tests use.
type labEntry struct {
	Name     string      `json:"name"`
	Kind     string      `json:"kind"`
	Level    string      `json:"level"`
	Layout   string      `json:"layout"`
	Members  []*string   `json:"members"`
	Pairs    [][2]string `json:"pairs"`
	Unpaired []string    `json:"unpaired"`
	Cmp      []struct {
		A, B          string
		Start, Length int64
		FirstDiff     *int64 `json:"first_diff"`
		DiffBytes     int64  `json:"diff_bytes"`
	} `json:"cmp"`
}

func labManifest(t *testing.T) []labEntry {
	t.Helper()
	var entries []labEntry
	fixture.JSON(t, "testdata/md/manifest.json", &entries)
	return entries
}

// labDev opens a manifest DEV ("NAME/d0.img.xz" with an optional ":pN")
// and returns the device and the path its name is built from.
func labDev(t *testing.T, dev string) (blockdev.Device, string) {
	t.Helper()
	path, suffix := dev, ""
	if i := strings.LastIndex(dev, ".img.xz"); i >= 0 {
		path, suffix = dev[:i+len(".img.xz")], dev[i+len(".img.xz"):]
	}
	p := fixture.Unpack(t, fixture.Repo(t, "testdata/md/"+path)) + suffix
	d, err := blockdev.Open(p, nil)
	if err != nil {
		t.Fatalf("%s: %v", dev, err) // the fixtures are in the repository: a missing one is a failure
	}
	t.Cleanup(func() { d.Close() })
	return d, p
}

// mirrorTruth gives the true pairs of an examine fixture whose members are
// mirrors by construction: a two-disk raid1, or raid10 near-2 with an even
// number of disks (roles 0+1, 2+3, ...).
func mirrorTruth(e labEntry) [][2]string {
	if e.Kind != "examine" || slices.Contains(e.Members, nil) || len(e.Members)%2 != 0 ||
		!(e.Level == "raid1" && len(e.Members) == 2 || e.Level == "raid10" && e.Layout == "n2") {
		return nil
	}
	var pairs [][2]string
	for i := 0; i+1 < len(e.Members); i += 2 {
		pairs = append(pairs, [2]string{*e.Members[i], *e.Members[i+1]})
	}
	return pairs
}

// TestLabPairs runs Pairs on every lab pairs fixture, and on all mirror
// halves of the examine fixtures at once plus a raid5 member that belongs
// to no mirror, and wants exactly the true pairs.
func TestLabPairs(t *testing.T) {
	entries := labManifest(t)
	var pool [][2]string
	var extra []string
	pairsFixtures := 0
	for _, e := range entries {
		if e.Kind == "pairs" {
			pairsFixtures++
			t.Run(e.Name, func(t *testing.T) { checkPairs(t, e.Pairs, e.Unpaired) })
		}
		pool = append(pool, mirrorTruth(e)...)
		if e.Name == "r5-ls-v12" {
			extra = append(extra, *e.Members[0])
		}
	}
	if pairsFixtures == 0 || len(pool) == 0 || len(extra) == 0 {
		t.Fatalf("the md lab manifest lost its fixtures: %d pairs fixtures, %d mirror pairs among the examine ones, raid5 member %v",
			pairsFixtures, len(pool), extra)
	}
	t.Run("examine mirrors", func(t *testing.T) { checkPairs(t, pool, extra) })
}

func checkPairs(t *testing.T, want [][2]string, unpaired []string) {
	var devs []blockdev.Device
	byPath := map[string]string{} // device name -> manifest DEV
	for _, dev := range append(flatten(want), unpaired...) {
		d, p := labDev(t, dev)
		devs = append(devs, d)
		byPath[p] = dev
	}
	// Present the devices in an order unrelated to the pairs.
	slices.Reverse(devs)
	rep, err := Pairs(devs, PairOptions{Locate: MD})
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]Pair{}
	for _, p := range rep.Pairs {
		a, b := byPath[p.Members[0]], byPath[p.Members[1]]
		if a > b {
			a, b = b, a
		}
		got[[2]string{a, b}] = p
	}
	for _, w := range want {
		if w[0] > w[1] {
			w[0], w[1] = w[1], w[0]
		}
		p, ok := got[w]
		if !ok {
			t.Errorf("pair %v not found; got %+v", w, rep.Pairs)
			continue
		}
		if p.Confidence == "low" {
			t.Errorf("pair %v: confidence low: %v", w, p.Reasons)
		}
		delete(got, w)
	}
	for w := range got {
		t.Errorf("false pair %v", w)
	}
	var gotUnpaired []string
	for _, u := range rep.Unpaired {
		gotUnpaired = append(gotUnpaired, byPath[u])
	}
	slices.Sort(gotUnpaired)
	unpaired = slices.Clone(unpaired)
	slices.Sort(unpaired)
	if !slices.Equal(gotUnpaired, unpaired) {
		t.Errorf("unpaired %v, want %v", gotUnpaired, unpaired)
	}
}

func flatten(pairs [][2]string) []string {
	var out []string
	for _, p := range pairs {
		out = append(out, p[0], p[1])
	}
	return out
}

// TestLabCmp checks compare against the cmp counts the lab recorded, and
// against a live cmp over each true pair's md data area: the superblocks
// of two mirror halves differ (device UUID, role), their data must not.
func TestLabCmp(t *testing.T) {
	recorded, live := 0, 0
	defer func() {
		if recorded == 0 || live == 0 {
			t.Errorf("the md lab manifest lost its fixtures: %d recorded cmp runs, %d mirror pairs", recorded, live)
		}
	}()
	for _, e := range labManifest(t) {
		recorded += len(e.Cmp)
		live += len(mirrorTruth(e))
		for _, c := range e.Cmp {
			t.Run(e.Name+"/recorded", func(t *testing.T) {
				a, pa := labDev(t, c.A)
				b, pb := labDev(t, c.B)
				// The md data area holmes finds is the range the lab compared.
				rep, err := Devices(a, b, Request{Limit: -1, Locate: MD})
				if err != nil {
					t.Fatal(err)
				}
				if rep.StartA != c.Start || rep.StartB != c.Start || rep.Compared != c.Length {
					t.Errorf("%s vs %s: compared %d+%d (B from %d), the lab's data area is %d+%d",
						c.A, c.B, rep.StartA, rep.Compared, rep.StartB, c.Start, c.Length)
				}
				if ptrOr(rep.FirstDiff, -1) != ptrOr(c.FirstDiff, -1) || rep.DiffBytes != c.DiffBytes {
					t.Errorf("%s vs %s: first %d, %d bytes; recorded cmp: first %d, %d bytes",
						c.A, c.B, ptrOr(rep.FirstDiff, -1), rep.DiffBytes, ptrOr(c.FirstDiff, -1), c.DiffBytes)
				}
				checkAgainstCmp(t, pa, pb, rep)
			})
		}
		for _, pair := range mirrorTruth(e) {
			t.Run(e.Name+"/live", func(t *testing.T) {
				a, pa := labDev(t, pair[0])
				b, pb := labDev(t, pair[1])
				rep, err := Devices(a, b, Request{Limit: -1, Locate: MD})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Excluded) == 0 || !strings.HasPrefix(rep.Excluded[0].Why, "md ") {
					t.Errorf("no md metadata excluded: %+v", rep.Excluded)
				}
				checkAgainstCmp(t, pa, pb, rep)
				raw, err := Devices(a, b, Request{Limit: -1, Raw: true})
				if err != nil {
					t.Fatal(err)
				}
				if raw.DiffBytes == 0 {
					t.Errorf("raw compare of two members found their superblocks identical")
				}
				checkAgainstCmp(t, pa, pb, raw)
			})
		}
	}
}

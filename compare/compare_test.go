package compare

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"holmes/blockdev"
)

// memDev is an in-memory device for unit tests of the arithmetic; tests
// against real images and the real cmp live in cmp_test.go.
type memDev struct {
	*bytes.Reader
	name string
}

func newMemDev(name string, b []byte) memDev { return memDev{bytes.NewReader(b), name} }
func (m memDev) Name() string                { return m.name }
func (m memDev) Close() error                { return nil }

var _ blockdev.Device = memDev{}

// naive is the obviously right answer the fast paths must agree with.
func naive(a, b []byte) (first int64, count int64) {
	first = -1
	for i := range a {
		if a[i] != b[i] {
			if first < 0 {
				first = int64(i)
			}
			count++
		}
	}
	return first, count
}

func TestNonZeroLanes(t *testing.T) {
	for _, c := range []struct {
		x    uint64
		want int
	}{{0, 0}, {1, 1}, {0x80, 1}, {0x8000000000000000, 1}, {0x0101010101010101, 8}, {0xff00ff00ff00ff00, 4}, {0x7f00000000000080, 2}} {
		if got := sumLanes(nonZeroLanes(c.x)); got != c.want {
			t.Errorf("nonZeroLanes(%#x) sums to %d, want %d", c.x, got, c.want)
		}
	}
}

func TestDiffBytesMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 300; trial++ {
		n := rng.IntN(1000)
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(rng.IntN(256))
		}
		b := bytes.Clone(a)
		for k := rng.IntN(20); k > 0 && n > 0; k-- {
			b[rng.IntN(n)] ^= byte(1 << rng.IntN(8))
		}
		if trial%10 == 0 { // every byte differs: the lane tallies at their fullest
			for i := range b {
				b[i] = ^a[i]
			}
		}
		first, count := naive(a, b)
		d := diffBytes(a, b)
		if int64(d.first) != first || int64(d.count) != count {
			t.Fatalf("trial %d: diffBytes = %+v, want first %d count %d", trial, d, first, count)
		}
	}
}

func TestRangesMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	size := 300_000
	a := make([]byte, size)
	for i := range a {
		a[i] = byte(rng.IntN(256))
	}
	b := bytes.Clone(a)
	for k := 0; k < 500; k++ {
		b[rng.IntN(size)]++
	}
	// A dense run across a chunk boundary, and a difference in the last byte.
	for i := 65536 - 100; i < 65536+5000; i++ {
		b[i] ^= 0x5a
	}
	b[size-1]++
	for _, c := range []struct{ start, length int64 }{{0, int64(size)}, {4097, 100_000}, {70_000, 1}, {0, 0}} {
		first, count := naive(a[c.start:c.start+c.length], b[c.start:c.start+c.length])
		res, err := Ranges(newMemDev("a", a), newMemDev("b", b), Options{StartA: c.start, StartB: c.start, Length: c.length, ChunkSize: 16384, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		if first >= 0 {
			first += c.start
		}
		if got := ptrOr(res.FirstDiff, -1); got != first || res.DiffBytes != count {
			t.Errorf("%+v: first %d count %d, want %d %d", c, got, res.DiffBytes, first, count)
		}
		// Blocks are aligned in A: recount them that way.
		wantBlocks := map[int64]bool{}
		for i := c.start; i < c.start+c.length; i++ {
			if a[i] != b[i] {
				wantBlocks[i/BlockSize] = true
			}
		}
		if res.DiffBlocks != int64(len(wantBlocks)) {
			t.Errorf("%+v: %d blocks, want %d", c, res.DiffBlocks, len(wantBlocks))
		}
		var covered int64
		for _, r := range res.Regions {
			for blk := r.Start / BlockSize; blk*BlockSize < r.End; blk++ {
				if !wantBlocks[blk] {
					t.Errorf("%+v: region %+v covers identical block %d", c, r, blk)
				}
				covered++
			}
		}
		if covered != res.DiffBlocks {
			t.Errorf("%+v: regions cover %d blocks, want %d", c, covered, res.DiffBlocks)
		}
	}
}

func TestRegionsBounded(t *testing.T) {
	a := make([]byte, 64*BlockSize)
	b := bytes.Clone(a)
	for blk := 0; blk < 64; blk += 2 { // every other block differs: 32 regions
		b[blk*BlockSize+7] = 1
	}
	res, err := Ranges(newMemDev("a", a), newMemDev("b", b), Options{Length: int64(len(a)), MaxRegions: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Regions) > 5 || res.RegionGap == 0 || res.DiffBlocks != 32 || res.DiffBytes != 32 {
		t.Fatalf("got %d regions, gap %d, %d blocks, %d bytes", len(res.Regions), res.RegionGap, res.DiffBlocks, res.DiffBytes)
	}
	if res.Regions[0].Start != 0 || res.Regions[len(res.Regions)-1].End != 63*BlockSize {
		t.Fatalf("regions %+v do not span the differences", res.Regions)
	}
}

func TestRangesOutsideDevice(t *testing.T) {
	a := newMemDev("a.img", make([]byte, 100))
	if _, err := Ranges(a, a, Options{StartA: 50, Length: 60}); err == nil {
		t.Fatal("range past the end accepted")
	}
}

func ptrOr(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

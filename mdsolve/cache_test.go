package mdsolve

import (
	"bytes"
	"math/rand"
	"sync"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// TestCachedDeviceParallelReads reads a lab member through the cache from
// several goroutines at once, as io.ReaderAt allows: every read must give
// the member's bytes (run with -race to catch unguarded state).
func TestCachedDeviceParallelReads(t *testing.T) {
	d, err := blockdev.OpenFile(fixture.Unpack(t, fixture.Repo(t, "testdata/md/solve-r1/d0.img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := newCachedDevice(d)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewSource(int64(g)))
			got, want := make([]byte, 6000), make([]byte, 6000)
			for range 500 {
				off := rng.Int63n(4<<20) + 1<<20 // a few MiB of data, read again and again
				n1, err1 := c.ReadAt(got, off)
				n2, err2 := d.ReadAt(want, off)
				if n1 != n2 || (err1 == nil) != (err2 == nil) || !bytes.Equal(got[:n1], want[:n2]) {
					errs <- "cached read differs from the member's bytes"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

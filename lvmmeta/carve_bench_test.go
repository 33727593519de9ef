package lvmmeta

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// BenchmarkCarveVsStrings carves a page-cached 256 MiB image (random bytes
// with the lab's PV member in the middle) and, in the same run, times the
// manual fallback `strings -n 8 IMG | grep -c seqno` on it, reporting both
// speeds and their ratio.
//
//	go test -run '^$' -bench CarveVsStrings ./lvmmeta
func BenchmarkCarveVsStrings(b *testing.B) {
	img := filepath.Join(b.TempDir(), "bench.img")
	f, err := os.Create(img)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.NewChaCha8([32]byte{})
	if _, err := io.CopyN(w, rng, 116<<20); err != nil {
		b.Fatal(err)
	}
	pv, err := os.Open(fixture.Unpack(b, fixture.Repo(b, "testdata/lvm/disk-a.img.xz")))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(w, pv)
	pv.Close()
	st, _ := f.Stat()
	if _, err := io.CopyN(w, rng, 256<<20-st.Size()-int64(w.Buffered())); err != nil {
		b.Fatal(err)
	}
	w.Flush()
	f.Close()
	d, err := blockdev.OpenFile(img)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	io.Copy(io.Discard, io.NewSectionReader(d, 0, d.Size())) // into the page cache

	b.SetBytes(d.Size())
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c := NewCarver()
		if err := c.Scan(d, d.Size(), img); err != nil {
			b.Fatal(err)
		}
		if r := c.Results(); len(r) == 0 || r[0].Seqno != 45 {
			b.Fatal("seqno 45 not carved")
		}
	}
	holmes := time.Since(start) / time.Duration(b.N)
	b.StopTimer()

	if _, err := exec.LookPath("strings"); err != nil {
		b.Log("strings not installed: no comparison")
		return
	}
	t0 := time.Now()
	out, err := exec.Command("sh", "-c", "strings -n 8 "+img+" | grep -c seqno").Output()
	if err != nil {
		b.Fatalf("strings | grep: %v", err)
	}
	manual := time.Since(t0)
	mb := float64(d.Size()) / 1e6
	b.ReportMetric(mb/holmes.Seconds(), "holmes-MB/s")
	b.ReportMetric(mb/manual.Seconds(), "strings|grep-MB/s")
	b.ReportMetric(manual.Seconds()/holmes.Seconds(), "x-faster")
	b.Logf("strings -n 8 | grep -c seqno counted %s lines", string(out[:len(out)-1]))
}

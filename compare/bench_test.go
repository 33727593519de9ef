package compare

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"holmes/internal/fixture"
)

// BenchmarkVersusCmp is the speed claim: GNU cmp and `cmp -l | wc -l`
// against the holmes binary, as processes, on the same page-cached 1 GiB
// images in one run. It prints the ratios and holmes' peak resident memory.
//
//	go test ./compare -run '^$' -bench VersusCmp -benchtime 1x
//
// HOLMES_BENCH_SIZE (bytes, K/M/G suffixes not accepted) shrinks the images.
func BenchmarkVersusCmp(b *testing.B) {
	for _, tool := range []string{"cmp", "sh", "wc", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s not installed", tool)
		}
	}
	size := int64(1 << 30)
	if s := os.Getenv("HOLMES_BENCH_SIZE"); s != "" {
		size, _ = strconv.ParseInt(s, 10, 64)
	}
	dir := b.TempDir()
	holmes := fixture.BuildHolmes(b)
	a, same := filepath.Join(dir, "a.img"), filepath.Join(dir, "same.img")
	few, many := filepath.Join(dir, "few.img"), filepath.Join(dir, "many.img")
	writeBenchImages(b, size, a, same, few, many)

	report := func(label, metric string, theirs, ours time.Duration, ourRSS int64, target float64) {
		ratio := theirs.Seconds() / ours.Seconds()
		mbps := func(d time.Duration) float64 { return float64(size) / d.Seconds() / 1e6 }
		fmt.Printf("%-40s %8.0f MB/s   holmes %8.0f MB/s   ratio %5.1fx (target %gx)   holmes max RSS %d MiB\n",
			label, mbps(theirs), mbps(ours), ratio, target, ourRSS>>20)
		b.ReportMetric(ratio, metric)
	}

	// Identical images: a full scan on both sides.
	cmpSame, _, _ := bestOf(b, 3, "cmp", a, same)
	oursSame, rss, _ := bestOf(b, 3, holmes, "compare", "--raw", "--json", a, same)
	report("cmp (identical)", "x-cmp", cmpSame, oursSame, rss, 2)

	// Images differing in 3% of their bytes and in 25%, spread over every block.
	for _, c := range []struct{ label, metric, path string }{
		{"cmp -l | wc -l (3% differ)", "x-cmp-l-wc-3%", few},
		{"cmp -l | wc -l (25% differ)", "x-cmp-l-wc-25%", many},
	} {
		pipeline := fmt.Sprintf("cmp -l %s %s | wc -l", a, c.path)
		theirs, _, out := bestOf(b, 1, "sh", "-c", pipeline)
		ours, rss, js := bestOf(b, 3, holmes, "compare", "--raw", "--json", a, c.path)
		report(c.label, c.metric, theirs, ours, rss, 40)
		// The counts must agree, or the speed means nothing.
		want, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		var got struct {
			DiffBytes int64 `json:"diff_bytes"`
		}
		json.Unmarshal(js, &got)
		if got.DiffBytes != want {
			b.Fatalf("holmes counted %d differing bytes, cmp -l | wc -l %d", got.DiffBytes, want)
		}
		fmt.Printf("  both count %d differing bytes; holmes time differing/identical: %.2f\n", want, ours.Seconds()/oursSame.Seconds())
	}
}

// bestOf runs a command n times and returns its shortest wall time and the
// largest resident set it reached, and the last run's stdout. Exit status 1 (cmp: "differ") is normal.
func bestOf(b *testing.B, n int, name string, args ...string) (best time.Duration, rss int64, stdout []byte) {
	best = time.Duration(1 << 62)
	for range n {
		cmd := exec.Command(name, args...)
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if err != nil && cmd.ProcessState.ExitCode() != 1 {
			b.Fatalf("%s %v: %v", name, args, err)
		}
		best = min(best, took)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = max(rss, int64(ru.Maxrss)*1024)
		}
		stdout = out.Bytes()
	}
	return best, rss, stdout
}

// writeBenchImages writes random data to a, an identical copy, a copy with
// every 33rd byte flipped (3%) and one with every 4th (25%), then reads them
// so that all are in the page cache.
func writeBenchImages(b *testing.B, size int64, a, same, few, many string) {
	rng := rand.NewChaCha8([32]byte{1})
	paths := []string{a, same, few, many}
	every := []int64{0, 0, 33, 4}
	files := make([]*bufio.Writer, len(paths))
	for i, p := range paths {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		files[i] = bufio.NewWriterSize(f, 1<<20)
	}
	buf := make([]byte, 1<<20)
	other := make([]byte, len(buf))
	for off := int64(0); off < size; off += int64(len(buf)) {
		p := buf[:min(int64(len(buf)), size-off)]
		rng.Read(p)
		for i, w := range files {
			q := p
			if every[i] > 0 {
				q = other[:len(p)]
				copy(q, p)
				for j := (every[i] - off%every[i]) % every[i]; j < int64(len(q)); j += every[i] {
					q[j] ^= 0xff
				}
			}
			w.Write(q)
		}
	}
	for _, w := range files {
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	for _, p := range paths {
		f, _ := os.Open(p)
		io.Copy(io.Discard, f)
		f.Close()
	}
}

// BenchmarkDensity shows that the comparison costs the same whatever the
// share of differing bytes: identical, 0.1%, 3%, every byte.
func BenchmarkDensity(b *testing.B) {
	const size = 64 << 20
	a := make([]byte, size)
	rand.NewChaCha8([32]byte{2}).Read(a)
	for _, every := range []int{0, 1000, 33, 1} {
		other := bytes.Clone(a)
		name := "identical"
		if every > 0 {
			name = fmt.Sprintf("1-in-%d", every)
			for i := 0; i < size; i += every {
				other[i]++
			}
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			da, db := newMemDev("a", a), newMemDev("b", other)
			for b.Loop() {
				if _, err := Ranges(da, db, Options{Length: size}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

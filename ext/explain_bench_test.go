package ext

import (
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkExplainVsDebugfs answers 100 random blocks of the ext4 lab image
// with Explain (what each holds, with paths) and, in the same run, with
// what a user would otherwise type: debugfs icheck for the owners, then
// ncheck for their names; it reports both times and their ratio.
//
//	go test -run '^$' -bench ExplainVsDebugfs ./ext
func BenchmarkExplainVsDebugfs(b *testing.B) {
	fs, img := openImage(b, "ext4")
	rng := rand.New(rand.NewPCG(3, 4))
	regions := make([]Region, 100)
	blocks := make([]string, 100)
	for i := range regions {
		n := rng.Uint64N(fs.SB.BlocksCount)
		regions[i] = Region{int64(n) * fs.bs, fs.bs}
		blocks[i] = strconv.FormatUint(n, 10)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := fs.Explain(regions); err != nil {
			b.Fatal(err)
		}
	}
	holmes := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	if _, err := exec.LookPath("debugfs"); err != nil {
		b.Log("debugfs not installed: no comparison")
		return
	}
	t0 := time.Now()
	out, err := exec.Command("debugfs", "-R", "icheck "+strings.Join(blocks, " "), img).Output()
	if err != nil {
		b.Fatal(err)
	}
	inodes := []string{}
	for _, line := range strings.Split(string(out), "\n")[1:] {
		if f := strings.Fields(line); len(f) == 2 && f[1] != "<block" {
			inodes = append(inodes, f[1])
		}
	}
	if len(inodes) > 0 {
		if _, err := exec.Command("debugfs", "-R", "ncheck "+strings.Join(inodes, " "), img).Output(); err != nil {
			b.Fatal(err)
		}
	}
	manual := time.Since(t0)
	b.ReportMetric(holmes.Seconds()*1e3, "holmes-ms")
	b.ReportMetric(manual.Seconds()*1e3, "debugfs-ms")
	b.ReportMetric(manual.Seconds()/holmes.Seconds(), "x-faster")
}

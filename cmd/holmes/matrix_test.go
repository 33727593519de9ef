package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The bad-input matrix (issue 14, docs/hostile-input.md): damaged and
// crafted inputs, all made here from small mke2fs/debugfs images, the lab's
// partition tables and LVM texts, run through every command that reads
// them, each in its own process so that its time and peak memory are
// measured and a Go crash is seen as one. Every run must end with exit 0
// or 1, every stderr line must be a holmes message, and no run may use more
// than matrixMaxRSS or matrixMaxCPU. go test -short runs a few inputs; the
// full suite runs them all. HOLMES_MATRIX_REPORT=FILE writes the table.

const (
	matrixMaxRSS = 256 << 20
	matrixMaxCPU = 10 * time.Second
)

// TestMain lets the test binary stand in for holmes in the matrix's child
// processes. The child reports its own peak RSS (VmHWM) to the file
// HOLMES_RSS_OUT names: the kernel's rusage of a child also counts the
// parent's memory at the fork.
func TestMain(m *testing.M) {
	if os.Getenv("HOLMES_AS_CLI") == "1" {
		code := run(os.Args[1:], os.Stdout, os.Stderr)
		if p := os.Getenv("HOLMES_RSS_OUT"); p != "" {
			if status, err := os.ReadFile("/proc/self/status"); err == nil {
				if m := vmHWM.FindSubmatch(status); m != nil {
					os.WriteFile(p, m[1], 0o644)
				}
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

var vmHWM = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// matrixInput is one bad input and the commands it goes through.
type matrixInput struct {
	name string
	path string
	kind string // disk, smart, vgtext, case (then path is the case file and dev the name)
	dev  string
	huge bool // larger than 1 GiB (sparse): hash, dump and carve, which read every byte, are left out
}

// commandsFor lists the command lines run on in; DEST is replaced by a new
// directory.
func commandsFor(in matrixInput) [][]string {
	switch in.kind {
	case "smart":
		return [][]string{{"smart", "score", in.path}}
	case "vgtext":
		return [][]string{{"lvm", "plan", in.path}, {"lvm", "show", in.path}}
	case "case":
		return [][]string{{"--case", in.path, "ext", "info", in.dev}, {"--case", in.path, "scan", in.dev}, {"--case", in.path, "md", "examine", in.dev},
			{"--case", in.path, "trace", in.dev, "0+64K"}, {"--case", in.path, "plan"}}
	}
	d := in.path
	cmds := [][]string{
		{"scan", d}, {"md", "examine", d}, {"lvm", "scan", d}, {"lvm", "show", d},
		{"ext", "info", d}, {"ext", "ls", "-d", d, "/"}, {"ext", "stat", d, "/"}, {"ext", "find", d, "--lost"},
		{"ext", "orphans", d}, {"ext", "cat", d, "/big"}, {"ext", "extract", d, "/", "DEST"},
		{"trace", d, "0+1M"},
	}
	if !in.huge {
		cmds = append(cmds, []string{"hash", d}, []string{"dump", d}, []string{"lvm", "carve", d})
	}
	return cmds
}

type matrixRun struct {
	input, cmd string
	code       int
	wall, cpu  time.Duration
	rss        int64
	problem    string
}

func TestBadInputMatrix(t *testing.T) {
	inputs := matrixInputs(t)
	if testing.Short() {
		all := inputs
		inputs = nil
		for _, in := range all {
			if in.name == "ext4 directory loop" {
				inputs = append(inputs, in)
			}
		}
	}
	// Two runs at a time: each is measured on its own by the kernel.
	type job struct {
		in   matrixInput
		args []string
	}
	jobs := make(chan job)
	results := make(chan matrixRun)
	for range 2 {
		go func() {
			for j := range jobs {
				results <- runMatrix(t, j.in, j.args)
			}
		}()
	}
	go func() {
		for _, in := range inputs {
			for _, args := range commandsFor(in) {
				jobs <- job{in, args}
			}
		}
		close(jobs)
	}()
	var runs []matrixRun
	for _, in := range inputs {
		for range commandsFor(in) {
			r := <-results
			runs = append(runs, r)
			if r.problem != "" {
				t.Errorf("%s: holmes %s: %s", r.input, r.cmd, r.problem)
			}
		}
	}
	report := matrixReport(inputs, runs)
	t.Log(report)
	if p := os.Getenv("HOLMES_MATRIX_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var stderrLine = regexp.MustCompile(`^holmes: `)

func runMatrix(t *testing.T, in matrixInput, args []string) matrixRun {
	t.Helper()
	args = append([]string(nil), args...)
	for i, a := range args {
		if a == "DEST" {
			args[i] = filepath.Join(t.TempDir(), "out")
		}
	}
	label := strings.ReplaceAll(strings.Join(args, " "), in.path, "IN")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	rssFile := filepath.Join(t.TempDir(), "rss")
	cmd.Env = append(os.Environ(), "HOLMES_AS_CLI=1", "HOLMES_RSS_OUT="+rssFile)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	start := time.Now()
	err := cmd.Run()
	r := matrixRun{input: in.name, cmd: label, wall: time.Since(start), code: cmd.ProcessState.ExitCode()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if kb, err := os.ReadFile(rssFile); err == nil {
		n, _ := strconv.ParseInt(string(kb), 10, 64)
		r.rss = n << 10
	}
	text := strings.TrimSpace(stderr.String())
	switch {
	case ctx.Err() != nil:
		r.problem = "did not finish in 2 minutes"
	case r.code != 0 && r.code != 1:
		r.problem = fmt.Sprintf("exit %d (%v): %.300s", r.code, err, text)
	case r.rss > matrixMaxRSS:
		r.problem = fmt.Sprintf("peak RSS %d MiB", r.rss>>20)
	case r.cpu > matrixMaxCPU:
		r.problem = fmt.Sprintf("%v of CPU", r.cpu)
	}
	if r.problem == "" && text != "" {
		for _, l := range strings.Split(text, "\n") {
			if !stderrLine.MatchString(l) {
				r.problem = fmt.Sprintf("stderr is not holmes messages: %.300s", text)
				break
			}
		}
	}
	return r
}

// matrixReport summarises the runs as docs/hostile-input.md shows them.
func matrixReport(inputs []matrixInput, runs []matrixRun) string {
	var b strings.Builder
	failed := 0
	codes := map[int]int{}
	for _, r := range runs {
		codes[r.code]++
		if r.problem != "" {
			failed++
		}
	}
	fmt.Fprintf(&b, "%d inputs, %d runs: %d exit 0, %d exit 1, %d failed (crash, hang, over a limit)\n", len(inputs), len(runs), codes[0], codes[1], failed)
	top := func(title string, less func(a, b matrixRun) bool, show func(r matrixRun) string) {
		sorted := append([]matrixRun(nil), runs...)
		sort.Slice(sorted, func(i, j int) bool { return less(sorted[i], sorted[j]) })
		fmt.Fprintf(&b, "%s:\n", title)
		for _, r := range sorted[:min(5, len(sorted))] {
			fmt.Fprintf(&b, "  %s  %s: holmes %s (exit %d)\n", show(r), r.input, r.cmd, r.code)
		}
	}
	top("most CPU", func(a, b matrixRun) bool { return a.cpu > b.cpu }, func(r matrixRun) string {
		return fmt.Sprintf("%6.2fs cpu %6.2fs wall", r.cpu.Seconds(), r.wall.Seconds())
	})
	top("largest peak RSS", func(a, b matrixRun) bool { return a.rss > b.rss }, func(r matrixRun) string {
		return fmt.Sprintf("%4d MiB", r.rss>>20)
	})
	return b.String()
}

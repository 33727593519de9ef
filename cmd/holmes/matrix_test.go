package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
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

	"holmes/internal/fixture"
	"holmes/lvmmeta"
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
		return [][]string{{"--case", in.path, "ext", "info", in.dev}, {"--case", in.path, "scan", in.dev}, {"--case", in.path, "md", "examine", in.dev}}
	}
	d := in.path
	cmds := [][]string{
		{"scan", d}, {"md", "examine", d}, {"lvm", "scan", d}, {"lvm", "show", d},
		{"ext", "info", d}, {"ext", "ls", "-d", d, "/"}, {"ext", "stat", d, "/"}, {"ext", "find", d, "--lost"},
		{"ext", "orphans", d}, {"ext", "cat", d, "/big"}, {"ext", "extract", d, "/", "DEST"},
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
			if strings.HasPrefix(in.name, "ext4 zeroed") || in.name == "ext4 directory loop" || in.name == "ext group count 2^32" {
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

// matrixInputs makes every input of the matrix in a temporary directory.
func matrixInputs(t *testing.T) []matrixInput {
	t.Helper()
	dir := t.TempDir()
	var out []matrixInput
	add := func(name, path string) { out = append(out, matrixInput{name: name, path: path, kind: "disk"}) }
	variant := func(base, name string, change func(b []byte) []byte) string {
		b, err := os.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.NewReplacer(" ", "-", "/", "_").Replace(name)+".img")
		if err := os.WriteFile(p, change(b), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	debugfs := func(img string, cmds ...string) {
		c := exec.Command("debugfs", "-w", "-f", "-", img)
		c.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
		if o, err := c.CombinedOutput(); err != nil {
			t.Fatalf("debugfs: %v %s", err, o)
		}
	}

	// Every small ext image truncated at each metadata boundary of its
	// group 0 and with each of those structures zeroed.
	for _, kind := range []string{"ext4", "ext2", "inline"} {
		base := fixture.SmallExt(t, kind)
		bs, ranges := metadataRanges(t, base)
		cuts := map[int64]bool{}
		for _, r := range ranges {
			lo, hi := r[0]*bs, (r[1]+1)*bs
			for _, cut := range []int64{lo, hi} {
				if cuts[cut] {
					continue
				}
				cuts[cut] = true
				add(fmt.Sprintf("%s truncated at %d", kind, cut), variant(base, fmt.Sprintf("%s-cut-%d", kind, cut), func(b []byte) []byte { return b[:min(cut, int64(len(b)))] }))
			}
			add(fmt.Sprintf("%s zeroed %d-%d", kind, lo, hi), variant(base, fmt.Sprintf("%s-zero-%d", kind, lo), func(b []byte) []byte {
				clear(b[lo:min(hi, int64(len(b)))])
				return b
			}))
		}
	}

	// Cycles.
	ext4 := fixture.SmallExt(t, "ext4")
	loop := variant(ext4, "dirloop", func(b []byte) []byte { return b })
	debugfs(loop, "link /dir /dir/loop", "link / /dir/up")
	add("ext4 directory loop", loop)
	add("ext4 self-referencing extent index", selfReferencingExtent(t, variant(ext4, "selfref", func(b []byte) []byte { return b })))
	add("MBR with an EBR loop", fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/mbr-ebr-loop.img.xz")))
	out = append(out, lvSelfReference(t, dir))

	// Huge counts and sizes.
	bigdir := variant(ext4, "bigdir", func(b []byte) []byte { return b })
	debugfs(bigdir, "sif /dir size 2147482624", "sif /many size 2147482624")
	add("ext4 directories claiming 2 GiB", bigdir)
	bigfile := variant(ext4, "bigfile", func(b []byte) []byte { return b })
	debugfs(bigfile, "sif /big size 0x200000000000", "sif /dir/small size 0x8000000000000005")
	add("ext4 files of impossible size", bigfile)
	inline := variant(fixture.SmallExt(t, "inline"), "inline16g", func(b []byte) []byte { return b })
	debugfs(inline, "sif /dir/small size 0x400000000")
	add("inline file claiming 16 GiB", inline)
	out = append(out, matrixInput{name: "ext group count 2^32", path: groupCountImage(t, dir), kind: "disk", huge: true})
	add("64 superblock copies, 8 blocks per group", superblockCopies(t, dir))
	add("1000 unclosed VG heads and 17 MB of filler", carveBomb(t, dir))
	deep := filepath.Join(dir, "deep.img")
	if o, err := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-N", "4096", "-b", "1024", deep, "32M").CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v %s", err, o)
	}
	debugfs(deep, strings.Split(strings.Repeat("mkdir d\ncd d\n", 3000), "\n")...)
	add("3000 nested directories", deep)
	for i, j := range []string{
		`{"smartctl": {"exit_status": -3}, "device": {"protocol": "ATA"}}`,
		`{"smartctl": {"exit_status": 0}, "device": {"protocol": "ATA"}, "power_on_time": {"hours": -5}}`,
	} {
		p := filepath.Join(dir, fmt.Sprintf("smart%d.json", i))
		os.WriteFile(p, []byte(j), 0o644)
		out = append(out, matrixInput{name: "SMART JSON with negative numbers", path: p, kind: "smart"})
	}
	return out
}

var dumpe2fsAt = regexp.MustCompile(`(superblock|descriptors|GDT blocks|bitmap|Inode table) at (\d+)(?:-(\d+))?`)

// metadataRanges returns the block size and the block ranges of group 0's
// metadata as dumpe2fs lists them.
func metadataRanges(t *testing.T, img string) (int64, [][2]int64) {
	t.Helper()
	o, err := exec.Command("dumpe2fs", img).Output()
	if err != nil {
		t.Skipf("dumpe2fs: %v", err)
	}
	text := string(o)
	bs := int64(1024)
	if m := regexp.MustCompile(`Block size:\s+(\d+)`).FindStringSubmatch(text); m != nil {
		bs, _ = strconv.ParseInt(m[1], 10, 64)
	}
	group0, _, _ := strings.Cut(text[strings.Index(text, "Group 0:"):], "Group 1:")
	var ranges [][2]int64
	for _, m := range dumpe2fsAt.FindAllStringSubmatch(group0, -1) {
		lo, _ := strconv.ParseInt(m[2], 10, 64)
		hi := lo
		if m[3] != "" {
			hi, _ = strconv.ParseInt(m[3], 10, 64)
		}
		ranges = append(ranges, [2]int64{lo, hi})
	}
	return bs, ranges
}

// selfReferencingExtent makes /big's extent tree two levels deep, the
// index block pointing at itself.
func selfReferencingExtent(t *testing.T, img string) string {
	t.Helper()
	o, err := exec.Command("debugfs", "-R", "bmap /big 0", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	blk, err := strconv.ParseUint(strings.TrimSpace(string(o)), 10, 32)
	if err != nil {
		t.Fatalf("bmap: %q", o)
	}
	c := exec.Command("debugfs", "-w", "-f", "-", img)
	// i_block: header (magic, 1 entry, max 4, depth 2), then an index entry
	// for logical 0 pointing at blk.
	c.Stdin = strings.NewReader(fmt.Sprintf("sif /big block[0] 0x0001F30A\nsif /big block[1] 0x00020004\nsif /big block[3] 0\nsif /big block[4] %d\nsif /big block[5] 0\n", blk))
	if o, err := c.CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v %s", err, o)
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	node := make([]byte, 24) // depth 1, one index entry pointing at itself
	le := binary.LittleEndian
	le.PutUint16(node[0:], 0xF30A)
	le.PutUint16(node[2:], 1)
	le.PutUint16(node[4:], 84)
	le.PutUint16(node[6:], 1)
	le.PutUint32(node[16:], uint32(blk))
	if _, err := f.WriteAt(node, int64(blk)*1024); err != nil {
		t.Fatal(err)
	}
	return img
}

// lvSelfReference is a case file whose VG's PVs are its own LV.
func lvSelfReference(t *testing.T, dir string) matrixInput {
	t.Helper()
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	vg, err := lvmmeta.ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	lv := vg.Name + "/" + vg.LVs[0].Name
	pvs := map[string]string{}
	for _, pv := range vg.PVs {
		pvs[pv.Name] = lv
	}
	os.WriteFile(filepath.Join(dir, "vg.txt"), text, 0o644)
	c := map[string]any{"volume_groups": []any{map[string]any{"metadata": "vg.txt", "pvs": pvs}}}
	p := filepath.Join(dir, "case.json")
	b, _ := json.Marshal(c)
	os.WriteFile(p, b, 0o644)
	return matrixInput{name: "LV segments on the LV itself", path: p, kind: "case", dev: lv}
}

// groupCountImage is a 128 GiB sparse file whose superblock says 2^32-1
// groups of one block.
func groupCountImage(t *testing.T, dir string) string {
	t.Helper()
	head, err := os.ReadFile(fixture.SmallExt(t, "ext2"))
	if err != nil {
		t.Fatal(err)
	}
	head = head[:4096]
	le := binary.LittleEndian
	le.PutUint32(head[1024+0x04:], 1<<32-1)
	le.PutUint32(head[1024+0x20:], 1)
	return sparseFile(t, filepath.Join(dir, "groups.img"), 128<<30, map[int64][]byte{0: head})
}

// superblockCopies is a 1 GiB sparse file with 64 primaries of a
// filesystem of 8 blocks per group without sparse_super, one per MiB.
func superblockCopies(t *testing.T, dir string) string {
	t.Helper()
	img, err := os.ReadFile(fixture.SmallExt(t, "ext2"))
	if err != nil {
		t.Fatal(err)
	}
	sb := append([]byte(nil), img[1024:2048]...)
	le := binary.LittleEndian
	le.PutUint32(sb[0x04:], 1<<20)
	le.PutUint32(sb[0x20:], 8)
	le.PutUint32(sb[0x64:], le.Uint32(sb[0x64:])&^1) // no sparse_super
	at := map[int64][]byte{}
	for i := range int64(64) {
		at[i<<20+1024] = sb
	}
	return sparseFile(t, filepath.Join(dir, "copies.img"), 1<<30, at)
}

// carveBomb is 1000 VG heads that never close, then 17 MB of filler.
func carveBomb(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&b, "vg%d {\nid = \"%06d-aaaa-bbbb-cccc-dddd-eeee-ffffff\"\nseqno = %d\n", i, i, i)
	}
	b.Write(bytes.Repeat([]byte("filler = 1\n"), 17<<20/11))
	p := filepath.Join(dir, "carve.img")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sparseFile(t *testing.T, p string, size int64, at map[int64][]byte) string {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Skipf("sparse file of %d bytes: %v", size, err)
	}
	for off, b := range at {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

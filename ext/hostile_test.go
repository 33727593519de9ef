package ext

import (
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Regression tests for crafted inputs (issue 14). Every hostile image is
// made here: a real mke2fs image from testdata patched in memory, or
// mke2fs and debugfs run by the test.

// sparseDev reads as head followed by zeros up to size: a huge device
// that costs only its head.
type sparseDev struct {
	head []byte
	size int64
}

func (d sparseDev) ReadAt(p []byte, off int64) (int, error) {
	if off >= d.size {
		return 0, io.EOF
	}
	n := len(p)
	if rem := d.size - off; int64(n) > rem {
		n = int(rem)
	}
	clear(p[:n])
	if off < int64(len(d.head)) {
		copy(p[:n], d.head[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// allocatedDuring runs fn and returns the bytes it allocated.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// within fails the test when fn takes longer than limit (the bounds are
// generous: the point is seconds, not minutes).
func within(t *testing.T, limit time.Duration, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	if d := time.Since(start); d > limit {
		t.Errorf("%s took %v, want under %v", what, d, limit)
	}
}

// patchInode applies fn to the raw bytes of inode n of img (fs is open on
// img) and returns the inode as read afterwards.
func patchInode(t *testing.T, fs *FS, img memDev, n uint32, fn func(raw []byte)) *Inode {
	t.Helper()
	off, err := fs.inodeLocation(n)
	if err != nil {
		t.Fatal(err)
	}
	fn(img[off : off+int64(fs.SB.InodeSize)])
	in, err := fs.Inode(n)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func setSize(raw []byte, size uint64) {
	binary.LittleEndian.PutUint32(raw[0x4:], uint32(size))
	binary.LittleEndian.PutUint32(raw[0x6C:], uint32(size>>32))
}

// putExtentHeader writes an extent node header.
func putExtentHeader(b []byte, entries, maxEntries, depth int) {
	le := binary.LittleEndian
	le.PutUint16(b[0:], 0xF30A)
	le.PutUint16(b[2:], uint16(entries))
	le.PutUint16(b[4:], uint16(maxEntries))
	le.PutUint16(b[6:], uint16(depth))
}

// openLoaded opens a lab image loaded in memory, for patching.
func openLoaded(t *testing.T, name string) (*FS, memDev) {
	t.Helper()
	img := loadImage(t, name)
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fs, img
}

func mustLookup(t *testing.T, fs *FS, p string) *Inode {
	t.Helper()
	in, err := fs.Lookup(p)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// Issue 14.1: s_blocks_per_group=1 and s_blocks_count=2^32-1 on a 128 GiB
// (sparse) device made Open reserve ~160 GiB for group descriptors.
func TestHostileGroupCount(t *testing.T) {
	img := loadImage(t, "ext2-1k")
	head := append([]byte(nil), img[:4096]...)
	le := binary.LittleEndian
	le.PutUint32(head[1024+0x04:], 1<<32-1) // s_blocks_count
	le.PutUint32(head[1024+0x20:], 1)       // s_blocks_per_group
	dev := sparseDev{head: head, size: 128 << 30}
	var err error
	alloc := allocatedDuring(func() {
		within(t, 5*time.Second, "Open", func() { _, err = Open(dev, dev.size, Options{}) })
	})
	if err == nil || !strings.Contains(err.Error(), "superblock at 1024") || !strings.Contains(err.Error(), "cap") {
		t.Fatalf("want an error naming the superblock and the cap, got %v", err)
	}
	if alloc > 64<<20 {
		t.Errorf("Open allocated %d MiB", alloc>>20)
	}
	if _, err := Open(dev, dev.size, Options{Superblock: SuperblockPrimary}); err == nil {
		t.Fatal("primary: want an error")
	}
}

// Issue 14.2: a root directory whose extent tree maps thousands of logical
// blocks onto the same 16 blocks was read whole, for every superblock
// candidate. A block mapped twice is now refused.
func TestHostileDirectoryBomb(t *testing.T) {
	fs, img := openLoaded(t, "ext4")
	root := mustLookup(t, fs, "/")
	m, _ := fs.Map(root)
	target := m.Runs[0].Physical // the root's real block and the 15 after it
	// Four leaves, written over frag.bin's data, each 340 extents of the
	// same 16 blocks.
	scratch, _ := fs.Map(mustLookup(t, fs, "/data/frag.bin"))
	le := binary.LittleEndian
	perLeaf := int(fs.bs-12) / 12
	logical := uint32(0)
	var leaves []uint64
	for i := range 4 {
		leaf := scratch.Runs[0].Physical + uint64(i)
		leaves = append(leaves, leaf)
		b := img[int64(leaf)*fs.bs:][:fs.bs]
		putExtentHeader(b, perLeaf, perLeaf, 0)
		for e := range perLeaf {
			x := b[12+12*e:]
			le.PutUint32(x[0:], logical)
			le.PutUint16(x[4:], 16)
			le.PutUint16(x[6:], uint16(target>>32))
			le.PutUint32(x[8:], uint32(target))
			logical += 16
		}
	}
	root = patchInode(t, fs, img, RootIno, func(raw []byte) {
		setSize(raw, uint64(logical)*uint64(fs.bs))
		ib := raw[0x28:]
		putExtentHeader(ib, 4, 4, 1)
		for i, leaf := range leaves {
			x := ib[12+12*i:]
			le.PutUint32(x[0:], uint32(i*perLeaf*16))
			le.PutUint32(x[4:], uint32(leaf))
			le.PutUint16(x[8:], uint16(leaf>>32))
		}
	})
	within(t, 5*time.Second, "reading the bomb", func() {
		if _, err := fs.ReadDir(root); err == nil || !strings.Contains(err.Error(), "mapped twice") {
			t.Errorf("ReadDir: %v", err)
		}
		fs2, err := Open(img, int64(len(img)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range fs2.Choice.Candidates {
			if c.RootDirOK && c.Group == 0 {
				t.Errorf("candidate at %d: root directory judged readable", c.Offset)
			}
		}
		if _, err := fs2.Lookup("/etc"); err == nil {
			t.Error("lookup through the bomb succeeded")
		}
	})
}

// Issue 14.5: an inline_data file claiming 16 GiB wrote 16 GiB of zeros;
// past its inline bytes it is a hole.
func TestHostileInlineSizeIsAHole(t *testing.T) {
	skipBigImage(t, "ext4-inline")
	fs, img := openLoaded(t, "ext4-inline")
	in := mustLookup(t, fs, "/etc/hostname")
	if in.Flags&flagInlineData == 0 {
		t.Fatal("fixture: /etc/hostname is not inline")
	}
	patchInode(t, fs, img, in.Num, func(raw []byte) { setSize(raw, 1<<34) })
	dest := t.TempDir()
	res, err := fs.Extract("/etc/hostname", dest, ExtractOptions{})
	if err != nil || res.Files != 1 {
		t.Fatalf("extract: %v %+v", err, res)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dest, "hostname"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 1<<34 || st.Blocks*512 > 1<<20 {
		t.Fatalf("size %d with %d bytes allocated: want a 16 GiB hole", st.Size, st.Blocks*512)
	}
}

// Issue 14.7: directories claiming 2 GiB without a block walked every
// hole and built a problem string for each.
func TestHostileHugeEmptyDirectories(t *testing.T) {
	fs, img := openLoaded(t, "ext4")
	var dirs []uint32
	for _, p := range []string{"/etc", "/etc/lvm", "/home", "/home/user", "/data", "/links"} {
		in := mustLookup(t, fs, p)
		dirs = append(dirs, in.Num)
	}
	for _, n := range dirs {
		patchInode(t, fs, img, n, func(raw []byte) {
			setSize(raw, maxDirBytes-uint64(fs.bs))
			putExtentHeader(raw[0x28:], 0, 4, 0)
		})
	}
	within(t, 5*time.Second, "find and orphans", func() {
		_, problems, err := fs.Find([]string{"/"}, "*")
		if err != nil {
			t.Fatal(err)
		}
		ns, err := fs.ScanInodes()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range append(problems, ns.Problems...) {
			if len(p) > 300 {
				t.Errorf("problem of %d bytes: %.100s...", len(p), p)
			}
		}
		if len(ns.Problems) < len(dirs) || !strings.Contains(ns.Problems[0], "blocks are holes") {
			t.Errorf("problems %q", ns.Problems)
		}
	})
}

// Issue 14.8: a file of impossible size stopped the extraction and left a
// partial file; now it is reported and skipped, and its siblings come out.
func TestHostileBadFileSkipped(t *testing.T) {
	fs, img := openLoaded(t, "ext4")
	patchInode(t, fs, img, mustLookup(t, fs, "/data/sparse.bin").Num, func(raw []byte) { setSize(raw, 1<<45) })
	patchInode(t, fs, img, mustLookup(t, fs, "/data/frag.bin").Num, func(raw []byte) { setSize(raw, 1<<63+5) })
	dest := t.TempDir()
	res, err := fs.Extract("/data", dest, ExtractOptions{})
	if err != nil {
		t.Fatalf("extract stopped: %v", err)
	}
	if res.Files != 1 || len(res.Skipped) != 2 {
		t.Fatalf("%d files, skipped %q", res.Files, res.Skipped)
	}
	for _, s := range res.Skipped {
		if !strings.Contains(s, "more than its block map can address") {
			t.Errorf("skipped without the reason: %q", s)
		}
	}
	names, _ := os.ReadDir(filepath.Join(dest, "data"))
	if len(names) != 1 || names[0].Name() != "huge.bin" {
		t.Fatalf("extracted %v: want huge.bin alone, no partial files", names)
	}
}

// Issue 14.9: 3000 nested directories took minutes, each file re-walking
// its path from the destination root.
func TestHostileDeepTreeExtractsInLinearTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 3000-level tree with debugfs")
	}
	img := deepTree(t, 3000)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	fs, err := Open(f, st.Size(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "extracting 3000 levels", func() {
		res, err := fs.Extract("/d", t.TempDir(), ExtractOptions{})
		if err != nil || res.Dirs != 3000 || len(res.Skipped) != 0 {
			t.Fatalf("extract: %v, %d dirs, skipped %q", err, res.Dirs, res.Skipped)
		}
	})
}

// deepTree makes an ext4 image holding /d/d/d/... levels deep, with
// mke2fs and debugfs.
func deepTree(t *testing.T, levels int) string {
	t.Helper()
	for _, tool := range []string{"mke2fs", "debugfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	img := filepath.Join(t.TempDir(), "deep.img")
	if out, err := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-N", "4096", "-b", "1024", img, "32M").CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v %s", err, out)
	}
	cmds := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(cmds, []byte(strings.Repeat("mkdir d\ncd d\n", levels)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("debugfs", "-w", "-f", cmds, img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs: %v %s", err, out)
	}
	return img
}

// Issue 14.11: extracting as root restored setuid bits and owners from
// the image. Both now need asking for.
func TestHostileSetuidAndOwners(t *testing.T) {
	fs, img := openLoaded(t, "ext4")
	in := patchInode(t, fs, img, mustLookup(t, fs, "/etc/hostname").Num, func(raw []byte) {
		binary.LittleEndian.PutUint16(raw[0x0:], modeReg|0o6755)
		binary.LittleEndian.PutUint16(raw[0x2:], 4242) // uid
		binary.LittleEndian.PutUint16(raw[0x18:], 4343)
	})
	if in.FileMode()&os.ModeSetuid == 0 {
		t.Fatal("patch did not take")
	}
	check := func(opts ExtractOptions, wantSetid bool, wantUID int) {
		t.Helper()
		dest := t.TempDir()
		if _, err := fs.Extract("/etc/hostname", dest, opts); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dest, "hostname")
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0; got != wantSetid {
			t.Errorf("%+v: mode %v", opts, fi.Mode())
		}
		if uid := int(fi.Sys().(*syscall.Stat_t).Uid); uid != wantUID {
			t.Errorf("%+v: owner %d, want %d", opts, uid, wantUID)
		}
	}
	me := os.Geteuid()
	check(ExtractOptions{}, false, me)
	if me != 0 {
		t.Skip("restoring owners needs root")
	}
	check(ExtractOptions{KeepSetID: true}, true, me)
	check(ExtractOptions{SameOwner: true}, false, 4242)
	check(ExtractOptions{SameOwner: true, KeepSetID: true}, true, 4242)
}

// Group descriptors that all point at one inode table (damaged, or crafted
// with millions of groups) must not make the scan read it once per group.
func TestHostileSharedInodeTables(t *testing.T) {
	fs, _ := openImage(t, "ext4")
	// As if every descriptor said group 0's table (checksums aside: a
	// damaged table may be repaired from nothing better).
	for g := 1; g < len(fs.groups); g++ {
		fs.groups[g].inodeTable = fs.groups[0].inodeTable
	}
	ns, err := fs.ScanInodes()
	if err != nil {
		t.Fatal(err)
	}
	overlaps := 0
	for _, p := range ns.Problems {
		if strings.Contains(p, "overlaps group 0's") {
			overlaps++
		}
	}
	if overlaps != len(fs.groups)-1 {
		t.Fatalf("problems %q", ns.Problems)
	}
}

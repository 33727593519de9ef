package ext

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// cleanImages are the mke2fs-made lab images with their debugfs records
// (testdata/lab/ext-fixtures.sh).
var cleanImages = []string{"ext2-1k", "ext3-1k", "ext3-4k", "ext4", "ext4-no64-nocsum", "ext4-inline", "ext4-metabg", "ext4-sparse2", "ext4-uninit-bg", "ext4-64k"}

// shortImages are the clean images the fast loop (-short) reads: extents
// and indirect blocks. Unpacking the 100 MiB lab images dominates a run
// from a cold fixture cache, so a test that needs any other of them only
// for one feature skips under -short (skipBigImage); the full suite runs it.
var shortImages = []string{"ext4", "ext3-1k"}

// skipBigImage skips t under -short unless the 100 MiB lab image name is
// one of shortImages.
func skipBigImage(t *testing.T, name string) {
	t.Helper()
	fixture.SkipUnlessRepresentative(t, name, shortImages...)
}

func openImage(t testing.TB, name string) (*FS, string) {
	t.Helper()
	f, fs := openXZ(t, name, fixture.Repo(t, "testdata/ext/"+name+".img.xz"))
	return fs, f.Name()
}

// openXZ unpacks an .xz image and opens it with holmes: the file and the
// filesystem. name labels the failure.
func openXZ(t testing.TB, name, xz string) (*os.File, *FS) {
	t.Helper()
	f, err := os.Open(fixture.Unpack(t, xz))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Open(f, st.Size(), Options{Superblock: SuperblockAuto})
	if err != nil {
		t.Fatalf("%s: holmes: %v", name, err)
	}
	return f, fs
}

func readRecord(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture.Repo(t, "testdata/ext/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hugeReference is the one image whose 5 GiB sparse file is hashed whole;
// the others must yield the same data regions (holes read as zeros by
// construction), which keeps the test fast.
const hugeReference = "ext2-1k"

func TestFilesMatchDebugfsDump(t *testing.T) {
	ref, _ := openImage(t, hugeReference)
	refHuge := dataRegions(t, ref, "/data/huge.bin")
	refSums := map[string]string{} // every image holds the same tree
	for _, l := range strings.Split(strings.TrimSpace(readRecord(t, hugeReference+".sha256")), "\n") {
		sum, p, _ := strings.Cut(l, "  ")
		refSums[p] = sum
	}
	for _, name := range cleanImages {
		t.Run(name, func(t *testing.T) {
			// -short: extents and indirect blocks; ext2-1k reads all 5 GiB of
			// its sparse huge.bin.
			skipBigImage(t, name)
			fs, _ := openImage(t, name)
			sc := bufio.NewScanner(strings.NewReader(readRecord(t, name+".sha256")))
			n := 0
			for sc.Scan() {
				want, p, _ := strings.Cut(sc.Text(), "  ")
				if p == "/data/huge.bin" && name != hugeReference {
					if got := dataRegions(t, fs, p); got != refHuge {
						t.Errorf("%s: data regions differ from %s's", p, hugeReference)
					}
					continue
				}
				if got := debugfsSHA(t, fs, p); got != want {
					t.Errorf("%s: sha256 %s, debugfs dump gave %s", p, got, want)
				}
				if got, other := fileSHA(t, fs, p), refSums[p]; got != other && p != "/data/huge.bin" {
					t.Errorf("%s: sha256 %s, %s has %s", p, got, hugeReference, other)
				}
				n++
			}
			if n < 10 {
				t.Fatalf("only %d files checked", n)
			}
		})
	}
}

func fileSHA(t *testing.T, fs *FS, p string) string {
	t.Helper()
	in, err := fs.Lookup(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fs.Reader(in)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, r.Size())); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// debugfsSHA is what debugfs 1.47.0 dump writes: for an inline_data file
// shorter than 60 bytes it writes all 60 bytes of i_block, ignoring the
// file size (a debugfs bug; debugfs cat shows the same padding).
func debugfsSHA(t *testing.T, fs *FS, p string) string {
	t.Helper()
	in, err := fs.Lookup(p)
	if err != nil {
		t.Fatal(err)
	}
	if in.Flags&flagInlineData == 0 || in.Size >= 60 {
		return fileSHA(t, fs, p)
	}
	r, _ := fs.Reader(in)
	buf := make([]byte, 60)
	r.ReadAt(buf, 0)
	return fmt.Sprintf("%x", sha256.Sum256(buf))
}

// dataRegions summarises a sparse file: size, and offset and hash of each
// region that holds data.
func dataRegions(t *testing.T, fs *FS, p string) string {
	t.Helper()
	in, err := fs.Lookup(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fs.Reader(in)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "size %d", r.Size())
	for _, reg := range r.DataRegions() {
		buf := make([]byte, reg[1]-reg[0])
		if _, err := r.ReadAt(buf, reg[0]); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		// Compare content without trailing zeros: block sizes differ.
		buf = bytes.TrimRight(buf, "\x00")
		fmt.Fprintf(&b, " %d:%x", reg[0], sha256.Sum256(buf))
	}
	return b.String()
}

// statFields are the debugfs stat lines holmes must reproduce exactly.
var statFields = regexp.MustCompile(`^(Inode: |Generation: |User: |File ACL: |Links: |Fragment: | ?ctime: | ?atime: | ?mtime: |crtime: |Size of extra inode fields: |Inode checksum: |Fast link dest: |Extended attributes:|  [a-z]+\.)`)

// blockPair matches one "(LOGICAL[-END][u]):PHYS[-END]" item of a debugfs
// block or extent list; labels like (IND) and (ETB0) are map blocks.
var blockPair = regexp.MustCompile(`^\((\d+)(?:-(\d+))?(\[u\])?\):(\d+)(?:-(\d+))?$`)

// debugfsFacts reduces debugfs stat output to the lines compared and the
// logical→physical block pairs it lists.
func debugfsFacts(text string) (lines []string, pairs map[uint64]uint64, mapBlocks int) {
	pairs = map[uint64]uint64{}
	inList := false
	for _, l := range strings.Split(text, "\n") {
		switch {
		case statFields.MatchString(l):
			lines = append(lines, l)
		case l == "BLOCKS:" || l == "EXTENTS:":
			inList = true
		case inList && l != "" && !strings.HasPrefix(l, "TOTAL"):
			for _, item := range strings.Split(l, ", ") {
				m := blockPair.FindStringSubmatch(item)
				if m == nil {
					mapBlocks++
					continue
				}
				lo, _ := strconv.ParseUint(m[1], 10, 64)
				hi := lo
				if m[2] != "" {
					hi, _ = strconv.ParseUint(m[2], 10, 64)
				}
				p, _ := strconv.ParseUint(m[4], 10, 64)
				for i := lo; i <= hi && m[3] == ""; i++ {
					pairs[i] = p + (i - lo)
				}
			}
		}
	}
	return lines, pairs, mapBlocks
}

// compareStat checks holmes's stat of path against debugfs's text.
func compareStat(t *testing.T, fs *FS, path, debugfsText string) {
	t.Helper()
	in, err := fs.Lookup(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	var b bytes.Buffer
	if err := fs.WriteDebugfsStat(&b, in); err != nil {
		t.Fatal(err)
	}
	wantLines, wantPairs, wantMeta := debugfsFacts(debugfsText)
	gotLines, _, _ := debugfsFacts(b.String())
	if strings.Join(gotLines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("%s: stat differs\nholmes:\n%s\ndebugfs:\n%s", path, strings.Join(gotLines, "\n"), strings.Join(wantLines, "\n"))
	}
	if in.Flags&flagInlineData != 0 || (in.IsSymlink() && fs.isFastSymlink(in)) {
		return
	}
	m, err := fs.Map(in)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	gotPairs := map[uint64]uint64{}
	for _, r := range m.Runs {
		for i := range r.Len {
			if !r.Unwritten {
				gotPairs[r.Logical+i] = r.Physical + i
			}
		}
	}
	if len(gotPairs) != len(wantPairs) || len(m.Meta) != wantMeta {
		t.Errorf("%s: %d data blocks and %d map blocks, debugfs lists %d and %d", path, len(gotPairs), len(m.Meta), len(wantPairs), wantMeta)
		return
	}
	for l, p := range wantPairs {
		if gotPairs[l] != p {
			t.Errorf("%s: logical block %d at %d, debugfs says %d", path, l, gotPairs[l], p)
			return
		}
	}
}

// recordedStats splits the recorded debugfs stat output by path.
func recordedStats(text string) map[string]string {
	out := map[string]string{}
	parts := strings.Split(text, "debugfs: stat ")
	for _, p := range parts[1:] {
		path, body, _ := strings.Cut(p, "\n")
		out[path] = body
	}
	return out
}

func TestStatMatchesDebugfs(t *testing.T) {
	for _, name := range cleanImages {
		t.Run(name, func(t *testing.T) {
			skipBigImage(t, name)
			fs, _ := openImage(t, name)
			stats := recordedStats(readRecord(t, name+".stat.txt"))
			if len(stats) < 20 {
				t.Fatalf("only %d recorded stats", len(stats))
			}
			for path, text := range stats {
				compareStat(t, fs, path, text)
			}
		})
	}
}

// TestStatMatchesLiveDebugfs runs the installed debugfs on the same images.
func TestStatMatchesLiveDebugfs(t *testing.T) {
	if _, err := exec.LookPath("debugfs"); err != nil {
		t.Skip("debugfs not installed")
	}
	for _, name := range cleanImages {
		if fixture.LeftOutOfShort(name, shortImages...) {
			continue
		}
		fs, img := openImage(t, name)
		for _, p := range []string{"/", "/data/frag.bin", "/data/huge.bin", "/dir5000", "/links/slow", "/home/user/tiny.txt"} {
			cmd := exec.Command("debugfs", "-R", "stat "+p, img)
			cmd.Env = append(os.Environ(), "TZ=UTC", "DEBUGFS_PAGER=__none__", "PAGER=cat")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("debugfs: %v", err)
			}
			compareStat(t, fs, p, string(out))
		}
	}
}

func TestChecksumsVerified(t *testing.T) {
	fs, _ := openImage(t, "ext4")
	if !fs.SB.ChecksumPresent || !fs.SB.ChecksumOK || fs.GroupChecksumErrors != 0 {
		t.Fatalf("clean metadata_csum image: superblock ok=%v, %d group checksum errors", fs.SB.ChecksumOK, fs.GroupChecksumErrors)
	}
	in, err := fs.Lookup("/etc/lvm/backup/guests")
	if err != nil || !in.ChecksumPresent || !in.ChecksumOK {
		t.Fatalf("inode checksum not verified: %v %+v", err, in)
	}
	skipBigImage(t, "ext4-no64-nocsum")
	fs2, _ := openImage(t, "ext4-no64-nocsum")
	if fs2.SB.ChecksumPresent {
		t.Fatal("checksum reported on a filesystem without metadata_csum")
	}
}

func TestDirectoryOf5000Entries(t *testing.T) {
	for _, name := range cleanImages {
		if fixture.LeftOutOfShort(name, shortImages...) {
			continue
		}
		fs, _ := openImage(t, name)
		in, err := fs.Lookup("/dir5000")
		if err != nil {
			t.Fatal(err)
		}
		if in.Flags&flagIndex == 0 {
			t.Fatalf("%s: /dir5000 is not an htree directory (flags %#x)", name, in.Flags)
		}
		entries, err := fs.ReadDir(in)
		if err != nil || len(entries) != 5002 {
			t.Fatalf("%s: %d entries, %v", name, len(entries), err)
		}
		if _, err := fs.Lookup("/dir5000/file-with-a-longish-name-4999"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBackupOffsets(t *testing.T) {
	fs, _ := openImage(t, "ext2-1k") // 12 groups of 8192 1 KiB blocks, sparse_super
	want := []int64{8193 * 1024, 3*8192*1024 + 1024, 5*8192*1024 + 1024, 7*8192*1024 + 1024, 9*8192*1024 + 1024}
	got := fs.SB.BackupOffsets()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("backups %v, want %v", got, want)
	}
	for _, off := range got {
		sb, err := ReadSuperblock(fs.r, off)
		if err != nil || sb.UUID != fs.SB.UUID || sb.FSOffset() != 0 {
			t.Fatalf("backup at %d: %v", off, err)
		}
	}
	if _, err := ReadSuperblock(fs.r, 0); err == nil || !strings.Contains(err.Error(), "superblock at 0") {
		t.Fatalf("no superblock at 0: %v", err)
	}
}

// The incident: a newer mkfs over the first 64 KiB, the root directory
// block zeroed. auto must take the old backup and find the LVM backup
// under its rebuilt path.
func TestDamagedPicksBackupAndRebuildsPaths(t *testing.T) {
	fs, _ := openImage(t, "ext3-damaged")
	if fs.Choice.Group != 1 || !strings.Contains(fs.Choice.Why, "another filesystem") {
		t.Fatalf("auto chose group %d: %s", fs.Choice.Group, fs.Choice.Why)
	}
	if len(fs.Choice.Candidates) < 3 {
		t.Fatalf("candidates %+v", fs.Choice.Candidates)
	}
	ns, err := fs.ScanInodes()
	if err != nil {
		t.Fatal(err)
	}
	matches, problems, err := fs.Find(ns.Roots(), "guests")
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) != 1 || matches[0].Path != "#12/lvm/backup/guests" {
		t.Fatalf("find guests: %+v", matches)
	}
	if len(problems) == 0 || !strings.Contains(problems[0], "directory inode 2") {
		t.Fatalf("the zeroed root directory should be reported: %v", problems)
	}
	sums := readRecord(t, "ext3-damaged.sha256")
	want := regexp.MustCompile(`(?m)^([0-9a-f]+)  /etc/lvm/backup/guests$`).FindStringSubmatch(sums)
	if got := fileSHA(t, fs, "#12/lvm/backup/guests"); want == nil || got != want[1] {
		t.Fatalf("guests sha256 %s, recorded %v", got, want)
	}
	if p := ns.Path(17); p != "#12/lvm/backup" {
		t.Fatalf("path of inode 17: %s", p)
	}

	// The primary alone is the newer, unfinished filesystem: clear errors.
	f, _ := fs.r.(*os.File)
	st, _ := f.Stat()
	primary, err := Open(f, st.Size(), Options{Superblock: SuperblockPrimary})
	if err == nil {
		if _, err := primary.Lookup("/etc"); err == nil {
			t.Fatal("the newer primary should not lead to /etc")
		}
	}
	// e2fsck -b style: block 16384 of 2 KiB.
	byBlock, err := Open(f, st.Size(), Options{Superblock: 16384})
	if err != nil || byBlock.Choice.Group != 1 {
		t.Fatalf("--superblock 16384: %v", err)
	}
}

func TestPublicUtilLinuxImages(t *testing.T) {
	for _, name := range []string{"ext2", "ext3", "ext4"} {
		p := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/"+name+".img.xz"))
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		fs, err := Open(f, st.Size(), Options{Superblock: SuperblockAuto})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		root, err := fs.Lookup("/")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if entries, err := fs.ReadDir(root); err != nil || len(entries) < 3 {
			t.Fatalf("%s: root %v %v", name, entries, err)
		}
		if _, err := exec.LookPath("debugfs"); err == nil { // 128-byte inodes, 2005's mke2fs
			for _, path := range []string{"/", "/lost+found"} {
				cmd := exec.Command("debugfs", "-R", "stat "+path, p)
				cmd.Env = append(os.Environ(), "TZ=UTC", "PAGER=cat")
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("debugfs: %v", err)
				}
				compareStat(t, fs, path, string(out))
			}
		}
		truncated := strings.Contains(strings.Join(fs.Problems(), ";"), "truncated")
		if truncated != (name == "ext4") {
			t.Errorf("%s: truncation reported %v: %v", name, truncated, fs.Problems())
		}
		f.Close()
	}
}

// memDev is an in-memory image for corruption tests.
type memDev []byte

func (m memDev) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func loadImage(t testing.TB, name string) memDev {
	t.Helper()
	b, err := os.ReadFile(fixture.Unpack(t, fixture.Repo(t, "testdata/ext/"+name+".img.xz")))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSelfReferencingExtentIndex(t *testing.T) {
	img := loadImage(t, "ext4")
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := fs.Lookup("/data/frag.bin")
	m, err := fs.Map(in)
	if err != nil || len(m.Meta) == 0 {
		t.Fatalf("frag.bin should have index blocks: %v", err)
	}
	// Point the first index entry of the first index block at itself.
	blk := m.Meta[0]
	off := int64(blk)*fs.bs + 12
	img[off+4], img[off+5], img[off+6], img[off+7] = byte(blk), byte(blk>>8), byte(blk>>16), byte(blk>>24)
	img[off+8], img[off+9] = 0, 0
	in, _ = fs.Lookup("/data/frag.bin")
	if _, err := fs.Map(in); err == nil || !strings.Contains(err.Error(), "inode") {
		t.Fatalf("self-referencing index: %v", err)
	}
}

// TestCorruptionNeverPanics flips bytes all over the metadata of a real
// image and reads everything: errors are fine, panics and hangs are not.
func TestCorruptionNeverPanics(t *testing.T) {
	for _, name := range []string{"ext4-inline", "ext3-1k", "ext3-journal"} {
		if fixture.LeftOutOfShort(name, shortImages...) {
			continue
		}
		img := loadImage(t, name)
		orig := append(memDev(nil), img[:4<<20]...)
		seed := uint64(12345)
		iterations := 40
		if testing.Short() {
			iterations = 10
		}
		for iter := range iterations {
			copy(img, orig)
			for range 200 {
				seed = seed*6364136223846793005 + 1442695040888963407
				img[int(seed>>33)%len(orig)] = byte(seed >> 20)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s iteration %d: panic %v", name, iter, r)
					}
				}()
				fs, err := Open(img, int64(len(img)), Options{})
				if err != nil {
					return
				}
				fs.Problems()
				if ns, err := fs.ScanInodes(); err == nil {
					ns.Lost()
					ms, _, _ := fs.Find(ns.Roots(), "*")
					for i, m := range ms {
						if i > 200 {
							break
						}
						if in, err := fs.Inode(m.Inode); err == nil {
							if r, err := fs.Reader(in); err == nil {
								r.ReadAt(make([]byte, 4096), 0)
							}
							fs.WriteDebugfsStat(io.Discard, in)
							if in.IsDir() {
								fs.ReadDirWithDeleted(in)
							}
						}
					}
				}
			}()
		}
	}
}

// Checksums are verified and reported, never required: a damaged tail is
// named, and the data is still read.
func TestDirectoryAndExtentChecksumsReported(t *testing.T) {
	img := loadImage(t, "ext4")
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	etc, _ := fs.Lookup("/etc")
	m, _ := fs.Map(etc)
	dirBlock := int64(m.Runs[0].Physical) * fs.bs
	img[dirBlock+fs.bs-1] ^= 0xFF // last byte of the checksum tail
	entries, err := fs.ReadDir(etc)
	var where *blockdev.Error
	if !errors.As(err, &where) || where.Off() != dirBlock || len(entries) < 4 ||
		!strings.Contains(err.Error(), fmt.Sprintf("block 0 = fs block %d (byte %d): bad checksum", dirBlock/fs.bs, dirBlock)) {
		t.Fatalf("dir checksum: %d entries, %v", len(entries), err)
	}
	frag, _ := fs.Lookup("/data/frag.bin")
	m, _ = fs.Map(frag)
	if len(m.ChecksumErrors) != 0 {
		t.Fatalf("clean extent blocks reported bad: %v", m.ChecksumErrors)
	}
	leaf := int64(m.Meta[len(m.Meta)-1]) * fs.bs
	maxEntries := int64(img[leaf+4]) | int64(img[leaf+5])<<8
	img[leaf+12+12*maxEntries] ^= 0xFF
	m, err = fs.Map(frag)
	if err != nil || len(m.ChecksumErrors) != 1 {
		t.Fatalf("extent checksum: %v %v", m.ChecksumErrors, err)
	}
	if got := fileSHA(t, fs, "/data/frag.bin"); got != "b2b63119c33e831fd82424059e1295d86ff0cf47ef4171188b8dcbfc7367966c" {
		t.Fatalf("frag.bin still readable, but sha256 %s", got)
	}
}

func TestSparseSuper2Backups(t *testing.T) {
	skipBigImage(t, "ext4-sparse2")
	fs, _ := openImage(t, "ext4-sparse2")
	got := fs.SB.BackupOffsets()
	want := []int64{int64(fs.SB.groupStart(fs.SB.BackupBGs[0])) * 1024, int64(fs.SB.groupStart(fs.SB.BackupBGs[1])) * 1024}
	if fmt.Sprint(got) != fmt.Sprint(want) || fs.SB.BackupBGs[0] != 1 {
		t.Fatalf("sparse_super2 backups %v (groups %v), want %v", got, fs.SB.BackupBGs, want)
	}
	for _, off := range got {
		if sb, err := ReadSuperblock(fs.r, off); err != nil || sb.UUID != fs.SB.UUID {
			t.Fatalf("backup at %d: %v", off, err)
		}
	}
}

func TestZeroedPrimaryFallsBackToBackup(t *testing.T) {
	img := loadImage(t, "ext3-1k")
	clear(img[:64<<10])
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fs.Choice.Group != 1 || !strings.Contains(fs.Choice.Why, "no valid primary superblock") {
		t.Fatalf("chose group %d: %s", fs.Choice.Group, fs.Choice.Why)
	}
	if got := fileSHA(t, fs, "/etc/lvm/backup/guests"); !strings.Contains(readRecord(t, "ext3-1k.sha256"), got+"  /etc/lvm/backup/guests") {
		t.Fatalf("guests via the backup: %s", got)
	}
	if _, err := Open(img, int64(len(img)), Options{Superblock: SuperblockPrimary}); err == nil || err.Error() != "ext: superblock at 1024: no ext magic (found 0x0000)" {
		t.Fatalf("primary: %v", err)
	}
	clear(img) // nothing left anywhere
	if _, err := Open(img, int64(len(img)), Options{}); err == nil || !strings.Contains(err.Error(), "no superblock") {
		t.Fatalf("empty device: %v", err)
	}
}

func TestUninitBGChecksums(t *testing.T) {
	skipBigImage(t, "ext4-uninit-bg")
	fs, _ := openImage(t, "ext4-uninit-bg") // crc16 group descriptor checksums
	if fs.SB.FeatureROCompat&roCompatGdtCsum == 0 || fs.GroupChecksumErrors != 0 {
		t.Fatalf("uninit_bg: features %v, %d group checksum errors", fs.SB.Features(), fs.GroupChecksumErrors)
	}
}

func TestUnreferencedFilesListed(t *testing.T) {
	img := loadImage(t, "ext4")
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	user, _ := fs.Lookup("/home/user")
	notes, _ := fs.Lookup("/home/user/notes.txt")
	m, _ := fs.Map(user)
	clear(img[int64(m.Runs[0].Physical)*fs.bs:][:fs.bs]) // the directory's only block
	ns, err := fs.ScanInodes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range ns.Unreferenced {
		got = append(got, fmt.Sprintf("%s:%d", ns.Path(in.Num), in.Size))
	}
	want := fmt.Sprintf("#%d:468894", notes.Num)
	if len(got) != 3 || !strings.Contains(strings.Join(got, " "), want) {
		t.Fatalf("unreferenced %v, want 3 files including %s", got, want)
	}
	if len(ns.Problems) != 1 || !strings.Contains(ns.Problems[0], "all zeros") {
		t.Fatalf("problems %v", ns.Problems)
	}
}

func TestXattrsMatchDebugfs(t *testing.T) {
	fs, _ := openImage(t, "ext4-xattr")
	stats := recordedStats(readRecord(t, "ext4-xattr.stat.txt"))
	if !strings.Contains(stats["/f"], "  user.big (300)") {
		t.Fatalf("fixture lacks the attribute block: %q", stats["/f"])
	}
	for path, text := range stats {
		compareStat(t, fs, path, text)
	}
}

// A primary gone on a filesystem of non-default geometry (-g 8192 with
// 4 KiB blocks): the backup is found by searching for the magic.
func TestZeroedPrimaryNonDefaultGeometry(t *testing.T) {
	skipBigImage(t, "ext3-4k")
	img := loadImage(t, "ext3-4k")
	clear(img[:64<<10])
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fs.Choice.Group != 1 || fs.Choice.Used != 8192*4096 {
		t.Fatalf("chose byte %d (group %d): %s", fs.Choice.Used, fs.Choice.Group, fs.Choice.Why)
	}
	if _, err := fs.Lookup("/etc/lvm/backup/guests"); err != nil {
		t.Fatal(err)
	}
}

// A primary claiming 2^56 blocks (four billion groups) is answered at
// once: it is outvoted by its backups, not enumerated.
func TestGarbageBlockCountIsCheap(t *testing.T) {
	img := loadImage(t, "ext4")
	binary.LittleEndian.PutUint32(img[1024+0x150:], 0x00FFFFFF)
	start := time.Now()
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open took %v", d)
	}
	if fs.Choice.Group != 1 || !strings.Contains(fs.Choice.Why, "cannot fit") {
		t.Fatalf("chose group %d: %s", fs.Choice.Group, fs.Choice.Why)
	}
}

// With meta_bg each descriptor block has copies in its meta group's
// second and last groups: a damaged first copy is passed over.
func TestMetaBGDamagedDescriptorsUseACopy(t *testing.T) {
	skipBigImage(t, "ext4-metabg")
	img := loadImage(t, "ext4-metabg")
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fs.SB.FeatureIncompat&incompatMetaBG == 0 || fs.SB.FirstMetaBG != 0 {
		t.Fatalf("fixture: meta_bg %v, first_meta_bg %d", fs.SB.Features(), fs.SB.FirstMetaBG)
	}
	first := fs.descBlocks(0)[0]
	for i := range fs.bs {
		img[int64(first)*fs.bs+i] ^= 0x5A
	}
	fs, err = Open(img, int64(len(img)), Options{Superblock: SuperblockPrimary})
	if err != nil || fs.GroupChecksumErrors != 0 {
		t.Fatalf("open: %v, %d bad descriptors", err, fs.GroupChecksumErrors)
	}
	if got := fileSHA(t, fs, "/etc/lvm/backup/guests"); !strings.Contains(readRecord(t, "ext4-metabg.sha256"), got) {
		t.Fatal("guests differs")
	}
}

// The root directory block is gone, but the real kernel logged it in the
// journal when it last changed: every lost top-level directory gets its
// old name back as a hint, matching debugfs ls -l / before the damage.
func TestJournalNamesLostDirectories(t *testing.T) {
	skipBigImage(t, "ext3-journal")
	fs, _ := openImage(t, "ext3-journal")
	if fs.Choice.Group != 1 {
		t.Fatalf("chose group %d: %s", fs.Choice.Group, fs.Choice.Why)
	}
	before := map[uint32]string{}
	for _, l := range strings.Split(readRecord(t, "ext3-journal.root-before.txt"), "\n") {
		f := strings.Fields(l)
		if len(f) >= 8 && strings.HasPrefix(f[1], "40") && f[len(f)-1] != "." && f[len(f)-1] != ".." {
			n, _ := strconv.ParseUint(f[0], 10, 32)
			before[uint32(n)] = f[len(f)-1]
		}
	}
	ns, err := fs.ScanInodes()
	if err != nil {
		t.Fatal(err)
	}
	lost := ns.Lost()
	if len(lost) != len(before) || len(before) < 5 {
		t.Fatalf("%d lost directories, %d before the damage", len(lost), len(before))
	}
	for _, d := range lost {
		if d.JournalName != before[d.Inode] || d.JournalSequence == 0 {
			t.Errorf("#%d: journal says %q (transaction %d), debugfs said %q", d.Inode, d.JournalName, d.JournalSequence, before[d.Inode])
		}
	}
}

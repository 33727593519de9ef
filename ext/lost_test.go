package ext

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// rootBefore reads a recorded `debugfs ls -l /` taken before the damage:
// inode → name.
func rootBefore(t *testing.T, record string) map[uint32]string {
	t.Helper()
	names := map[uint32]string{}
	for _, l := range strings.Split(readRecord(t, record), "\n") {
		f := strings.Fields(l)
		if len(f) >= 8 && f[len(f)-1] != "." && f[len(f)-1] != ".." {
			n, _ := strconv.ParseUint(f[0], 10, 32)
			names[uint32(n)] = f[len(f)-1]
		}
	}
	return names
}

// Extracting / of a filesystem whose root directory block is zeroed
// brings back every lost directory and the unnamed file as inodeN, with
// the names the journal's older copy of the root block gives them (the
// real kernel wrote it; checked against debugfs ls before the damage).
func TestExtractLostRootWithJournalNames(t *testing.T) {
	fs, _ := openImage(t, "ext3-journal")
	if !strings.Contains(fs.RootProblem(), "the root directory is lost") {
		t.Fatalf("root problem %q", fs.RootProblem())
	}
	before := rootBefore(t, "ext3-journal.root-before.txt")
	dest := t.TempDir()
	res, err := fs.Extract("/", dest, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Lost
	if l == nil || l.RootProblem == "" || l.DirsRead != 5 || l.DirsUnreadable != 0 || l.FilesRecovered != 1 || l.FilesFailed != 0 || l.JournalProblem != "" {
		t.Fatalf("lost recovery %+v", l)
	}
	for _, x := range append(append([]LostExtract{}, l.Dirs...), l.Files...) {
		if x.JournalName != before[x.Inode] || x.JournalSequence == 0 || x.ExtractedAs != "inode"+strconv.Itoa(int(x.Inode)) {
			t.Errorf("#%d: extracted as %q, journal says %q (transaction %d), debugfs said %q", x.Inode, x.ExtractedAs, x.JournalName, x.JournalSequence, before[x.Inode])
		}
		if _, err := os.Lstat(filepath.Join(dest, x.ExtractedAs)); err != nil {
			t.Error(err)
		}
	}
	if _, err := fs.Extract("/", dest, ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second extraction into the same directory: %v", err)
	}
}

// The incident fixture (a newer mkfs over the start, the root block
// zeroed): every recorded file comes back byte-identical under the lost
// directory that holds it.
func TestExtractLostRootFilesIdentical(t *testing.T) {
	fs, _ := openImage(t, "ext3-damaged")
	dest := t.TempDir()
	res, err := fs.Extract("/", dest, ExtractOptions{})
	if err != nil || res.Lost == nil {
		t.Fatalf("%+v, %v", res, err)
	}
	got := fixture.TreeBySHA256(t, dest)
	for _, l := range strings.Split(strings.TrimSpace(readRecord(t, "ext3-damaged.sha256")), "\n") {
		sum, path, _ := strings.Cut(l, "  ")
		where, ok := got[sum]
		top, rest, _ := strings.Cut(where, "/")
		if !ok || !strings.HasPrefix(top, "inode") || !strings.HasSuffix(path, "/"+rest) {
			t.Errorf("%s: extracted as %q", path, where)
		}
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
}

// A sound filesystem extracts as before: only the tree, unless asked.
func TestExtractSoundRootHasNoLostPart(t *testing.T) {
	fs, _ := openImage(t, "ext4-xattr")
	if p := fs.RootProblem(); p != "" {
		t.Fatal(p)
	}
	res, err := fs.Extract("/", t.TempDir(), ExtractOptions{})
	if err != nil || res.Lost != nil {
		t.Fatalf("%+v, %v", res, err)
	}
	res, err = fs.Extract("/", t.TempDir(), ExtractOptions{Lost: true})
	if err != nil || res.Lost == nil || len(res.Lost.Dirs)+len(res.Lost.Files) != 0 || res.Lost.RootProblem != "" {
		t.Fatalf("--lost on a sound filesystem: %+v, %v", res.Lost, err)
	}
}

// An installer's mkfs that wrote only the start of the device, made with
// the real mke2fs as the incident lab's was: an ext3 made by mke2fs -d
// gets the first blocks of a newer ext4 of the same size up to its root
// inode, and the ext4's first inode-table blocks where they belong (inside
// the old group 0 table). auto must take the old filesystem's backup, say
// the root is lost, leave the ext4's inodes out and extract the files.
func TestUnfinishedMkfsOverOldFilesystem(t *testing.T) {
	if _, err := exec.LookPath("mke2fs"); err != nil {
		t.Skip("mke2fs not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	want := map[string]string{"etc/hostname": "host\n", "etc/lvm/backup/guests": strings.Repeat("guests {}\n", 900), "home/luke/notes": "hi\n"}
	for p, data := range want {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkfs := func(name string, args ...string) []byte {
		img := filepath.Join(dir, name)
		args = append(append([]string{"-q", "-F", "-b", "1024"}, args...), img, "24M")
		if out, err := exec.Command("mke2fs", args...).CombinedOutput(); err != nil {
			t.Fatalf("mke2fs %v: %v\n%s", args, err, out)
		}
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	inodeTable := func(img []byte) int64 {
		fs, err := Open(memDev(img), int64(len(img)), Options{Superblock: SuperblockPrimary})
		if err != nil {
			t.Fatal(err)
		}
		return int64(fs.groups[0].inodeTable) * fs.bs
	}
	old := mkfs("old.img", "-t", "ext3", "-L", "root", "-d", src)
	oldTable := inodeTable(old)
	for _, newer := range [][]string{{"-t", "ext4"}, {"-t", "ext4", "-O", "^metadata_csum"}} {
		t.Run(strings.Join(newer, " "), func(t *testing.T) {
			img := append([]byte(nil), old...)
			n := mkfs("new.img", newer...)
			newTable := inodeTable(n)
			if newTable < oldTable+4096 || newTable+4096 > oldTable+2040*256 {
				t.Skipf("geometry: the newer inode table at %d is not inside the old one's at %d", newTable, oldTable)
			}
			copy(img, n[:oldTable+1024])                                 // up to the old root inode
			copy(img[newTable:newTable+4096], n[newTable:newTable+4096]) // the newer root and lost+found inodes
			fs, err := Open(memDev(img), int64(len(img)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if fs.Choice.Group != 1 || fs.SB.VolumeName != "root" || !strings.Contains(fs.Choice.Why, "mkfs never finished") {
				t.Fatalf("auto chose group %d (%s): %s", fs.Choice.Group, fs.SB.VolumeName, fs.Choice.Why)
			}
			if !strings.Contains(strings.Join(fs.Problems(), "\n"), "the root directory is lost") {
				t.Errorf("problems %q", fs.Problems())
			}
			dest := t.TempDir()
			res, err := fs.Extract("/", dest, ExtractOptions{})
			if err != nil || res.Lost == nil {
				t.Fatalf("%+v, %v", res, err)
			}
			ghosts := map[uint32]bool{}
			for _, f := range res.Lost.Foreign {
				ghosts[f.Theirs] = true
			}
			if !ghosts[RootIno] || !ghosts[11] {
				t.Errorf("the newer root and lost+found are not named as the newer filesystem's: %+v", res.Lost.Foreign)
			}
			got := fixture.TreeSHA256(t, dest)
			for p, data := range want {
				sum := sha256.Sum256([]byte(data))
				found := false
				for q, s := range got {
					_, rest, _ := strings.Cut(q, "/") // below inodeN
					found = found || (s == hex.EncodeToString(sum[:]) && strings.HasSuffix("/"+p, "/"+rest))
				}
				if !found {
					t.Errorf("%s not extracted byte-identical: %v", p, got)
				}
			}
			if len(got) != len(want) {
				t.Errorf("extracted %v", got)
			}
		})
	}
}

// A sound root with one damaged directory: / is extracted as before, and
// the file only that directory named comes back beside it as inodeN.
func TestExtractDamagedDirectoryBringsBackItsFiles(t *testing.T) {
	b, err := os.ReadFile(fixture.SmallExt(t, "ext2"))
	if err != nil {
		t.Fatal(err)
	}
	img := memDev(b)
	fs, err := Open(img, int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := fs.Lookup("/dir")
	if err != nil {
		t.Fatal(err)
	}
	small, err := fs.Lookup("/dir/small")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fs.Map(dir)
	if err != nil {
		t.Fatal(err)
	}
	clear(img[int64(m.Runs[0].Physical)*fs.bs:][:fs.bs])
	dest := t.TempDir()
	res, err := fs.Extract("/", dest, ExtractOptions{})
	if err != nil || res.Lost == nil || res.Lost.RootProblem != "" {
		t.Fatalf("%+v, %v", res, err)
	}
	name := "inode" + strconv.Itoa(int(small.Num))
	if l := res.Lost; l.FilesRecovered != 1 || len(l.Files) != 1 || l.Files[0].ExtractedAs != name {
		t.Fatalf("lost part %+v", l)
	}
	data, err := os.ReadFile(filepath.Join(dest, name))
	if err != nil || len(data) != 40 || data[0] != 'a' {
		t.Errorf("%s: %q, %v", name, data, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "root", "big")); err != nil {
		t.Error(err)
	}
	if len(res.Skipped) == 0 || !strings.Contains(strings.Join(res.Skipped, "\n"), "/dir") {
		t.Errorf("the damaged directory is not listed as skipped: %v", res.Skipped)
	}
}

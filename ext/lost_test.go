package ext

import (
	"os"
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

package ext

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// e2fsckTree repairs a copy of img with the installed e2fsck -fy (which
// also replays the journal) and dumps the whole tree with debugfs rdump:
// what a user with e2fsprogs would recover. It returns the directory
// holding the root's entries.
func e2fsckTree(t *testing.T, img string, e2fsckArgs ...string) string {
	t.Helper()
	for _, tool := range []string{"e2fsck", "debugfs"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	tmp := t.TempDir()
	fixed := filepath.Join(tmp, "fixed.img")
	src, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixed, src, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("e2fsck", append(append([]string{"-fy"}, e2fsckArgs...), fixed)...)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code > 1 {
		t.Fatalf("e2fsck -fy: exit %d, %v\n%s", code, err, out)
	}
	dump := filepath.Join(tmp, "rdump")
	if err := os.Mkdir(dump, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("debugfs", "-R", "rdump / "+dump, fixed).CombinedOutput(); err != nil {
		t.Fatalf("debugfs rdump: %v\n%s", err, out)
	}
	return dump
}

// holmesTree extracts the whole tree with holmes and returns the directory
// holding the root's entries.
func holmesTree(t *testing.T, fsys *FS) (string, *ExtractResult) {
	t.Helper()
	dest := t.TempDir()
	res, err := fsys.Extract("/", dest, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dest, "root"), res
}

// compareTrees checks that got holds what want holds, byte for byte:
// the same names, types, file contents and link targets. Paths in skip
// (relative, slash-separated) are left out on both sides.
func compareTrees(t *testing.T, want, got string, skip func(rel string) bool) int {
	t.Helper()
	list := func(root string) map[string]fs.FileInfo {
		m := map[string]fs.FileInfo{}
		filepath.Walk(root, func(p string, info fs.FileInfo, err error) error {
			if err != nil {
				t.Errorf("walk %s: %v", p, err)
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			if rel != "." && (skip == nil || !skip(filepath.ToSlash(rel))) {
				m[filepath.ToSlash(rel)] = info
			}
			return nil
		})
		return m
	}
	w, g := list(want), list(got)
	var names []string
	for n := range w {
		names = append(names, n)
	}
	for n := range g {
		if _, ok := w[n]; !ok {
			t.Errorf("%s: holmes has it, e2fsck+rdump does not", n)
		}
	}
	sort.Strings(names)
	files := 0
	for _, n := range names {
		wi, gi := w[n], g[n]
		switch {
		case gi == nil:
			t.Errorf("%s: e2fsck+rdump has it, holmes does not", n)
		case wi.Mode().Type() != gi.Mode().Type():
			t.Errorf("%s: type %v, e2fsck+rdump %v", n, gi.Mode().Type(), wi.Mode().Type())
		case wi.Mode().IsRegular():
			a, _ := os.ReadFile(filepath.Join(want, n))
			b, _ := os.ReadFile(filepath.Join(got, n))
			if !bytes.Equal(a, b) {
				t.Errorf("%s: %d bytes differ from e2fsck+rdump's %d", n, len(b), len(a))
			}
			files++
		case wi.Mode()&fs.ModeSymlink != 0:
			a, _ := os.Readlink(filepath.Join(want, n))
			b, _ := os.Readlink(filepath.Join(got, n))
			if a != b {
				t.Errorf("%s: link to %q, e2fsck+rdump %q", n, b, a)
			}
		}
	}
	return files
}

// fixtureFile writes an image of testdata/ext to a file for the e2fsprogs
// tools and returns it with its path.
func fixtureFile(t *testing.T, name string) (memDev, string) {
	t.Helper()
	img := loadImage(t, name)
	p := filepath.Join(t.TempDir(), name+".img")
	if err := os.WriteFile(p, img, 0o400); err != nil {
		t.Fatal(err)
	}
	return img, p
}

// openFixture opens an image of testdata/ext with opts.
func openFixture(t *testing.T, name string, opts Options) (*FS, string) {
	t.Helper()
	img, p := fixtureFile(t, name)
	fsys, err := Open(img, int64(len(img)), opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fsys, p
}

// sameAsE2fsck extracts everything holmes reads from fsys and compares it
// with e2fsck -fy plus debugfs rdump of img.
func sameAsE2fsck(t *testing.T, fsys *FS, img string, skip func(string) bool, e2fsckArgs ...string) *ExtractResult {
	t.Helper()
	want := e2fsckTree(t, img, e2fsckArgs...)
	got, res := holmesTree(t, fsys)
	if n := compareTrees(t, want, got, skip); n < 3 {
		t.Errorf("only %d files compared", n)
	}
	return res
}

// Old mke2fs wrote s_block_group_nr 0 into every backup. With the primary
// zeroed, auto takes such a copy where a backup belongs when the other
// copies agree, and --superblock 8193 takes it as debugfs -s 8193 does.
func TestOldStyleBackupsMatchE2fsck(t *testing.T) {
	fixture.SkipComparisonInShort(t, "e2fsck")
	fsys, img := openFixture(t, "ext3-oldbackup", Options{})
	if fsys.Choice.Group != 1 || !fsys.SB.GroupFromPlace || !strings.Contains(fsys.Choice.Why, "old mke2fs") {
		t.Fatalf("auto chose group %d: %s", fsys.Choice.Group, fsys.Choice.Why)
	}
	sameAsE2fsck(t, fsys, img, nil)
	byBlock, _ := openFixture(t, "ext3-oldbackup", Options{Superblock: 8193})
	if byBlock.Choice.Group != 1 || byBlock.Choice.Used != 8193*1024 {
		t.Fatalf("--superblock 8193: group %d at %d", byBlock.Choice.Group, byBlock.Choice.Used)
	}
	sameAsE2fsck(t, byBlock, img, nil)
	// A group-0 copy where no backup belongs is still refused by block.
	if _, err := Open(loadImage(t, "ext3-oldbackup"), 64<<20, Options{Superblock: 8194}); err == nil {
		t.Fatal("block 8194 holds no superblock")
	}
}

func TestBigallocMatchesE2fsck(t *testing.T) {
	fixture.SkipComparisonInShort(t, "e2fsck")
	for _, name := range []string{"ext4-bigalloc", "ext4-bigalloc-1k"} {
		t.Run(name, func(t *testing.T) {
			fixture.SkipUnlessRepresentative(t, name, "ext4-bigalloc-1k")
			fsys, img := openFixture(t, name, Options{})
			if !fsys.SB.IsBigalloc() || fsys.SB.ClusterSize() != 16384 {
				t.Fatalf("features %v, cluster %d", fsys.SB.Features(), fsys.SB.ClusterSize())
			}
			sameAsE2fsck(t, fsys, img, nil)
		})
	}
	// 1 KiB blocks: group 0 starts at block 0, its superblock is block 1;
	// with the primary gone, the backup in group 1 reads the same.
	intact, _ := openFixture(t, "ext4-bigalloc-1k", Options{})
	img := loadImage(t, "ext4-bigalloc-1k")
	clear(img[1024:3072])
	fsys, err := Open(img, int64(len(img)), Options{})
	if err != nil || fsys.Choice.Group != 1 {
		t.Fatalf("primary gone: %v", err)
	}
	for _, p := range []string{"/data/frag.bin", "/home/user/notes.txt"} {
		if got, want := fileSHA(t, fsys, p), fileSHA(t, intact, p); got != want {
			t.Errorf("%s via the backup: %s, intact %s", p, got, want)
		}
	}
}

// The primary descriptor table puts group 0's inode table outside the
// filesystem; the backup tables hold the right one. Both auto and the
// primary superblock take group 0's descriptor from group 1's table and
// say so, and read what e2fsck (which falls back the same way) repairs.
func TestBadDescriptorsMatchE2fsck(t *testing.T) {
	fixture.SkipComparisonInShort(t, "e2fsck")
	for _, opts := range []Options{{}, {Superblock: SuperblockPrimary}} {
		fsys, img := openFixture(t, "ext4-baddesc", opts)
		if fsys.Choice.Group != 0 || len(fsys.DescriptorChoices) != 1 {
			t.Fatalf("superblock group %d, descriptor choices %v", fsys.Choice.Group, fsys.DescriptorChoices)
		}
		d := fsys.DescriptorChoices[0]
		if d.Group != 0 || d.Block != 8194 || !strings.Contains(d.Why, "inode table at block 40000") {
			t.Fatalf("choice %+v", d)
		}
		if p := strings.Join(fsys.Problems(), "; "); !strings.Contains(p, "group 0 descriptor taken from the backup table in group 1") {
			t.Fatalf("problems: %s", p)
		}
		sameAsE2fsck(t, fsys, img, nil)
	}
}

// Casefolded directories list names as stored and are looked up ignoring
// case, as the kernel does; their files read like e2fsck + rdump.
func TestCasefoldMatchesE2fsck(t *testing.T) {
	fsys, img := openFixture(t, "ext4-casefold", Options{})
	ci, err := fsys.Lookup("/ci")
	if err != nil || !ci.IsCasefolded() {
		t.Fatalf("/ci: %v, flags %#x", err, ci.Flags)
	}
	for _, p := range []string{"/ci/README.txt", "/ci/école", "/ci-many/NAME-399.TXT"} {
		if _, err := fsys.Lookup(p); err != nil {
			t.Errorf("case-insensitive lookup: %v", err)
		}
	}
	if _, err := fsys.Lookup("/ETC/hostname"); err == nil {
		t.Error("the root is not casefolded: /ETC must not be found")
	}
	entries, _ := fsys.ReadDir(ci)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "Readme.TXT") || !strings.Contains(got, "Straße") || !strings.Contains(got, "ÉCOLE") {
		t.Fatalf("names as stored: %s", got)
	}
	sameAsE2fsck(t, fsys, img, nil)
}

// Encrypted directories (the encrypt flag and an fscrypt context, set with
// debugfs: this kernel has no fscrypt) are listed with their names marked
// as ciphertext and never extracted as if readable; everything else reads
// like e2fsck + rdump.
func TestEncryptedMatchesE2fsck(t *testing.T) {
	fixture.SkipComparisonInShort(t, "e2fsck")
	fsys, img := openFixture(t, "ext4-encrypt", Options{})
	vault, err := fsys.Lookup("/vault")
	if err != nil || !vault.IsEncrypted() {
		t.Fatalf("/vault: %v", err)
	}
	entries, err := fsys.ReadDir(vault)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("debugfs", "-R", "ls -l /vault", img).Output()
	if err != nil {
		t.Skip("debugfs not installed")
	}
	want := strings.Count(string(out), "<encrypted (")
	got := 0
	for _, e := range entries {
		if e.Encrypted {
			got++
			if !strings.HasPrefix(e.Name, "_") || strings.ContainsFunc(e.Name, func(r rune) bool { return r > 127 }) {
				t.Errorf("encrypted name shown as %q", e.Name)
			}
			in, err := fsys.Inode(e.Inode)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fsys.Reader(in); !in.IsDir() && (err == nil || !strings.Contains(err.Error(), "encrypted")) {
				t.Errorf("%s: encrypted contents read: %v", e.Name, err)
			}
			if _, err := fsys.Lookup("/vault/" + e.Name); err != nil {
				t.Errorf("the no-key name does not look up: %v", err)
			}
		}
	}
	if got != want || want < 4 {
		t.Fatalf("%d encrypted names, debugfs lists %d", got, want)
	}
	res := sameAsE2fsck(t, fsys, img, func(rel string) bool { return rel == "vault" || strings.HasPrefix(rel, "vault/") })
	if s := strings.Join(res.Skipped, "\n"); !strings.Contains(s, "/vault: directory encrypted") {
		t.Fatalf("skipped: %s", s)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"holmes/internal/fixture"
)

func extImage(t *testing.T, name string) string {
	t.Helper()
	return fixture.Unpack(t, fixture.Repo(t, "testdata/ext/"+name+".img.xz"))
}

// recordedListings splits the recorded "debugfs: ls -l DIR" output by directory.
func recordedListings(t *testing.T, name string) map[string][]string {
	t.Helper()
	f, err := os.Open(fixture.Repo(t, "testdata/ext/"+name+".ls.txt.xz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := xz.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, part := range strings.Split(string(b), "debugfs: ls -l ")[1:] {
		dir, body, _ := strings.Cut(part, "\n")
		// debugfs also prints the empty entry that starts an htree index
		// block (inode 0); it names nothing, so holmes leaves it out.
		var lines []string
		for _, l := range nonEmptyLines(body) {
			if !strings.HasPrefix(l, "      0       0 (0)") {
				lines = append(lines, l)
			}
		}
		out[dir] = lines
	}
	return out
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestExtLsMatchesDebugfs(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ext2-1k", "ext4", "ext4-inline"} {
		if fixture.LeftOutOfShort(name, "ext4") {
			continue
		}
		img := extImage(t, name)
		listings := recordedListings(t, name)
		if len(listings) < 8 {
			t.Fatalf("%s: %d listings recorded", name, len(listings))
		}
		for dir, want := range listings {
			var out, errOut string
			var code int
			if dir == "/" {
				out, errOut, code = holmes(t, "ext", "ls", img, dir) // proves ls leaves the image alone
			} else {
				out, errOut, code = runQuiet("ext", "ls", img, dir) // the same command path, without hashing 96 MiB twice per directory
			}
			if code != 0 {
				t.Fatalf("%s ls %s: exit %d: %s", name, dir, code, errOut)
			}
			if got := nonEmptyLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s ls %s differs from debugfs ls -l (%d vs %d lines)\nholmes: %q\ndebugfs: %q", name, dir, len(got), len(want), first(got), first(want))
			}
		}
	}
}

// runQuiet runs a command line in-process like holmes() but without
// hashing the inputs; only for repeats of a command holmes() already ran.
func runQuiet(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func first(l []string) []string { return l[:min(len(l), 4)] }

func TestExtDamagedFindAndInfo(t *testing.T) {
	t.Parallel()
	img := extImage(t, "ext3-damaged")
	out, errOut, code := holmes(t, "ext", "find", img, "--name", "guests")
	if code != 0 || out != "#12/lvm/backup/guests\n" {
		t.Fatalf("find: exit %d, %q, %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "directory inode 2") {
		t.Errorf("the destroyed root directory should be warned about: %q", errOut)
	}
	out, _, code = holmes(t, "ext", "cat", img, "#12/lvm/backup/guests")
	if code != 0 || !strings.Contains(out, `id = "BuBSom-hBzG-n8o3-V2X9-9Zhp-Ymze-ltP3Ys"`) {
		t.Fatalf("cat: exit %d: %q", code, out)
	}
	out, _, code = holmes(t, "--json", "ext", "info", img)
	var info struct {
		Group      int    `json:"superblock_group"`
		Why        string `json:"why"`
		Candidates []struct {
			Group int    `json:"group"`
			UUID  string `json:"uuid"`
		} `json:"candidates"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil {
		t.Fatalf("info: exit %d: %s", code, out)
	}
	if info.Group != 1 || len(info.Candidates) != 3 || info.Candidates[0].UUID == info.Candidates[1].UUID {
		t.Fatalf("info: %+v", info)
	}
	out, _, code = holmes(t, "--json", "ext", "orphans", img)
	if code != 0 || !strings.Contains(out, `"path": "#12"`) {
		t.Fatalf("orphans: exit %d: %s", code, out)
	}
	out, _, code = holmes(t, "ext", "ls", img, "<14>", "--superblock", "16384")
	if code != 0 || !strings.Contains(out, " backup\n") {
		t.Fatalf("ls <14> with the backup named by block: exit %d: %q", code, out)
	}
	_, errOut, code = holmes(t, "ext", "ls", img, "/etc", "--superblock", "primary")
	if code != 1 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("primary is the newer mkfs: want one-line error, got exit %d %q", code, errOut)
	}
}

func TestExtExtract(t *testing.T) {
	t.Parallel()
	img := extImage(t, "ext3-damaged")
	dest := t.TempDir()
	out, errOut, code := holmes(t, "ext", "extract", img, "#12", dest)
	if code != 0 {
		t.Fatalf("extract: exit %d: %s %s", code, out, errOut)
	}
	guests := filepath.Join(dest, "inode12", "lvm", "backup", "guests")
	st, err := os.Stat(guests)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || !st.ModTime().Equal(time.Date(2023, 11, 14, 13, 13, 20, 0, time.UTC)) {
		t.Fatalf("guests: mode %v mtime %v", st.Mode(), st.ModTime())
	}
	// Extracting again never overwrites.
	if _, _, code := holmes(t, "ext", "extract", img, "#12", dest); code == 0 {
		t.Fatal("second extract into the same place should fail, not overwrite")
	}

	img4 := extImage(t, "ext4")
	dest4 := t.TempDir()
	if _, errOut, code := holmes(t, "ext", "extract", img4, "/links", dest4); code != 0 {
		t.Fatalf("extract /links: %s", errOut)
	}
	if target, err := os.Readlink(filepath.Join(dest4, "links", "slow")); err != nil || !strings.HasPrefix(target, "/very/long/target") {
		t.Fatalf("slow symlink: %q %v", target, err)
	}
	if _, errOut, code := holmes(t, "ext", "extract", img4, "/data/huge.bin", dest4); code != 0 {
		t.Fatalf("extract huge.bin: %s", errOut)
	}
	if st, err := os.Stat(filepath.Join(dest4, "huge.bin")); err != nil || st.Size() != 5368709146 {
		t.Fatalf("huge.bin: %v %v", st, err)
	}

	// The destination may not be the input itself.
	if _, errOut, code := holmes(t, "ext", "extract", img4, "/etc", img4); code != 2 || !strings.Contains(errOut, "is the input") {
		t.Fatalf("extract into the image: exit %d %q", code, errOut)
	}
}

func TestExtErrors(t *testing.T) {
	t.Parallel()
	img := extImage(t, "ext4")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"ext", "stat", img, "/nope"}, 1, "/nope: not found"},
		{[]string{"ext", "cat", img, "/etc"}, 1, "is a directory"},
		{[]string{"ext", "ls", img, "etc"}, 1, "paths start with / or #INODE"},
		{[]string{"ext", "info", img, "--superblock", "sideways"}, 2, "want auto, primary"},
		{[]string{"ext", "info", fixture.Repo(t, "testdata/ext/ext4.sha256")}, 1, "no superblock"},
	} {
		_, errOut, code := holmes(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.msg)
		}
	}
	out, _, code := holmes(t, "ext", "cat", img, "/etc/hostname")
	if code != 0 || out != "holmes\n" {
		t.Fatalf("cat hostname: %q", out)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// lostRootJSON is what ext extract --json says of a filesystem whose root
// is lost.
type lostRootJSON struct {
	Files   int      `json:"files"`
	Skipped []string `json:"skipped"`
	Lost    *struct {
		RootProblem string `json:"root_problem"`
		Dirs        []struct {
			Inode       uint32 `json:"inode"`
			ExtractedAs string `json:"extracted_as"`
			Problem     string `json:"problem"`
		} `json:"dirs"`
		Files []struct {
			Inode       uint32 `json:"inode"`
			ExtractedAs string `json:"extracted_as"`
			Problem     string `json:"problem"`
		} `json:"files"`
		Foreign []struct {
			Inode  uint32 `json:"inode"`
			Theirs uint32 `json:"their_inode"`
		} `json:"foreign_inodes"`
		JournalProblem string `json:"journal_problem"`
		DirsRead       int    `json:"dirs_read"`
		DirsUnreadable int    `json:"dirs_unreadable"`
		FilesRecovered int    `json:"files_recovered"`
		FilesFailed    int    `json:"files_failed"`
	} `json:"lost"`
}

// TestIncidentLostRoot is issue 12's root filesystem: the installer's mkfs
// overwrote group 0 of the old ext3 (its root directory, inode table and
// journal inode) on every raid1 member. holmes must open the old
// filesystem from its backup superblock by itself, say its root is lost,
// and extract everything still reachable as inodeN: every file of the
// record whose bytes the installer did not overwrite comes back
// byte-identical; the ones it did are named.
func TestIncidentLostRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a 64 MiB disk")
	}
	r := loadIncident(t)
	dev := incidentDev(t, "d0.img.xz:p1")
	uuid := recordedRootUUID(t)

	for _, sb := range []string{"auto", "8193"} {
		out, stderr, code := holmes(t, "ext", "info", "--json", "--superblock", sb, dev)
		if code != 0 {
			t.Fatalf("ext info --superblock %s: exit %d: %s", sb, code, stderr)
		}
		var info struct {
			Group    int      `json:"superblock_group"`
			UUID     string   `json:"uuid"`
			Why      string   `json:"why"`
			Problems []string `json:"problems"`
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatal(err)
		}
		if info.Group != 1 || info.UUID != uuid || !strings.Contains(strings.Join(info.Problems, "\n"), "the root directory is lost") {
			t.Errorf("ext info --superblock %s: group %d, uuid %s (the old root is %s), problems %q", sb, info.Group, info.UUID, uuid, info.Problems)
		}
		if sb == "auto" && !strings.Contains(info.Why, "mkfs never finished") {
			t.Errorf("auto does not say why the primary lost: %s", info.Why)
		}
	}

	dest := filepath.Join(t.TempDir(), "out")
	out, stderr, code := holmes(t, "ext", "extract", "--json", dev, "/", dest)
	if code != 0 {
		t.Fatalf("ext extract: exit %d: %s", code, stderr)
	}
	var res lostRootJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	l := res.Lost
	if l == nil || l.RootProblem == "" {
		t.Fatalf("no lost-root recovery in %s", out)
	}
	got := fixture.TreeBySHA256(t, dest)

	// What the installer overwrote of each file, from the record.
	overwritten := map[string]fixture.IncidentTouch{}
	for _, w := range r.InstallerWrites {
		if w.Device != "d0.img.xz:p1" {
			continue
		}
		for _, touch := range w.Touches {
			if touch.Path != "" && touch.What == "file" {
				overwritten[touch.Path] = touch
			}
		}
	}
	if len(overwritten) == 0 {
		t.Fatal("the record says the installer overwrote no file of the root")
	}
	back, lost := 0, []string{}
	for path, f := range r.Files["root"] {
		where, ok := got[f.SHA256]
		if touch, hit := overwritten[path]; hit {
			// The inode survives: the file comes back with its size, as
			// inodeN, with the installer's bytes where it wrote.
			name := fmt.Sprintf("inode%d", touch.Inode)
			st, err := os.Stat(filepath.Join(dest, name))
			if ok || err != nil || st.Size() != f.Size {
				t.Errorf("%s (overwritten at %d-%d): byte-identical %v, %s: %v", path, *touch.Offset, touch.End, ok, name, err)
			}
			lost = append(lost, fmt.Sprintf("%s (bytes %d-%d overwritten)", path, *touch.Offset, touch.End))
			continue
		}
		if !ok {
			t.Errorf("%s (%d bytes): not extracted byte-identical", path, f.Size)
			continue
		}
		// Under its directory's #INODE, with the names below it intact.
		top, rest, _ := strings.Cut(where, "/")
		if !regexp.MustCompile(`^inode\d+$`).MatchString(top) || (rest != "" && !strings.HasSuffix(path, "/"+rest)) {
			t.Errorf("%s came back as %s", path, where)
		}
		back++
	}
	t.Logf("%d of %d files of the old root came back byte-identical; lost: %s", back, len(r.Files["root"]), strings.Join(lost, ", "))

	// The summary counts what came back and what did not, and every
	// unreadable lost directory is also listed as skipped.
	if l.DirsRead != 4 || l.DirsUnreadable != 8 || l.FilesRecovered != 3 || l.FilesFailed != 0 ||
		len(res.Skipped) != l.DirsUnreadable+l.FilesFailed || res.Files != back+len(lost) {
		t.Errorf("summary: %d dirs read, %d unreadable, %d files recovered, %d failed, %d skipped, %d files",
			l.DirsRead, l.DirsUnreadable, l.FilesRecovered, l.FilesFailed, len(res.Skipped), res.Files)
	}
	for _, d := range l.Dirs {
		if d.ExtractedAs == "" {
			t.Errorf("lost directory #%d not extracted: %s", d.Inode, d.Problem)
		}
	}
	// The installer's own inodes (its root, lost+found, resize inode and
	// journal, now in the old group 0 table) are named, not extracted.
	if len(l.Foreign) != 4 || l.Foreign[0].Inode != 402 || l.Foreign[0].Theirs != 2 || l.JournalProblem == "" {
		t.Errorf("foreign inodes %+v, journal problem %q", l.Foreign, l.JournalProblem)
	}

	// find and ls see the lost directories; ls / says the root is lost.
	out, _, code = holmes(t, "ext", "find", dev)
	if code != 0 || !strings.Contains(out, "#2041/lvm/backup/guests\n") || strings.Contains(out, "#402") {
		t.Errorf("ext find: exit %d:\n%s", code, out)
	}
	if _, stderr, code := holmes(t, "ext", "ls", dev, "/"); code != 1 || !strings.Contains(stderr, "the root directory is lost") {
		t.Errorf("ext ls /: exit %d: %s", code, stderr)
	}
	if out, _, code := holmes(t, "ext", "ls", dev, "#2041/lvm"); code != 0 || !strings.Contains(out, " backup\n") {
		t.Errorf("ext ls #2041/lvm: exit %d:\n%s", code, out)
	}

	compareWithE2fsck(t, dev, dest, l.Foreign)
}

// compareWithE2fsck runs the real e2fsck -fy from the same backup
// superblock on a copy of the filesystem and reads its lost+found with
// debugfs: every entry #N there is holmes's inodeN with the same bytes,
// or one of the inodes holmes names as the newer filesystem's.
func compareWithE2fsck(t *testing.T, dev, dest string, foreign []struct {
	Inode  uint32 `json:"inode"`
	Theirs uint32 `json:"their_inode"`
}) {
	e2fsck, err1 := exec.LookPath("e2fsck")
	debugfs, err2 := exec.LookPath("debugfs")
	if err1 != nil || err2 != nil {
		t.Log("e2fsck or debugfs not installed: no comparison")
		return
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "root.img")
	stdout, stderr, code := holmes(t, "dump", dev)
	if code != 0 {
		t.Fatalf("dump: %s", stderr)
	}
	if err := os.WriteFile(img, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(e2fsck, "-fy", "-b", "8193", "-B", "1024", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 2 {
			t.Fatalf("e2fsck: %v\n%s", err, out)
		}
	}
	rd := filepath.Join(dir, "rdump")
	if err := os.Mkdir(rd, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(debugfs, "-R", "rdump /lost+found "+rd, img).CombinedOutput(); err != nil {
		t.Fatalf("debugfs rdump: %v\n%s", err, out)
	}
	theirs := fixture.TreeSHA256(t, filepath.Join(rd, "lost+found"))
	mine := fixture.TreeSHA256(t, dest)
	isForeign := map[string]bool{}
	for _, f := range foreign {
		isForeign[fmt.Sprintf("#%d", f.Inode)] = true
	}
	compared := 0
	for p, sum := range theirs {
		top, rest, _ := strings.Cut(p, "/")
		if isForeign[top] {
			continue
		}
		mp := "inode" + strings.TrimPrefix(top, "#")
		if rest != "" {
			mp += "/" + rest
		}
		if mine[mp] != sum {
			t.Errorf("e2fsck's lost+found/%s: holmes's %s differs or is missing", p, mp)
		}
		compared++
	}
	t.Logf("%d files of e2fsck's lost+found compared", compared)
	if compared != len(mine) {
		t.Errorf("e2fsck recovered %d files holmes has, holmes extracted %d", compared, len(mine))
	}
}

// recordedRootUUID is the old root filesystem's UUID, from the dumpe2fs
// the lab recorded before the installer.
func recordedRootUUID(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(fixture.Repo(t, "testdata/incident/record/original-root.dumpe2fs-h.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Filesystem UUID:\s+(\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no UUID in the recorded dumpe2fs")
	}
	return string(m[1])
}

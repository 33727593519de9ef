package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// TestExtLsDeletedMatchesDebugfs removes files with the real debugfs -w
// from a copy of a fixture and compares ls -d with debugfs ls -d -l. The
// only difference allowed: holmes shows the inode a deleted entry last
// named where debugfs prints 0.
func TestExtLsDeletedMatchesDebugfs(t *testing.T) {
	fixture.SkipComparisonInShort(t, "debugfs")
	t.Parallel()
	if _, err := exec.LookPath("debugfs"); err != nil {
		t.Skip("debugfs not installed")
	}
	stale := regexp.MustCompile(`^<\s*\d+>`)
	for _, name := range []string{"ext4", "ext2-1k"} {
		if fixture.LeftOutOfShort(name, "ext4") {
			continue
		}
		src, err := os.ReadFile(extImage(t, name))
		if err != nil {
			t.Fatal(err)
		}
		img := filepath.Join(t.TempDir(), name+".img")
		if err := os.WriteFile(img, src, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/etc/hostname", "/etc/lvm/archive/guests_00011.vg", "/dir5000/file-with-a-longish-name-1234", "/home/user/tiny.txt"} {
			if out, err := exec.Command("debugfs", "-w", "-R", "rm "+p, img).CombinedOutput(); err != nil {
				t.Fatalf("debugfs rm %s: %v %s", p, err, out)
			}
		}
		for _, dir := range []string{"/etc", "/etc/lvm/archive", "/dir5000", "/home/user"} {
			cmd := exec.Command("debugfs", "-R", "ls -d -l "+dir, img)
			cmd.Env = append(os.Environ(), "TZ=UTC")
			want, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			got, errOut, code := holmes(t, "ext", "ls", "-d", img, dir)
			if code != 0 {
				t.Fatalf("ls -d %s: %s", dir, errOut)
			}
			var wantLines, gotLines []string
			for _, l := range nonEmptyLines(string(want)) {
				if !strings.HasPrefix(l, "      0       0 (0)") {
					wantLines = append(wantLines, l)
				}
			}
			for _, l := range nonEmptyLines(got) {
				gotLines = append(gotLines, stale.ReplaceAllString(l, "<     0>"))
			}
			if strings.Join(gotLines, "\n") != strings.Join(wantLines, "\n") {
				t.Errorf("%s ls -d %s:\nholmes:\n%s\ndebugfs:\n%s", name, dir, strings.Join(gotLines, "\n"), strings.Join(wantLines, "\n"))
			}
		}
	}
}

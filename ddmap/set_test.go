package ddmap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/blockdev"
)

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSetAppliesTheMapWhereverTheImageIsOpened(t *testing.T) {
	dir := t.TempDir()
	img := writeFile(t, filepath.Join(dir, "disk.img"), strings.Repeat("x", 8192))
	m := writeFile(t, filepath.Join(dir, "disk.map"), "0 + 1\n0 1024 +\n1024 512 -\n1536 2560 +\n")
	var s Set
	if err := s.Add(img, m); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(filepath.Join(dir, ".", "disk.img"), m); err != nil {
		t.Errorf("the same pair twice: %v", err)
	}
	other := writeFile(t, filepath.Join(dir, "other.map"), "0 + 1\n0 8192 +\n")
	if err := s.Add(img, other); err == nil || !strings.Contains(err.Error(), "two ddrescue mapfiles") {
		t.Errorf("a second mapfile for the image: %v", err)
	}
	if s.Opened(img) {
		t.Error("opened before it was")
	}
	// Opened as a range of the image, spelled another way.
	t.Chdir(dir)
	d, err := blockdev.Open("./disk.img@512", &s)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !s.Opened(img) {
		t.Error("the image opened through the set is not marked opened")
	}
	p := make([]byte, 1024)
	n, err := d.ReadAt(p, 0)
	u, ok := blockdev.AsUnreadable(err)
	if n != 512 || !ok || u.Off != 1024 || u.Len != 512 || u.Why != "bad sector in ddrescue mapfile "+m {
		t.Fatalf("read over the bad sector: %d, %v", n, err)
	}
	// Past the map's end (4096) nothing was rescued.
	if _, err := d.ReadAt(p, 4000); err == nil || !strings.Contains(err.Error(), "not in ddrescue mapfile") {
		t.Errorf("read past the map's end: %v", err)
	}
}

func TestSetRefusesAMapLargerThanItsImage(t *testing.T) {
	dir := t.TempDir()
	img := writeFile(t, filepath.Join(dir, "disk.img"), strings.Repeat("x", 1000))
	m := writeFile(t, filepath.Join(dir, "disk.map"), "0 + 1\n0 4096 +\n")
	var s Set
	if err := s.Add(img, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenFile(img); err == nil || !strings.Contains(err.Error(), "describes 4096 bytes, the image holds 1000") {
		t.Errorf("map larger than the image: %v", err)
	}
	if err := s.Add(filepath.Join(dir, "nothing.img"), m); err == nil || !strings.Contains(err.Error(), "nothing.img") {
		t.Errorf("map for a missing image: %v", err)
	}
	bad := writeFile(t, filepath.Join(dir, "bad.map"), "0 + 1\n0 100 +\n200 100 +\n")
	var s2 Set
	if err := s2.Add(img, bad); err == nil || !strings.Contains(err.Error(), "bad.map: line 3: gap") {
		t.Errorf("bad mapfile: %v", err)
	}
}

package safewrite

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutputsNeverGoOverEvidence(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	os.WriteFile(img, []byte("evidence"), 0o444)
	manifest := Kind{"a manifest", func(p []byte) bool { return strings.HasPrefix(string(p), "manifest") }}
	for _, c := range []struct {
		path   string
		inputs []string
		kind   Kind
		want   string // "" = allowed
	}{
		{filepath.Join(dir, "new.txt"), []string{img}, Kind{}, ""},
		{dir, []string{img}, Kind{}, ""},
		{img, []string{img + ":p2"}, Kind{}, "is the input " + img + ":p2"},
		{filepath.Join(img, "x"), []string{img + "@1M+4K"}, Kind{}, "is the input"},
		{img, nil, Kind{}, "exists; not overwriting it"},
		{img, nil, manifest, "exists and is not a manifest; not overwriting it"},
	} {
		err := Check(c.path, c.inputs, c.kind)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Check(%s, %v): %v; want %q", c.path, c.inputs, err, c.want)
		}
	}

	out := filepath.Join(dir, "out.manifest")
	for _, data := range []string{"manifest 1", "manifest 1", "manifest 2"} {
		if err := WriteFile(out, []byte(data), []string{img}, manifest); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(out); string(b) != data {
			t.Fatalf("%s holds %q, want %q", out, b, data)
		}
	}
	if err := WriteFile(img, []byte("manifest"), nil, manifest); err == nil {
		t.Error("WriteFile replaced a file that is not of its kind")
	}
	if err := WriteFile(out, []byte("other"), nil, Kind{}); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("WriteFile over a file with other content: %v", err)
	}
	if b, _ := os.ReadFile(img); string(b) != "evidence" {
		t.Error("the evidence changed")
	}
}

// TestReplaceKeepsTheOldFileOnFailure: a write or a last check that fails
// leaves the file as it was and no temporary file beside it; one that
// succeeds replaces it whole.
func TestReplaceKeepsTheOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("cut off")
	writeNew := func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }
	if err := Replace(path, func(w io.Writer) error { w.Write([]byte("ne")); return failed }, nil); !errors.Is(err, failed) {
		t.Fatalf("failing write: %v", err)
	}
	if err := Replace(path, writeNew, func() error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("failing last check: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("after failures the file holds %q", b)
	}
	if err := Replace(path, writeNew, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("after the write the file holds %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

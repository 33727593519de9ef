package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/ext"
	"holmes/internal/extgap"
	"holmes/internal/fixture"
)

// gappedExt copies the small real ext4 image (mke2fs and debugfs made it)
// and writes a ddrescue mapfile for the copy whose one gap is 700 bytes of
// /big's data, at /big's offset 4196. It returns the image, the map and
// the gap's offset in the image and in /big.
func gappedExt(t *testing.T) (img, mapfile string, at, fileAt int64) {
	t.Helper()
	fileAt = 4196 // in /big's fifth 1 KiB block
	src, at := extgap.BigAt(t, fileAt)
	dir := t.TempDir()
	img, mapfile = filepath.Join(dir, "disk.img"), filepath.Join(dir, "disk.map")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, data, 0o444); err != nil {
		t.Fatal(err)
	}
	fixture.WriteMapfile(t, mapfile, int64(len(data)), [2]int64{at, 700})
	return img, mapfile, at, fileAt
}

// With --map, every consumer of a gap reports it apart from the rest:
// compare and hash list it as unreadable, trace takes it to /big, and
// ext extract writes /big with the gap a hole, names it damaged and
// exits 4.
func TestMapGapsReportedByEveryCommand(t *testing.T) {
	img, mapfile, at, fileAt := gappedExt(t)
	mapFlag := "--map=" + img + "=" + mapfile
	whole := fixture.SmallExt(t, "ext4")

	out, stderr, code := holmes(t, mapFlag, "compare", img, whole, "--json")
	var cmp struct {
		DiffBytes  int64 `json:"diff_bytes"`
		Unreadable []struct {
			Device     string
			Start, End int64
		} `json:"unreadable"`
		UnreadableBytes int64 `json:"unreadable_bytes"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &cmp) != nil {
		t.Fatalf("compare: exit %d, %s %s", code, out, stderr)
	}
	if cmp.DiffBytes != 0 || cmp.UnreadableBytes != 700 || len(cmp.Unreadable) != 1 || cmp.Unreadable[0].Start != at || cmp.Unreadable[0].End != at+700 {
		t.Errorf("compare: %+v, want the gap %d+700 unreadable and nothing differing", cmp, at)
	}

	out, _, code = holmes(t, mapFlag, "hash", "--block-size", "64K", img)
	if code != 0 || !strings.Contains(out, " unreadable ") || strings.Count(out, " unreadable ") != 1 {
		t.Errorf("hash: exit %d, want one unreadable piece:\n%s", code, out)
	}

	out, _, code = holmes(t, mapFlag, "trace", img, "--json")
	var holes []struct {
		Offset, Length int64
		Steps          []struct {
			Path       string `json:"path"`
			FileOffset int64  `json:"file_offset"`
			Length     int64  `json:"length"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &holes) != nil || len(holes) != 1 {
		t.Fatalf("trace: exit %d:\n%s", code, out)
	}
	found := false
	for _, s := range holes[0].Steps {
		found = found || (s.Path == "/big" && s.FileOffset == fileAt && s.Length == 700)
	}
	if holes[0].Offset != at || !found {
		t.Errorf("trace: %+v, want /big @ %d+700", holes, fileAt)
	}

	dest := filepath.Join(t.TempDir(), "out")
	out, stderr, code = holmes(t, mapFlag, "ext", "extract", img, "/", dest, "--json")
	var res ext.ExtractResult
	if code != 4 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("ext extract: exit %d (want 4):\n%s\n%s", code, out, stderr)
	}
	if len(res.Damaged) != 1 || res.Damaged[0].Path != "/big" || res.Damaged[0].Lost[0] != (ext.ByteRange{Start: fileAt, End: fileAt + 700}) {
		t.Errorf("ext extract: damaged %+v", res.Damaged)
	}
	if want := "damaged: /big: 700 of 102400 bytes unreadable, left as holes: bytes 4196-4895"; !strings.Contains(stderr, want) {
		t.Errorf("ext extract: stderr %q lacks %q", stderr, want)
	}
	// Without the map the same image extracts as before: exit 0.
	if _, stderr, code := holmes(t, "ext", "extract", img, "/", filepath.Join(t.TempDir(), "out")); code != 0 {
		t.Errorf("ext extract without --map: exit %d, %s", code, stderr)
	}
}

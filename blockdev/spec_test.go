package blockdev

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "1K": 1024, "2M": 2 << 20, "1G": 1 << 30,
		"1T": 1 << 40, "8s": 4096, "3KiB": 3072, "0x200": 512} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1X", "K", "99999999999T"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestOpenRanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "img@odd:p1name") // '@' and ':p' in a real file name
	data := bytes.Repeat([]byte("0123456789abcdef"), 256)
	if err := os.WriteFile(path, data, 0o444); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path, nil)
	if err != nil || d.Size() != int64(len(data)) {
		t.Fatalf("Open(%q): %v", path, err)
	}
	d.Close()

	for spec, want := range map[string][]byte{
		path + "@16":      data[16:],
		path + "@1s+16":   data[512:528],
		path + "@1K+0x10": data[1024:1040],
	} {
		d, err := Open(spec, nil)
		if err != nil {
			t.Fatalf("Open(%q): %v", spec, err)
		}
		got, err := io.ReadAll(io.NewSectionReader(d, 0, d.Size()+10))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Open(%q) reads %d bytes (%v), want %d", spec, len(got), err, len(want))
		}
		d.Close()
	}
	for spec, msg := range map[string]string{
		path + "@5000":     "past the end",
		path + "@4000+200": "past the end",
		dir:                "is a directory",
		dir + "/missing":   "no such file",
		path + ":p1":       "partition", // no partition table in the image
		path + "@1Q":       "not a byte range",
	} {
		if _, err := Open(spec, nil); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Open(%q) error %v, want it to say %q", spec, err, msg)
		}
	}
}

func TestPaths(t *testing.T) {
	for spec, want := range map[string][]string{
		"disk.img":          {"disk.img"},
		"disk.img:p2":       {"disk.img:p2", "disk.img"},
		"disk.img@1M+4M":    {"disk.img@1M+4M", "disk.img"},
		"disk.img:p2@1M+4M": {"disk.img:p2@1M+4M", "disk.img:p2", "disk.img"},
	} {
		if got := Paths(spec); !reflect.DeepEqual(got, want) {
			t.Errorf("Paths(%q) = %q, want %q", spec, got, want)
		}
	}
}

// SplitSpec is the one DEV-name parser: the base is the longest prefix that
// names a file, so names holding ':' or '@' survive; without a file every
// suffix comes off (a name for the resolver).
func TestSplitSpec(t *testing.T) {
	files := map[string]bool{"disk:1.img": true, "a@b.img": true, "x.img@1M": true}
	exists := func(p string) bool { return files[p] }
	for spec, want := range map[string][2]string{
		"disk:1.img:p1":     {"disk:1.img", ":p1"},
		"disk:1.img:p1@1M":  {"disk:1.img", ":p1@1M"},
		"a@b.img@4K+1K":     {"a@b.img", "@4K+1K"},
		"x.img@1M":          {"x.img@1M", ""},
		"vg/lv:p1":          {"vg/lv", ":p1"},
		"md1:p2@1M+4M":      {"md1", ":p2@1M+4M"},
		"disk.img:part2":    {"disk.img:part2", ""},
		"disk.img@notrange": {"disk.img@notrange", ""},
	} {
		if base, suffix := SplitSpec(spec, exists); base != want[0] || suffix != want[1] {
			t.Errorf("SplitSpec(%q) = %q, %q; want %q", spec, base, suffix, want)
		}
	}
}

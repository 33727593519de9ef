package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

func TestDumpRanges(t *testing.T) {
	t.Parallel()
	path := fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/mbr-logical.img.xz"))
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const p6 = 12288 * 512 // logical partition 6: 2 MiB
	for _, c := range []struct {
		args  []string
		start int64
		len   int64
	}{
		{[]string{path}, 0, int64(len(whole))},
		{[]string{path, "--offset", "1M", "--length", "4096"}, 1 << 20, 4096},
		{[]string{path + ":p6"}, p6, 4096 * 512},
		{[]string{path + ":p6", "--offset", "1s", "--length", "2s"}, p6 + 512, 1024},
		{[]string{path + "@1M+1K", "--offset", "512"}, 1<<20 + 512, 512},
	} {
		out, stderr, code := holmes(t, append([]string{"dump"}, c.args...)...)
		if code != 0 {
			t.Fatalf("dump %v: exit %d: %s", c.args, code, stderr)
		}
		if !bytes.Equal([]byte(out), whole[c.start:c.start+c.len]) {
			t.Errorf("dump %v: %d bytes differ from the image's %d+%d", c.args, len(out), c.start, c.len)
		}
	}
}

func TestDumpErrors(t *testing.T) {
	t.Parallel()
	path := fixture.Unpack(t, fixture.Repo(t, "testdata/blockdev/mbr-logical.img.xz"))
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{path, "--offset", "17M"}, 1},
		{[]string{path, "--offset", "15M", "--length", "2M"}, 1},
		{[]string{path + ":p9"}, 1},
		{[]string{dir}, 1},
		{[]string{filepath.Join(dir, "missing")}, 1},
		{[]string{path, "--length", "lots"}, 2},
		{[]string{path, "--json"}, 2},
	} {
		out, stderr, code := holmes(t, append([]string{"dump"}, c.args...)...)
		if code != c.code || out != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("dump %v: exit %d, %d bytes out, stderr %q; want exit %d, nothing out, one line", c.args, code, len(out), stderr, c.code)
		}
	}
}

package mdsolve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/blockdev"
)

// blank makes an all-zero member of size bytes.
func blank(t *testing.T, size int64) blockdev.Device {
	t.Helper()
	p := filepath.Join(t.TempDir(), "blank.img")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	d, err := blockdev.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestSolveRefusesWhatHoldsNothing(t *testing.T) {
	for _, c := range []struct {
		what string
		devs []blockdev.Device
		want string
	}{
		{"one member", []blockdev.Device{blank(t, 8<<20)}, "at least 2 members"},
		{"empty members", []blockdev.Device{blank(t, 8<<20), blank(t, 8<<20)}, "every sampled block of every member is zero"},
		{"tiny members", []blockdev.Device{blank(t, 64<<10), blank(t, 64<<10)}, "no room to sample"},
	} {
		if _, err := Solve(c.devs, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.what, err, c.want)
		}
	}
}

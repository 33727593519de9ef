package trace

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/casefile"
	"holmes/internal/fixture"
)

// hostileDir holds two 1 MiB member files of random bytes and a real VG
// text, for case files that stack them in every way.
func hostileDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, name := range []string{"a.img", "b.img"} {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	vg, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "guests.vg"), vg, 0o444); err != nil {
		t.Fatal(err)
	}
	return dir
}

func hostileStack(t testing.TB, dir, text string) (*Stack, error) {
	t.Helper()
	path := filepath.Join(dir, "case.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Load(path)
	if err != nil {
		return nil, err
	}
	return FromCase(c)
}

// Garbage everywhere (random members, an LV whose PVs are far too small,
// an array stacked on itself) gives steps or one clear error, never a
// panic or a hang; bad ranges are refused.
func TestTraceHostile(t *testing.T) {
	dir := hostileDir(t)
	s, err := hostileStack(t, dir, `{"arrays": [
  {"name": "md0", "level": "raid5", "chunk_bytes": 65536, "data_offset": 4096, "metadata": "1.2", "members": ["a.img", "b.img", null]},
  {"name": "md1", "level": "raid1", "data_offset": 0, "members": ["md1", "a.img"]}],
 "volume_groups": [{"metadata": "guests.vg", "pvs": {"pv0": "md0", "pv1": "b.img"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	for _, r := range []Range{{a, 0, 1 << 20}, {b, 4096, 8192}, {"md0", 0, 1 << 20}} {
		steps, err := s.Trace(r.Dev, r.Offset, r.Length)
		if err != nil {
			t.Errorf("%+v: %v", r, err)
		} else if len(steps) == 0 {
			t.Errorf("%+v: no steps", r)
		}
	}
	// An LV too large for its PV: reached from below, a step says so;
	// named as the range's DEV, it is the error.
	steps, _ := s.Trace("md0", 128<<10, 4096)
	if last := steps[len(steps)-1]; !strings.Contains(last.What, "cannot be opened: lvm: guests/root") {
		t.Errorf("md0 into guests/root:\n%s", stepsText(steps))
	}
	if _, err := s.Trace("guests/root", 0, 4096); err == nil || !strings.Contains(err.Error(), "needs pv0") {
		t.Errorf("guests/root: %v", err)
	}
	if _, err := s.Trace("md1", 0, 512); err == nil || !strings.Contains(err.Error(), "stacked on itself") {
		t.Errorf("md1 stacked on itself: %v", err)
	}
	for _, r := range []Range{{"md0", -1, 10}, {"md0", 0, 0}, {"md0", 0, 1 << 40}, {"nope.img", 0, 1}, {"md0", 1 << 62, 1 << 62}} {
		if _, err := s.Trace(r.Dev, r.Offset, r.Length); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
	if _, err := hostileStack(t, dir, `{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "members": ["a.img"], "left_out": ["b.img", "a.img"]}]}`); err == nil {
		t.Error("more left_out entries than members: no error")
	}
	if _, err := hostileStack(t, dir, `{"arrays": [{"name": "md0", "level": "raid1", "data_offset": 0, "members": ["a.img"], "left_out": ["b.img"]}]}`); err == nil {
		t.Error("a role both read and left out: no error")
	}
}

// FuzzTraceCase traces ranges of every name a fuzzed case file defines
// over random members: any case file gives steps or errors.
func FuzzTraceCase(f *testing.F) {
	dir := hostileDir(f)
	for _, s := range []string{
		`{"arrays": [{"name": "md0", "level": "raid10", "layout": "f2", "chunk_bytes": 4096, "data_offset": 8192, "members": ["a.img", "b.img", null], "left_out": [null, null, "a.img@512K"]}]}`,
		`{"arrays": [{"name": "md0", "level": "raid0", "chunk_bytes": 512, "data_offset": 0, "metadata": "0.90", "members": ["a.img", "b.img:p1"]}],
		  "volume_groups": [{"metadata": "guests.vg", "pvs": {"pv0": "md0", "pv1": "guests/root"}}]}`,
		`{"arrays": [{"name": "md0", "level": "linear", "data_offset": 0, "members": ["a.img@1K+100K", "b.img"]}],
		  "volume_groups": [{"metadata": "guests.vg", "pvs": {"pv0": "md0", "pv1": "b.img@512K"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := hostileStack(t, dir, string(b))
		if err != nil {
			return
		}
		names := []string{filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")}
		for _, a := range s.Arrays {
			names = append(names, a.Name)
		}
		for _, vg := range s.VGs {
			for _, lv := range vg.VG.LVs {
				names = append(names, vg.VG.Name+"/"+lv.Name)
			}
		}
		var ranges []Range
		for _, n := range names {
			ranges = append(ranges, Range{n, 0, 4096}, Range{n, 300 << 10, 70 << 10})
		}
		for _, r := range ranges {
			s.Trace(r.Dev, r.Offset, r.Length)
		}
	})
}

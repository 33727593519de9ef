package lvmmeta

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// cacheDirty is #dirty of cache-LV in the dmsetup status the cache lab
// recorded before it stopped the caches.
func cacheDirty(t *testing.T, lv string) int {
	t.Helper()
	b, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/dmsetup-status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 14 && f[0] == "cache-"+lv+":" {
			n, _ := strconv.Atoi(f[14])
			return n
		}
	}
	t.Fatalf("no status of cache-%s", lv)
	return 0
}

// The cache lab's writeback LVs (testdata/lab/lvm-cache.sh, both metadata
// formats) hold dirty blocks: holmes counts as many as the kernel did,
// names their origin blocks, and reads each LV through its cache
// byte-identical to the kernel, while the origin alone differs.
func TestCacheLabDirtyBlocks(t *testing.T) {
	vg, pvs := openLab(t, "cache", "cache.vg", "pv-a", "pv-b")
	for lv, format := range map[string]uint32{"wb2": 2, "wb1": 1} {
		c, err := vg.Cache(lv, pvs)
		if err != nil {
			t.Fatal(err)
		}
		m := c.Metadata
		if m == nil || m.Format != format || !m.CleanShutdown || m.Dirty != cacheDirty(t, lv) || m.Dirty == 0 || m.Mapped != 96 || m.Untrusted != "" || c.OriginComplete {
			t.Fatalf("%s: %+v %+v", lv, c, m)
		}
		if want := "dirty (origin blocks "; !strings.Contains(c.Why, want) || !strings.Contains(c.Why, "the origin cache/"+lv+"_corig alone is stale there") {
			t.Errorf("%s: %s", lv, c.Why)
		}
		n := uint64(0)
		for _, r := range m.DirtyOrigin {
			n += r.Last - r.First + 1
		}
		if n != uint64(m.Dirty) {
			t.Errorf("%s: dirty runs %v hold %d blocks, not %d", lv, m.DirtyOrigin, n, m.Dirty)
		}
		if got, want := lvSum(t, vg, lv, pvs), recordedSum(t, "cache", "cache/"+lv); got != want {
			t.Errorf("%s: sha256 %s through the cache, the kernel's %s", lv, got, want)
		}
		if got := lvSum(t, vg, lv+"_corig", pvs); got != recordedSum(t, "cache", "cache/"+lv+"_corig") || got == recordedSum(t, "cache", "cache/"+lv) {
			t.Errorf("%s_corig: sha256 %s", lv, got)
		}
	}
	// Without the cache pool's PV the LV is refused, saying what is missing.
	if _, err := OpenLV(vg, "wb2", without(pvs, "pv1")); err == nil || !strings.Contains(err.Error(), "lvm: cache/wb2: the cache") {
		t.Errorf("without pv1: %v", err)
	}
}

// In passthrough mode dm-cache reads every block from the origin (the
// cache may be stale): so does holmes. The cache lab's VG text, edited in
// memory to say passthrough for wb2's pool.
func TestCachePassthroughReadsTheOrigin(t *testing.T) {
	_, pvs := openLab(t, "cache", "cache.vg", "pv-a", "pv-b")
	text, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/cache.vg"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(text), "pool2_cpool {")
	edited := string(text[:i]) + strings.Replace(string(text[i:]), `cache_mode = "writeback"`, `cache_mode = "passthrough"`, 1)
	vg, err := ParseText([]byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	if got := lvSum(t, vg, "wb2", pvs); got != recordedSum(t, "cache", "cache/wb2_corig") {
		t.Errorf("passthrough wb2: sha256 %s, not its origin's", got)
	}
	c, err := vg.Cache("wb2", pvs)
	if err != nil || c.Mode != "passthrough" || !strings.Contains(c.Why, "in passthrough mode dm-cache, and holmes, read cache/wb2 from its origin") {
		t.Errorf("%+v %v", c, err)
	}
}

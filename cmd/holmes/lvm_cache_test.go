package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// cacheCase is labCase for the cache lab (testdata/lab/lvm-cache.sh).
func cacheCase(t *testing.T) string {
	t.Helper()
	return labCase(t, "testdata/lvm/cache/record/cache.vg", []string{"cache/pv-a", "cache/pv-b"})
}

// lvBytes reads a case file's DEV (an LV) whole: a copy the damage tests
// may change.
func lvBytes(t *testing.T, cf, dev string) []byte {
	t.Helper()
	d, err := (&Factory{CaseFile: cf}).OpenDevice(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b := make([]byte, d.Size())
	if _, err := io.ReadFull(io.NewSectionReader(d, 0, d.Size()), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// cmetaCopy writes the bytes of a case file's LV to a file, as the lab
// copied them for cache_dump.
func cmetaCopy(t *testing.T, cf, lv string) string {
	t.Helper()
	b := lvBytes(t, cf, lv)
	path := filepath.Join(t.TempDir(), "cmeta.bin")
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
	return path
}

// holmes lvm cache --dump prints cache_dump's XML: byte-identical for the
// format 1 metadata; for format 2 only the dirty flags differ, in exactly
// the blocks holmes reads as dirty from the bitset (cache_dump 0.9.0 does
// not read it), as many as the kernel counted. Live too, when cache_dump
// is installed.
func TestLVMCacheDumpAgreesWithCacheDump(t *testing.T) {
	t.Parallel()
	cf := cacheCase(t)
	for lv, dirty := range map[string]int{"wb1": 18, "wb2": 17} {
		pool := "cache/pool" + lv[2:] + "_cpool_cmeta"
		out, errs, code := holmes(t, "--case", cf, "lvm", "cache", "cache/"+lv, "--dump")
		recorded, err := os.ReadFile(fixture.Repo(t, "testdata/lvm/cache/record/cache_dump-"+lv+".xml"))
		if err != nil || code != 0 {
			t.Fatalf("%s: exit %d, %q, %v", lv, code, errs, err)
		}
		got, want := strings.Split(out, "\n"), strings.Split(string(recorded), "\n")
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines, cache_dump %d", lv, len(got), len(want))
		}
		differ := 0
		for i := range got {
			if got[i] != want[i] {
				differ++
				if lv == "wb1" || strings.Replace(got[i], `dirty="true"`, `dirty="false"`, 1) != want[i] {
					t.Errorf("%s line %d: %q, cache_dump %q", lv, i+1, got[i], want[i])
				}
			}
		}
		if lv == "wb2" && differ != dirty {
			t.Errorf("%s: %d dirty flags differ, want %d", lv, differ, dirty)
		}
		// The same from a copy of the _cmeta LV, and from cache_dump live.
		path := cmetaCopy(t, cf, pool)
		if copyOut, _, _ := holmes(t, "lvm", "cache", path, "--dump"); copyOut != out {
			t.Errorf("%s: the copy dumps otherwise", lv)
		}
		if _, err := exec.LookPath("cache_dump"); err == nil && !testing.Short() {
			live, err := exec.Command("cache_dump", path).Output()
			if err != nil || string(live) != string(recorded) {
				t.Errorf("%s: live cache_dump: %v", lv, err)
			}
		}
	}
}

// The summary and the JSON: the dirty count and runs, for a cache pool's
// LV and for the layers lab's cache volume.
func TestLVMCacheReport(t *testing.T) {
	t.Parallel()
	out, errs, code := holmes(t, "--case", cacheCase(t), "lvm", "cache", "cache/wb2")
	wantAll(t, out, errs, code,
		"Metadata : cache/pool2_cpool_cmeta (5242880 bytes)",
		"Superblock : checksum ok, format 2, clean shutdown",
		"Cache blocks : 96, 96 holding an origin block",
		"Dirty : 17: origin blocks 0-2, 88-101")
	// Where holmes scan finds the superblock, with the size it records.
	pvb := fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/cache/pv-b.img.xz"))
	out, errs, code = holmes(t, "scan", pvb)
	wantAll(t, out, errs, code, "cache │ 6291456 │ 6291456 │ │ dm-cache metadata format 2, smq, 96 cache blocks of 65536 bytes, clean shutdown, metadata size 5242880")
	out, errs, code = holmes(t, "lvm", "cache", pvb+"@6291456+5242880")
	wantAll(t, out, errs, code, "Dirty : 17: origin blocks 0-2, 88-101")
	out, errs, code = holmes(t, "--case", layersCase(t), "lvm", "cache", "layers/wt", "--json")
	var rep struct {
		Metadata   string
		Superblock struct{ Version int }
		Mapped     int
		Dirty      int
		Problems   []any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %q, %v", code, errs, err)
	}
	if rep.Metadata != "layers/wtfast_cvol-cmeta" || rep.Superblock.Version != 2 || rep.Mapped == 0 || rep.Dirty != 0 || rep.Problems == nil {
		t.Errorf("%+v", rep)
	}
}

// Damaged metadata (a copy with the mapping array's block broken) is
// reported with the cache blocks it hides, and the LV is not read through.
func TestLVMCacheDamaged(t *testing.T) {
	t.Parallel()
	cf := cacheCase(t)
	path := cmetaCopy(t, cf, "cache/pool1_cpool_cmeta")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Superblock struct {
			MappingRoot uint64 `json:"mapping_root"`
		}
	}
	out, _, _ := holmes(t, "lvm", "cache", path, "--json")
	json.Unmarshal([]byte(out), &rep)
	// The root is a leaf whose one value is the array block.
	root := b[rep.Superblock.MappingRoot*4096:]
	max := int(root[20]) | int(root[21])<<8
	ab := int(root[32+8*max]) | int(root[33+8*max])<<8
	b[ab*4096+300] ^= 1
	damaged := filepath.Join(t.TempDir(), "damaged.bin")
	os.WriteFile(damaged, b, 0o444)
	out, errs, code := holmes(t, "lvm", "cache", damaged)
	if code != 0 || !strings.Contains(errs, "cannot be trusted") || !strings.Contains(out, "mapping tree: array block 0: bad checksum") ||
		!strings.Contains(out, "(keys 0-95 hidden)") || !strings.Contains(out, "holmes does not read through this cache") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
}

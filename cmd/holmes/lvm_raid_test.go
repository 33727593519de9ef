package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// raidCase writes a case file naming the raid lab's VG (raid.vg as
// vgcfgbackup wrote it) on its PV images, leaving out the PVs in drop.
func raidCase(t *testing.T, drop ...string) string {
	t.Helper()
	return labCase(t, "testdata/lvm/thin/record/raid.vg", []string{"thin/raid-b", "thin/raid-c", "thin/raid-d"}, drop...)
}

// labCase writes a case file naming the VG text vgText (a path in the
// repository) on the images testdata/lvm/IMG.img.xz as pv0, pv1, ...,
// leaving out the PVs in drop.
func labCase(t *testing.T, vgText string, images []string, drop ...string) string {
	t.Helper()
	var pvs []string
	for i, img := range images {
		name := fmt.Sprintf("pv%d", i)
		if !slices.Contains(drop, name) {
			path := fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/"+img+".img.xz"))
			pvs = append(pvs, `"`+name+`": "`+path+`"`)
		}
	}
	cf := filepath.Join(t.TempDir(), "case.json")
	doc := `{"volume_groups": [{"metadata": "` + fixture.Repo(t, vgText) + `", "pvs": {` + strings.Join(pvs, ", ") + `}}]}`
	if err := os.WriteFile(cf, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return cf
}

// layersCase is labCase for the layers lab (testdata/lab/lvm-layers.sh).
func layersCase(t *testing.T, drop ...string) string {
	t.Helper()
	return labCase(t, "testdata/lvm/layers/record/layers.vg", []string{"layers/pv-a", "layers/pv-b", "layers/pv-c", "layers/pv-d", "layers/pv-e"}, drop...)
}

// Every file of the raid1 and raid5 LVs reads back as the kernel read it,
// and still does with one PV gone from the case file (r1 then reads its
// other image, r5 rebuilds from parity).
func TestRaidLVFilesMatchKernel(t *testing.T) {
	t.Parallel()
	for _, drop := range []string{"", "pv0", "pv2"} {
		cf := raidCase(t, drop)
		checkLabFiles(t, cf, "thin", "r1", "raid/r1")
		checkLabFiles(t, cf, "thin", "r5", "raid/r5")
	}
}

// holmes lvm show prints the geometry it reads each raid LV with: from the
// superblocks with --case, from the text alone without; a PV left out of
// the case file shows as the images not read.
func TestLVMShowRaid(t *testing.T) {
	t.Parallel()
	vgFile := fixture.Repo(t, "testdata/lvm/thin/record/raid.vg")
	out, errs, code := holmes(t, "--case", raidCase(t, "pv1"), "lvm", "show", vgFile)
	wantAll(t, out, errs, code,
		"raid/r5 (raid5) is read as md raid5 left-symmetric, chunk 65536, 3 images of 4194304 bytes, from the VG text and the dm-raid superblocks (freshest: events 20)",
		"│ 0 │ r5_rimage_0 │ r5_rmeta_0 │ 0 │ read │",
		"│ 1 │ r5_rimage_1 │ r5_rmeta_1 │ - │ not read: data image: lvm: raid/r5_rimage_1 segment 1 needs pv1",
		"raid/r1 (raid1) is read as md raid1, 2 images of 8388608 bytes")
	out, _, code = holmes(t, "lvm", "show", vgFile)
	if code != 0 || !strings.Contains(out, "raid/r5 (raid5) is read as md raid5 left-symmetric, chunk 65536, 3 images, from the VG text alone") {
		t.Errorf("without --case: exit %d:\n%s", code, out)
	}
	out, _, _ = holmes(t, "--case", raidCase(t), "lvm", "show", vgFile, "--json")
	var rep struct {
		Name string
		Raid []struct {
			LV       string
			Geometry struct {
				Level  string
				Layout string
			}
			Images []struct {
				Superblock struct {
					ArrayPosition int `json:"array_position"`
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Name != "raid" || len(rep.Raid) != 2 || rep.Raid[1].Geometry.Layout != "left-symmetric" || rep.Raid[1].Images[2].Superblock.ArrayPosition != 2 {
		t.Errorf("json %v: %+v", err, rep)
	}
}

// The layers lab's raid6, raid10 and legacy mirror: every file as the
// kernel read it, with PVs gone too; the dm-cache LVs read through their
// caches, file by file as the kernel read them; lvm show says what the
// cached LVs are and, from their metadata, that no block is dirty.
func TestLayersLVFilesMatchKernel(t *testing.T) {
	t.Parallel()
	for _, drop := range [][]string{nil, {"pv0"}, {"pv1", "pv3"}} {
		cf := layersCase(t, drop...)
		checkLabFiles(t, cf, "layers", "r6", "layers/r6")
		if len(drop) < 2 {
			checkLabFiles(t, cf, "layers", "r10", "layers/r10")
			checkLabFiles(t, cf, "layers", "m1", "layers/m1")
		}
	}
	cf := layersCase(t)
	out, errs, code := holmes(t, "--case", cf, "lvm", "show", fixture.Repo(t, "testdata/lvm/layers/record/layers.vg"))
	wantAll(t, out, errs, code,
		"layers/r6 (raid6) is read as md raid6 ddf-zero-restart, chunk 65536, 5 images of 2097152 bytes, from the VG text and the dm-raid superblocks",
		"layers/r10 (raid10) is read as md raid10 n2, chunk 65536, 4 images",
		"layers/m1 (mirror) is read as md raid1, 2 images of 4194304 bytes, from the VG text (mirror keeps no superblocks)",
		"layers/wt (cache+CACHE_USES_CACHEVOL): a dm-cache LV in writethrough mode: its cache metadata layers/wtfast_cvol-cmeta (format 2) maps",
		"none dirty, so the origin layers/wt_corig holds the volume",
		"layers/wc (writecache): a dm-writecache LV")
	if _, errs, code := holmes(t, "--case", cf, "ext", "ls", "layers/wc", "/"); code == 0 || !strings.Contains(errs, "layers/wc_wcorig") {
		t.Errorf("ext ls layers/wc: exit %d, %q", code, errs)
	}
	checkLabFiles(t, cf, "layers", "wt", "layers/wt")
	checkLabFiles(t, cf, "layers", "wb", "layers/wb")
	checkLabFiles(t, cf, "layers", "wt", "layers/wt_corig")
}

// The cache lab's writeback LVs hold dirty blocks: every file reads through
// the cache as the kernel read it, and lvm show says how many blocks are
// dirty (the kernel's count) and which origin blocks.
func TestCacheLVFilesMatchKernel(t *testing.T) {
	t.Parallel()
	vgFile := fixture.Repo(t, "testdata/lvm/cache/record/cache.vg")
	cf := labCase(t, "testdata/lvm/cache/record/cache.vg", []string{"cache/pv-a", "cache/pv-b"})
	for _, lv := range []string{"wb2", "wb1"} {
		checkLabFiles(t, cf, "cache", lv, "cache/"+lv)
	}
	out, errs, code := holmes(t, "--case", cf, "lvm", "show", vgFile)
	wantAll(t, out, errs, code,
		"cache/wb2 (cache): a dm-cache LV in writeback mode: its cache metadata cache/pool2_cpool_cmeta (format 2) maps 96 of the cache's 96 blocks of 65536 bytes, 17 of them dirty (origin blocks",
		"cache/wb1 (cache): a dm-cache LV in writeback mode: its cache metadata cache/pool1_cpool_cmeta (format 1) maps 96 of the cache's 96 blocks of 65536 bytes, 18 of them dirty",
		"so the origin cache/wb1_corig alone is stale there; holmes reads cache/wb1 through the cache as dm-cache does")
}

// wantAll fails unless the command exited 0 and its output holds every
// want (spacing folded, so table cells compare by content).
func wantAll(t *testing.T, out, errs string, code int, wants ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range wants {
		if code != 0 || !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Errorf("exit %d, stderr %q, no %q:\n%s", code, errs, want, out)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// raidCase writes a case file naming the raid lab's VG (raid.vg as
// vgcfgbackup wrote it) on its PV images, leaving out the PVs in drop.
func raidCase(t *testing.T, drop ...string) string {
	t.Helper()
	var pvs []string
	for i, x := range []string{"b", "c", "d"} {
		name := "pv" + string(rune('0'+i))
		if !strings.Contains(strings.Join(drop, " "), name) {
			img := fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/thin/raid-"+x+".img.xz"))
			pvs = append(pvs, `"`+name+`": "`+img+`"`)
		}
	}
	cf := filepath.Join(t.TempDir(), "case.json")
	doc := `{"volume_groups": [{"metadata": "` + fixture.Repo(t, "testdata/lvm/thin/record/raid.vg") + `", "pvs": {` + strings.Join(pvs, ", ") + `}}]}`
	if err := os.WriteFile(cf, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return cf
}

// Every file of the raid1 and raid5 LVs reads back as the kernel read it,
// and still does with one PV gone from the case file (r1 then reads its
// other image, r5 rebuilds from parity).
func TestRaidLVFilesMatchKernel(t *testing.T) {
	t.Parallel()
	for _, drop := range []string{"", "pv0", "pv2"} {
		cf := raidCase(t, drop)
		checkLabFiles(t, cf, "r1", "raid/r1")
		checkLabFiles(t, cf, "r5", "raid/r5")
	}
}

// holmes lvm show prints the geometry it reads each raid LV with: from the
// superblocks with --case, from the text alone without; a PV left out of
// the case file shows as the images not read.
func TestLVMShowRaid(t *testing.T) {
	t.Parallel()
	vgFile := fixture.Repo(t, "testdata/lvm/thin/record/raid.vg")
	out, errs, code := holmes(t, "--case", raidCase(t, "pv1"), "lvm", "show", vgFile)
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"raid/r5 (raid5) is read as md raid5 left-symmetric, chunk 65536, 3 images of 4194304 bytes, from the VG text and the dm-raid superblocks (freshest: events 20)",
		"│ 0 │ r5_rimage_0 │ r5_rmeta_0 │ 0 │ read │",
		"│ 1 │ r5_rimage_1 │ r5_rmeta_1 │ - │ not read: data image: lvm: raid/r5_rimage_1 segment 1 needs pv1",
		"raid/r1 (raid1) is read as md raid1, 2 images of 8388608 bytes",
	} {
		if code != 0 || !strings.Contains(flat, want) {
			t.Errorf("exit %d, stderr %q, no %q:\n%s", code, errs, want, out)
		}
	}
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

package lvmmeta

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/internal/fixture"
)

// labPVs returns the lab's PV devices after the installer ran: pv0 is md0
// (raid1, metadata 1.2, data offset 2048 sectors on disk-a), pv1 is md1
// (metadata 1.0 at the end of disk-c, data from byte 0).
func labPVs(t *testing.T) map[string]blockdev.Device {
	t.Helper()
	a := openFixture(t, fixture.Repo(t, "testdata/lvm/disk-a.img.xz"))
	c := openFixture(t, fixture.Repo(t, "testdata/lvm/disk-c.img.xz"))
	md0, err := blockdev.Slice(a, 1<<20, a.Size()-1<<20, "md0")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blockdev.Device{"pv0": md0, "pv1": c}
}

func labBackup(t *testing.T) *VG {
	t.Helper()
	return recordedVG(t, "backup-guests.vg")
}

// recordedVG parses a backup file the lab recorded from real vgcfgbackup.
func recordedVG(t *testing.T, name string) *VG {
	t.Helper()
	return vgFixture(t, "testdata/lvm/record/"+name)
}

// vgFixture parses a metadata text file of the repository.
func vgFixture(t *testing.T, rel string) *VG {
	t.Helper()
	text, err := os.ReadFile(fixture.Repo(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	vg, err := ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	return vg
}

// labSHA256 reads lv-sha256.txt: sha256sum of /dev/guests/LV in the guest.
func labSHA256(t *testing.T) map[string]string {
	f, err := os.Open(fixture.Repo(t, "testdata/lvm/record/lv-sha256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := map[string]string{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
			sums[name] = sum
		}
	}
	return sums
}

func TestOpenLVMatchesKernel(t *testing.T) {
	vg, pvs, sums := labBackup(t), labPVs(t), labSHA256(t)
	// The raid1 LV "mirror" reads through its images (each linear and
	// holding the same bytes as the kernel's /dev/guests/mirror). The thin
	// LV reads through its pool's metadata.
	for lv, want := range map[string]string{"root": sums["root"], "home": sums["home"], "stripe": sums["stripe"], "mirror": sums["mirror"], "mirror_rimage_0": sums["mirror"], "mirror_rimage_1": sums["mirror"], "thin": sums["thin"]} {
		d, err := OpenLV(vg, lv, pvs)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		// An odd buffer size crosses chunk and segment boundaries mid-read.
		if _, err := io.CopyBuffer(h, io.NewSectionReader(d, 0, d.Size()), make([]byte, 100003)); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s: sha256 %s, kernel %s", lv, got, want)
		}
	}
}

func TestOpenLVRefuses(t *testing.T) {
	vg, pvs := labBackup(t), labPVs(t)
	for lv, want := range map[string]string{
		"pool": "of type thin-pool;",
		"nope": `no logical volume "nope"`,
	} {
		if _, err := OpenLV(vg, lv, pvs); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", lv, err)
		}
	}
	short, _ := blockdev.Slice(pvs["pv1"], 0, 3<<20, "short")
	if _, err := OpenLV(vg, "root", map[string]blockdev.Device{"pv0": pvs["pv0"], "pv1": short}); err == nil || !strings.Contains(err.Error(), "short has 3145728 bytes") {
		t.Errorf("short PV: err = %v", err)
	}
	if _, err := OpenLV(vg, "root", map[string]blockdev.Device{"pv0": pvs["pv0"]}); err == nil || !strings.Contains(err.Error(), "needs pv1") {
		t.Errorf("missing PV: err = %v", err)
	}
}

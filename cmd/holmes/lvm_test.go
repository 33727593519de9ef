package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

func lvmLab(t *testing.T, name string) string {
	t.Helper()
	return fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/"+name+".img.xz"))
}

func TestLVMScanJSON(t *testing.T) {
	t.Parallel()
	out, errs, code := holmes(t, "lvm", "scan", "--json", lvmLab(t, "disk-a")+"@1M")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []struct {
		Device string
		Label  struct {
			Sector        int64
			PVUUID        string                         `json:"pv_uuid"`
			MetadataAreas []struct{ Offset, Size int64 } `json:"metadata_areas"`
		}
		Metadata []struct {
			VG         string
			VGUUID     string `json:"vg_uuid"`
			Seqno      int64
			Offset     int64
			ChecksumOK *bool `json:"checksum_ok"`
			Current    bool
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// md0's label after the installer (pvck --dump headers, record).
	rec, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/md0.pvck-headers.after.txt"))
	if len(got) != 1 || got[0].Label.Sector != 1 || strings.ReplaceAll(got[0].Label.PVUUID, "-", "") != field(string(rec), "pv_header.pv_uuid") {
		t.Fatalf("scan = %+v", got)
	}
	if a := got[0].Label.MetadataAreas; len(a) != 1 || a[0].Offset != 4096 {
		t.Errorf("metadata areas = %+v", a)
	}
	seqnos := map[int64]bool{}
	for _, m := range got[0].Metadata {
		seqnos[m.Seqno] = true
	}
	for _, s := range []int64{1, 22, 30, 31, 32, 45} {
		if !seqnos[s] {
			t.Errorf("seqno %d missing from scan", s)
		}
	}
}

// field returns the value of "key value" in pvck --dump headers output.
func field(text, key string) string {
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok && k == key {
			return v
		}
	}
	return ""
}

func TestLVMCarvePlanAndCase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, c, etc := lvmLab(t, "disk-a"), lvmLab(t, "disk-c"), lvmLab(t, "etc-damaged")
	out, errs, code := holmes(t, "lvm", "carve", "--json", "--out", dir, a, etc)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var carved []struct {
		VG      string
		VGUUID  string `json:"vg_uuid"`
		Seqno   int64
		FoundAt []struct {
			Device string
			Offset int64
		} `json:"found_at"`
		PVUUIDs []string `json:"pv_uuids"`
		File    string
	}
	if err := json.Unmarshal([]byte(out), &carved); err != nil {
		t.Fatal(err)
	}
	top := carved[0]
	if top.Seqno != 45 || len(top.FoundAt) != 2 || top.File != filepath.Join(dir, "guests_45.vg") || len(top.PVUUIDs) != 2 {
		t.Fatalf("carve[0] = %+v", top)
	}
	// Two VGs named guests with seqno 1: the old one's first version (in
	// the archive) and the installer's.
	if _, err := os.Stat(filepath.Join(dir, "guests_1.vg")); err != nil {
		t.Error(err)
	}

	out, errs, code = holmes(t, "lvm", "plan", top.File, "--pv", "pv0="+a+"@1M", "--pv", "pv1="+c)
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		// the runnable form (docs/plan.md): the targets attached
		// read-only and overlaid, the restore on the overlays
		"L0=$(losetup --find --show --read-only --offset 1048576 " + a + ")\n",
		"L1=$(losetup --find --show --read-only " + c + ")\n",
		`pvcreate --config "$LVM0" -ff -y --uuid Nry7Nt-he1J-8uCG-bBcU-lyqs-3Ky3-IneHbT --restorefile ` + top.File + " /dev/mapper/holmes-disk-a-1048576\n",
		`pvcreate --config "$LVM0" -ff -y --uuid m9NfcT-N2Wa-rtiZ-4UrA-kA2o-BoPc-1j2CY8 --restorefile ` + top.File + " /dev/mapper/holmes-disk-c\n",
		`vgcfgrestore --config "$LVM0" --force -f ` + top.File + " guests\n",
		`vgchange --config "$LVM0" -ay guests` + "\n",
		"needs 23199744: ok",
		"# warning: pv0: " + a + "@1M carries PV GpPaym-oNDk-K84Q-VYmi-jpSd-mez9-H2SzKx now",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}

	// The carved text as the case file's VG, its PVs given as byte ranges
	// of the member disks or as the case's md arrays (degraded raid1s):
	// guests/root and guests/stripe read as the kernel's /dev/guests/* did.
	for _, pvs := range []string{
		`"pvs": {"pv0": "` + a + `@1M", "pv1": "` + c + `"}`,
		`"pvs": {"pv0": "md0", "pv1": "md1"}`,
	} {
		cf := filepath.Join(dir, "case.json")
		os.WriteFile(cf, []byte(`{"arrays": [
			{"name": "md0", "level": "raid1", "data_offset": 1048576, "members": ["`+a+`", null]},
			{"name": "md1", "level": "raid1", "data_offset": 0, "data_size": 25100288, "members": ["`+c+`", null]}],
			"volume_groups": [{"metadata": "guests_45.vg", `+pvs+`}]}`), 0o644)
		checkCaseLVs(t, cf)
	}
}

func checkCaseLVs(t *testing.T, cf string) {
	t.Helper()
	f := &Factory{CaseFile: cf}
	sums, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/record/lv-sha256.txt"))
	for _, lv := range []string{"root", "stripe", "thin"} {
		if sum := deviceSHA256(t, cf, "guests/"+lv); !strings.Contains(string(sums), sum+"  "+lv+"\n") {
			t.Errorf("guests/%s through %s: sha256 %s is not the kernel's", lv, cf, sum)
		}
	}
	if _, err := f.OpenDevice("guests/pool"); err == nil || !strings.Contains(err.Error(), "type thin-pool") {
		t.Errorf("guests/pool: err = %v", err)
	}
}

func TestLVMErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.vg")
	os.WriteFile(bad, []byte("guests {\n\tid = \"x\"\n\tseqno = 4x\n}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lvm", "show", bad}, 1, "bad.vg: line 3, column 10: bad number \"4x\""},
		{[]string{"lvm", "plan", bad}, 1, "bad.vg: line 3, column 10: bad number \"4x\""},
		{[]string{"lvm", "scan", bad}, 1, "no LABELONE in sectors 0-3"},
		{[]string{"lvm", "plan", fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"), "--pv", "pv7=/dev/x"}, 2, "--pv \"pv7=/dev/x\""},
	} {
		_, errs, code := holmes(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

func TestLVMShow(t *testing.T) {
	t.Parallel()
	out, errs, code := holmes(t, "lvm", "show", "--json", fixture.Repo(t, "testdata/lvm/record/backup-guests.vg"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var vg struct {
		Name, ID string
		LVs      []struct {
			Name     string
			Segments []struct {
				Type           string
				Offset, Length int64
				Stripes        []struct {
					PV     string
					Offset int64
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &vg); err != nil {
		t.Fatal(err)
	}
	// root's second segment: LV bytes 4-6 MiB on pv1 extent 2 (lvs record:
	// /dev/md1(2)), pe_start 128 KiB.
	root := vg.LVs[0]
	if root.Name != "root" || len(root.Segments) != 2 || root.Segments[1].Offset != 4<<20 || root.Segments[1].Length != 2<<20 ||
		root.Segments[1].Stripes[0].PV != "pv1" || root.Segments[1].Stripes[0].Offset != 128<<10+2<<20 {
		t.Errorf("root = %+v", root)
	}
	// A PV shows its committed text: the installer's empty VG.
	out, errs, code = holmes(t, "lvm", "show", lvmLab(t, "disk-c"))
	if code != 0 || !strings.Contains(out, "5QBFsL-jXmA-c7qh-nX0B-nCFz-3Tvp-grc607") {
		t.Errorf("show disk-c: exit %d: %s%s", code, out, errs)
	}
}

// A device that is no PV is named in the error after the PVs are reported.
func TestLVMScanReportsPVsBeforeFailing(t *testing.T) {
	t.Parallel()
	notPV := fixture.Unpack(t, fixture.Public(t, "util-linux/tests/ts/blkid/images-fs/ext2.img.xz"))
	out, errs, code := holmes(t, "lvm", "scan", "--json", notPV, lvmLab(t, "disk-a")+"@1M")
	var got []struct{ Device string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON document: %v", err)
	}
	if code != 1 || len(got) != 1 || !strings.Contains(errs, notPV) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("exit %d, %d devices reported, stderr %q", code, len(got), errs)
	}
}

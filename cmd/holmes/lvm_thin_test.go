package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// thinCase writes a case file naming the thin lab's VG (pve.vg as
// vgcfgbackup wrote it) on its one PV image.
func thinCase(t *testing.T) string {
	t.Helper()
	img := fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/thin/pve.img.xz"))
	cf := filepath.Join(t.TempDir(), "case.json")
	doc := `{"volume_groups": [{"metadata": "` + fixture.Repo(t, "testdata/lvm/thin/record/pve.vg") + `", "pvs": {"pv0": "` + img + `"}}]}`
	if err := os.WriteFile(cf, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return cf
}

// holmes lvm thin --dump prints what thin_dump printed, byte for byte; the
// table has thin_ls's counts and the LV names, and the transaction ids
// agree.
func TestLVMThinAgreesWithThinTools(t *testing.T) {
	t.Parallel()
	cf := thinCase(t)
	want, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/thin_dump.xml"))
	out, errs, code := holmes(t, "--case", cf, "lvm", "thin", "pve/data", "--dump")
	if code != 0 || out != string(want) {
		t.Errorf("--dump: exit %d, stderr %q, differs from thin_dump:\n%s", code, errs, out)
	}
	out, errs, code = holmes(t, "--case", cf, "lvm", "thin", "pve/data")
	if code != 0 || errs != "" || !strings.Contains(out, "Transaction : 5 (the VG text agrees)") {
		t.Fatalf("exit %d, stderr %q:\n%s", code, errs, out)
	}
	ls, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/thin_ls.txt"))
	lvs := map[string]string{"1": "home", "2": "www", "3": "vm-100-disk-0", "4": "sparse", "5": "home-snap"}
	rows := 0
	for sc := bufio.NewScanner(strings.NewReader(string(ls))); sc.Scan(); {
		c := strings.Fields(sc.Text())
		if len(c) != 7 || c[0] == "DEV" {
			continue
		}
		rows++
		// DEV LV MAPPED EXCLUSIVE SHARED HIGHEST TRANSACTION CREATE SNAP
		wantRow := "│ " + strings.Join([]string{c[0], lvs[c[0]], c[1], c[2], c[3]}, " │ ")
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(wantRow), " ")) {
			t.Errorf("no row %q:\n%s", wantRow, out)
		}
	}
	if rows != 5 {
		t.Errorf("thin_ls has %d rows", rows)
	}
	out, _, code = holmes(t, "--case", cf, "lvm", "thin", "pve/data", "--json")
	var rep struct {
		VGTransactionID int64 `json:"vg_transaction_id"`
		Superblock      struct {
			TransactionID int64 `json:"transaction_id"`
		}
		Devices []struct {
			ID int    `json:"dev_id"`
			LV string `json:"lv"`
		}
		Problems []any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("json: %v, exit %d", err, code)
	}
	if rep.VGTransactionID != 5 || rep.Superblock.TransactionID != 5 || len(rep.Devices) != 5 || rep.Devices[4].LV != "home-snap" || len(rep.Problems) != 0 {
		t.Errorf("json: %+v", rep)
	}

	if _, errs, code := holmes(t, "--case", cf, "lvm", "thin", "pve/data", "--metadata-snap"); code != 1 || !strings.Contains(errs, "holds no metadata snapshot") {
		t.Errorf("--metadata-snap: exit %d, %q", code, errs)
	}

	// A live thin_dump over the same bytes, when installed.
	if _, err := exec.LookPath("thin_dump"); err != nil {
		t.Log("thin_dump not installed: compared with the record only")
		return
	}
	meta := filepath.Join(t.TempDir(), "tmeta.bin")
	d, err := (&Factory{CaseFile: cf}).OpenDevice("pve/data_tmeta")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, d.Size())
	d.ReadAt(b, 0)
	d.Close()
	os.WriteFile(meta, b, 0o444)
	live, err := exec.Command("thin_dump", meta).Output()
	if err != nil {
		t.Fatal(err)
	}
	if out, _, _ := holmes(t, "lvm", "thin", meta, "--dump"); out != string(live) {
		t.Errorf("holmes lvm thin %s --dump differs from a live thin_dump", meta)
	}
}

// Every file of every thin LV (the snapshot, and the VM disk's partition
// inside its thin LV) reads back as the kernel read it.
func TestThinLVFilesMatchKernel(t *testing.T) {
	t.Parallel()
	cf := thinCase(t)
	for rec, dev := range map[string]string{"home": "pve/home", "home-snap": "pve/home-snap", "www": "pve/www", "vm-100-disk-0-p1": "pve/vm-100-disk-0:p1"} {
		checkLabFiles(t, cf, "thin", rec, dev)
	}
}

// checkLabFiles reads every file an LVM lab (testdata/lvm/LAB) recorded in
// files-REC.sha256 from DEV with holmes ext cat: each must be the bytes the
// kernel read.
func checkLabFiles(t *testing.T, cf, lab, rec, dev string) {
	t.Helper()
	f, err := os.Open(fixture.Repo(t, "testdata/lvm/"+lab+"/record/files-"+rec+".sha256"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		sum, path, _ := strings.Cut(sc.Text(), "  ")
		path = strings.TrimPrefix(path, ".")
		out, errs, code := holmes(t, "--case", cf, "ext", "cat", dev, path)
		h := sha256.Sum256([]byte(out))
		if code != 0 || hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s %s: exit %d, stderr %q, not the kernel's bytes", dev, path, code, errs)
		}
		n++
	}
	if n < 9 {
		t.Errorf("%s: %d files recorded", rec, n)
	}
}

// Damaged pool metadata (a copy with one node's checksum broken) is
// reported with what it hides; the rest still reads.
func TestLVMThinDamaged(t *testing.T) {
	t.Parallel()
	cf := thinCase(t)
	b := lvBytes(t, cf, "pve/data_tmeta")
	var rep struct {
		Devices []struct {
			ID      int    `json:"dev_id"`
			Root    uint64 `json:"mapping_root"`
			Mapping struct{ Runs []any }
		}
	}
	out, _, _ := holmes(t, "--case", cf, "lvm", "thin", "pve/data", "--json")
	json.Unmarshal([]byte(out), &rep)
	www := rep.Devices[1].Root
	b[www*4096+200] ^= 1
	meta := filepath.Join(t.TempDir(), "damaged-tmeta.bin")
	os.WriteFile(meta, b, 0o444)
	out, errs, code := holmes(t, "lvm", "thin", meta)
	if code != 0 || !strings.Contains(errs, "1 damaged places") || !strings.Contains(out, "device 2 mapping tree: bad checksum") ||
		!strings.Contains(strings.Join(strings.Fields(out), " "), "│ 2 │ │ 0 │ 0 │ 0 │ - │ 1 │ 0 │ 0 │ 0 and above │") {
		t.Errorf("exit %d, stderr %q:\n%s", code, errs, out)
	}
}

// A VG text that disagrees with the pool (here an edited copy giving
// sparse another device id and a later transaction) is reported as such.
func TestLVMThinDisagreeingText(t *testing.T) {
	t.Parallel()
	text, _ := os.ReadFile(fixture.Repo(t, "testdata/lvm/thin/record/pve.vg"))
	edited := strings.Replace(strings.Replace(string(text), "device_id = 4", "device_id = 9", 1), "transaction_id = 5", "transaction_id = 6", 1)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pve.vg"), []byte(edited), 0o644)
	img := fixture.Unpack(t, fixture.Repo(t, "testdata/lvm/thin/pve.img.xz"))
	cf := filepath.Join(dir, "case.json")
	os.WriteFile(cf, []byte(`{"volume_groups": [{"metadata": "pve.vg", "pvs": {"pv0": "`+img+`"}}]}`), 0o644)
	out, errs, code := holmes(t, "--case", cf, "lvm", "thin", "pve/data")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Transaction : 5 (the VG text says 6: lvm will not activate the pool as it is)",
		"│ 4 │ (not in the VG text) │ 2 │", "not in the pool: sparse (device id 9 in the VG text)"} {
		if code != 0 || !strings.Contains(flat, want) {
			t.Errorf("exit %d, stderr %q, no %q:\n%s", code, errs, want, out)
		}
	}
	if _, err := (&Factory{CaseFile: cf}).OpenDevice("pve/sparse"); err == nil || !strings.Contains(err.Error(), "no thin device 9") {
		t.Errorf("pve/sparse: %v", err)
	}
}

// VG/LV names that are no thin pool: the _tmeta LV is read as metadata,
// another LV is said not to be any.
func TestLVMThinOtherLVs(t *testing.T) {
	t.Parallel()
	cf := thinCase(t)
	if out, errs, code := holmes(t, "--case", cf, "lvm", "thin", "pve/data_tmeta"); code != 0 || !strings.Contains(out, "Transaction : 5\n") {
		t.Errorf("pve/data_tmeta: exit %d, %q:\n%s", code, errs, out)
	}
	if _, errs, code := holmes(t, "--case", cf, "lvm", "thin", "pve/home"); code != 1 || !strings.Contains(errs, "not dm-thin pool metadata") {
		t.Errorf("pve/home: exit %d, %q", code, errs)
	}
}

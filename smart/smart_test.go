package smart

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseCount(t *testing.T) {
	for in, want := range map[string]int64{
		"2,137": 2137, "2.888": 2888, "667 420 [341 GB]": 667420, "1.134.862.706": 1134862706,
		"100%": 100, "0x04": 4, "0x10": 16, "35,495,552 [18.1 TB]": 35495552, "0": 0, "12 000": 12000,
	} {
		got, err := parseCount(in)
		if err != nil || got != want {
			t.Errorf("parseCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", "N/A", "12abc", "99999999999999999999"} {
		if _, err := parseCount(bad); err == nil {
			t.Errorf("parseCount(%q) accepted", bad)
		}
	}
}

func TestRawFromText(t *testing.T) {
	for in, want := range map[string]uint64{
		"0 0 2": 2, "1 0 12": 1<<32 | 12, "12523h+17m+08.635s": 12523, "0/0": 0,
		"31 (Min/Max 20/33)": 31, "11081576447": 11081576447, "0x000c0000000c": 0xc0000000c,
	} {
		if got := rawFromText(in); got != want {
			t.Errorf("rawFromText(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestVendorEncodings pins the decoding of packed raw values on the real
// reports that carry them.
func TestVendorEncodings(t *testing.T) {
	read := func(rel string) *Report { return readPublic(t, rel) }
	exos := read("smartctl_exporter/testdata/sat-Seagate_Exos_X16-ST16000NM001G-2KK103-sda.json")
	if got := attributeCount(*exos.Attribute(188)); got != 12 {
		t.Errorf("Exos 188 raw 0x000C0000000C: count %d, want 12 (low word)", got)
	}
	st6000 := read("linuxhw-EnterpriseDrive/HDD/Seagate/ST6000/ST6000NM0024-1HT17Z/C4A007B8F0C8")
	if got := attributeCount(*st6000.Attribute(188)); got != 2 {
		t.Errorf(`ST6000 188 "0 0 2": count %d, want 2`, got)
	}
	for id, want := range map[int]uint64{1: 0, 7: 2} { // 69621142 = 0x0000_0426_5B96; 11081576447 = 0x0002_9487_C4FF
		if got, _ := errorRateCount(*st6000.Attribute(id), isSeagate(st6000)); got != want {
			t.Errorf("ST6000 attribute %d: %d errors, want %d", id, got, want)
		}
	}
	if got := attributeCount(*st6000.Attribute(197)); got != 456 {
		t.Errorf("ST6000 197: %d", got)
	}
	sat := read("scrutiny/webapp/backend/pkg/models/testdata/smart-sat.json")
	if got := attributeCount(*sat.Attribute(196)); got != 2111 {
		t.Errorf(`196 "2111 (12437 0)": count %d, want 2111`, got)
	}
	sde := read("pve-storage/src/test/disk_tests/ssd_smart/sde_smart")
	if sde.PowerOnHours != 7963 {
		t.Errorf(`power-on hours from "7963h+07m+54.620s": %d`, sde.PowerOnHours)
	}
}

// TestTextLayouts checks facts read from each text layout against the
// report's own lines.
func TestTextLayouts(t *testing.T) {
	read := func(rel string) *Report {
		t.Helper()
		r := readPublic(t, rel)
		if r.Format != "text" {
			t.Fatalf("%s: format %s", rel, r.Format)
		}
		return r
	}

	nvme := read("py-SMART/tests/dataset/singletests/nvme_11_issue_75/_-d_nvme_--all__dev_sda")
	if nvme.Protocol != NVMe || nvme.NVMe.ErrorLogEntries != 2888 || nvme.PowerOnHours != 10188 || nvme.NVMe.PercentageUsed != 33 {
		t.Errorf("NVMe with '.' separators: %+v %+v", nvme, nvme.NVMe)
	}
	if len(nvme.SelfTests) != 4 || nvme.SelfTests[0].LifetimeHours != 8754 || nvme.SelfTests[0].Outcome != "passed" {
		t.Errorf("NVMe self-tests: %+v", nvme.SelfTests)
	}
	dell := read("linuxhw-EnterpriseDrive/NVMe/Dell/Express Flash NVMe PM1725/Express Flash NVMe PM1725 1.6TB AIC/23A840B7671B")
	if dell.NVMe.MediaErrors != 2137 || dell.NVMe.CriticalWarning != 4 || *dell.Passed {
		t.Errorf("Dell NVMe: %+v", dell.NVMe)
	}
	old := read("pve-storage/src/test/disk_tests/nvme_smart/nvme0n1_smart") // smartctl 6.6
	if old.Protocol != NVMe || old.NVMe.PercentageUsed != 31 || old.PowerOnHours != 687 {
		t.Errorf("smartctl 6.6 NVMe: %+v", old.NVMe)
	}

	sas := read("py-SMART/tests/dataset/singletests/sas_hdd_0_issue_51/_-d_scsi_--all__dev_sdc")
	if sas.Protocol != SCSI || sas.SCSI.GrownDefects != 0 || len(sas.SCSI.Uncorrected) != 3 || sas.Model != "HGST HUH721212AL4204" {
		t.Errorf("SAS with locale numbers: %+v %+v", sas, sas.SCSI)
	}
	if sas.SelfTests == nil || len(sas.SelfTests) != 0 {
		t.Errorf("SAS: 'No Self-tests have been logged' should be an empty log, got %+v", sas.SelfTests)
	}
	sasSSD := read("py-SMART/tests/dataset/singletests/sas_ssd_0_issue_57/_-x__dev_sdb")
	if sasSSD.PowerOnHours != 146 || len(sasSSD.SelfTests) != 5 || sasSSD.SelfTests[0].LifetimeHours != 134 {
		t.Errorf("SAS SSD -x: hours %d, self-tests %+v", sasSSD.PowerOnHours, sasSSD.SelfTests)
	}
	pveSAS := read("pve-storage/src/test/disk_tests/sas/sda_smart")
	if pveSAS.PowerOnHours != 7127 || !*pveSAS.Passed {
		t.Errorf("SAS without header: %+v", pveSAS)
	}

	oldATA := read("py-SMART/tests/dataset/singletests/sat_hdd_0_issue70/_-d_sat_--all__dev_sg2")
	if a := oldATA.Attribute(1); a == nil || !a.Prefail || a.Thresh != 44 || a.Raw != 148350832 {
		t.Errorf("old layout attribute 1: %+v", a)
	}
	if oldATA.ErrorLogCount != 0 || len(oldATA.SelfTests) != 2 || oldATA.PowerOnHours != 1380 {
		t.Errorf("old layout logs: errors %d self-tests %+v", oldATA.ErrorLogCount, oldATA.SelfTests)
	}
	wdc := read("linuxhw-EnterpriseDrive/HDD/WDC/WD10/WD10EALX-009BA0/2F780FC130D6")
	if a := wdc.Attribute(5); a.WhenFailed != "now" || a.Raw != 730 || a.Thresh != 140 {
		t.Errorf("brief layout attribute 5: %+v", a)
	}
	if wdc.ErrorLogCount != 530 || wdc.SelfTests[0].Outcome != "failed" || wdc.SelfTests[0].LifetimeHours != 44901 {
		t.Errorf("-x logs: errors %d, newest self-test %+v", wdc.ErrorLogCount, wdc.SelfTests[0])
	}
	progress := read("py-SMART/tests/dataset/singletests/sata_hdd_0_issue42/_-d_ata_--all__dev_sdau")
	if progress.SelfTests[0].Outcome != "" || !strings.Contains(progress.SelfTests[0].Status, "in progress") {
		t.Errorf("running self-test: %+v", progress.SelfTests[0])
	}
	usb := read("py-SMART/tests/dataset/singletests/usb_ssd_0_issue_50/_-d_ata_--all__dev_sda")
	if a := usb.Attribute(5); a.Thresh != Unknown {
		t.Errorf(`THRESH "---" should be Unknown: %+v`, a)
	}
	health := read("pve-storage/src/test/disk_tests/hdd_smart/sda_health")
	if health.Passed == nil || !*health.Passed || len(health.Attributes) != 0 {
		t.Errorf("health-only report: %+v", health)
	}
}

func TestSelfTestHoursWrap(t *testing.T) {
	// smart-fail2: 65592 power-on hours, newest test logged at hour 42:
	// the 16-bit log wrapped, so the test ran 14 hours ago, not never.
	r := readPublic(t, "scrutiny/webapp/backend/pkg/models/testdata/smart-fail2.json")
	if age, ok := selfTestAge(r, &r.SelfTests[0]); !ok || age != 14 {
		t.Errorf("age %d %v, want 14", age, ok)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"blank":       "  \n\t\n",
		"random text": "hello\nworld\n",
		"json array":  "[1,2,3]",
		"other json":  `{"name": "x"}`,
		"bad attr":    "smartctl 7.3\nID# ATTRIBUTE_NAME          FLAGS    VALUE WORST THRESH FAIL RAW_VALUE\n  5 Reallocated_Sector_Ct   PO--CK   abc   100   010    -    0\n",
		"bad count":   "smartctl 7.3\nSMART/Health Information (NVMe Log 0x02)\nMedia and Data Integrity Errors: lots\n",
	} {
		_, err := Parse("x.txt", []byte(in))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "smart: x.txt: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q is not one line naming the file", name, err)
		}
	}
}

func TestChoose(t *testing.T) {
	dir := publicDir(t)
	score := func(rel string) Result {
		t.Helper()
		r, err := ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return Score(r)
	}
	failing := score("libblockdev/tests/smart_dumps/HGST_HUS726060ALA640.json")
	healthy := score("libblockdev/tests/smart_dumps/HGST_HMS5C4040BLE640.json")
	watch := score("smartctl_exporter/testdata/HGST_HUS724020ALE640_28.json")
	minor := score("smartctl_exporter/testdata/ST3500418AS_11.json")        // ok, but 5=1 and 188=1
	red := score("smartctl_exporter/testdata/WDC_WD20EFRX-68EUZN0_17.json") // same kind of report, clean

	for _, c := range []struct {
		a, b  Result
		trust string
		says  string
	}{
		{failing, healthy, healthy.File, "Current_Pending_Sector"},
		{healthy, failing, healthy.File, "Current_Pending_Sector"},
		{watch, failing, watch.File, "Current_Pending_Sector"},
		{healthy, watch, healthy.File, "error log"},
		{minor, red, red.File, "Reallocated_Sector_Ct"},
	} {
		p := Choose(c.a, c.b)
		if p.Trust == nil || *p.Trust != c.trust || !strings.Contains(p.Why, c.says) {
			t.Errorf("Choose(%s, %s) = %v %q; want %s because of %s", c.a.File, c.b.File, p.Trust, p.Why, c.trust, c.says)
		}
		if p.Members != [2]string{c.a.File, c.b.File} {
			t.Errorf("members %v", p.Members)
		}
	}
	twin := healthy
	twin.File = "twin.json"
	if p := Choose(healthy, twin); p.Trust != nil || !strings.Contains(p.Why, "equally sound") {
		t.Errorf("equal drives: %+v", p)
	}
}

// TestQueryDevice runs the live path against a stand-in smartctl that
// prints a real report: the device argument is a device node (/dev/null,
// a character device like an NVMe controller), and smartctl's non-zero
// exit status (bit 3, disk failing) is read, not taken as a failed run.
func TestQueryDevice(t *testing.T) {
	if !IsDevice("/dev/null") {
		t.Skip("/dev/null is not a device node here")
	}
	report := filepath.Join(publicDir(t), "smartctl_exporter/testdata/nvme-null-SAMSUNG_MZWLL3T2HAJQ-00005-nvme0.json")
	bin := t.TempDir()
	argsFile := filepath.Join(bin, "args")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\ncat '" + report + "'\nexit 8\n"
	if err := os.WriteFile(filepath.Join(bin, "smartctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	r, err := Load(context.Background(), "/dev/null", "smartctl")
	if err != nil {
		t.Fatal(err)
	}
	if r.File != "/dev/null" || Score(r).Health != Fail || r.NVMe.CriticalWarning != 16 {
		t.Errorf("live report: %+v", r)
	}
	args, _ := os.ReadFile(argsFile)
	if strings.TrimSpace(string(args)) != "-j -x /dev/null" {
		t.Errorf("smartctl ran with %q, want -j -x /dev/null", args)
	}

	t.Setenv("PATH", t.TempDir())
	if _, err := Load(context.Background(), "/dev/null", "smartctl"); err == nil || !strings.Contains(err.Error(), "smartctl is not installed") {
		t.Errorf("without smartctl: %v", err)
	}
}

// TestQueryDeviceCancelled: a smartctl that never answers (a drive that
// stalls every command) is stopped when the caller's context ends.
func TestQueryDeviceCancelled(t *testing.T) {
	if !IsDevice("/dev/null") {
		t.Skip("/dev/null is not a device node here")
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "smartctl"), []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := QueryDevice(ctx, "smartctl", "/dev/null")
	if err == nil || !strings.Contains(err.Error(), "smartctl stopped") || !strings.Contains(err.Error(), "/dev/null") {
		t.Errorf("cancelled run: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled run took %v", d)
	}
}

// TestSelfTestStatusWords classifies the status wordings smartctl prints
// for ATA, SCSI and NVMe self-tests.
func TestSelfTestStatusWords(t *testing.T) {
	for status, want := range map[string]string{
		"Completed without error":       "passed",
		"Completed":                     "passed", // SCSI
		"Completed: read failure":       "failed",
		"Completed: unknown failure":    "failed",
		"Completed: electrical failure": "failed",
		"Failed in segment -->":         "failed", // SCSI
		"Fatal or unknown error":        "failed",
		"Aborted by host":               "",
		"Interrupted (host reset)":      "",
		"Self-test routine in progress": "",
	} {
		if got := textSelfTestOutcome(status); got != want {
			t.Errorf("%q: %q, want %q", status, got, want)
		}
	}
}

// readPublic parses a report from the public SMART fixtures.
func readPublic(t *testing.T, rel string) *Report {
	t.Helper()
	r, err := ReadFile(filepath.Join(publicDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

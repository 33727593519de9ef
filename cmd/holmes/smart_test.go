package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

func smartFixture(t *testing.T, rel string) string {
	t.Helper()
	return fixture.Public(t, filepath.Join("smart", rel))
}

type smartResultJSON struct {
	File     string `json:"file"`
	Model    string `json:"model"`
	Serial   string `json:"serial"`
	Protocol string `json:"protocol"`
	Health   string `json:"health"`
	Score    *int   `json:"score"`
	Reasons  []struct {
		Attr, Name, Raw, Why string
	} `json:"reasons"`
}

func TestSmartScoreJSON(t *testing.T) {
	t.Parallel()
	failing := smartFixture(t, "libblockdev/tests/smart_dumps/HGST_HUS726060ALA640.json")
	seagate := smartFixture(t, "pve-storage/src/test/disk_tests/hdd_smart/sda_smart")
	nvme := smartFixture(t, "linuxhw-EnterpriseDrive/NVMe/Dell/Express Flash NVMe PM1725/Express Flash NVMe PM1725 1.6TB AIC/23A840B7671B")
	stdout, stderr, code := holmes(t, "smart", "score", "--json", failing, seagate, nvme)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got []smartResultJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON array: %v\n%s", err, stdout)
	}
	if len(got) != 3 {
		t.Fatalf("%d results", len(got))
	}
	want := []struct{ file, model, protocol, health string }{
		{failing, "HGST HUS726060ALA640", "ATA", "fail"},
		{seagate, "", "ATA", "ok"},
		{nvme, "Dell Express Flash NVMe PM1725 1.6TB AIC", "NVMe", "fail"},
	}
	for i, w := range want {
		g := got[i]
		if g.File != w.file || g.Model != w.model || g.Protocol != w.protocol || g.Health != w.health || g.Score == nil || g.Reasons == nil {
			t.Errorf("result %d = %+v, want %+v", i, g, w)
		}
	}
	attrs := map[string]string{}
	for _, r := range got[0].Reasons {
		attrs[r.Attr] = r.Raw
	}
	for attr, raw := range map[string]string{"5": "1040", "197": "878", "198": "1272"} {
		if attrs[attr] != raw {
			t.Errorf("reason for attribute %s: raw %q, want %q (reasons %+v)", attr, attrs[attr], raw, got[0].Reasons)
		}
	}
}

func TestSmartScorePairs(t *testing.T) {
	t.Parallel()
	failing := smartFixture(t, "libblockdev/tests/smart_dumps/HGST_HUS726060ALA640.json")
	healthy := smartFixture(t, "libblockdev/tests/smart_dumps/HGST_HMS5C4040BLE640.json")
	watch := smartFixture(t, "smartctl_exporter/testdata/HGST_HUS724020ALE640_28.json")
	// Pair members need not be repeated as FILE arguments.
	stdout, stderr, code := holmes(t, "smart", "score", "--json", "--pair", failing+","+healthy,
		"--pair", healthy+","+healthy2(t, healthy), "--pair", watch+","+failing)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Drives []smartResultJSON `json:"drives"`
		Pairs  []struct {
			Members []string `json:"members"`
			Trust   *string  `json:"trust"`
			Why     string   `json:"why"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(got.Drives) != 4 || len(got.Pairs) != 3 {
		t.Fatalf("%d drives, %d pairs:\n%s", len(got.Drives), len(got.Pairs), stdout)
	}
	if p := got.Pairs[0]; p.Trust == nil || *p.Trust != healthy || len(p.Members) != 2 || p.Members[0] != failing {
		t.Errorf("failing vs healthy: %+v", p)
	}
	if p := got.Pairs[1]; p.Trust != nil || !strings.Contains(p.Why, "equally sound") {
		t.Errorf("identical reports: %+v", p)
	}
	if p := got.Pairs[2]; p.Trust == nil || *p.Trust != watch {
		t.Errorf("watch vs fail: %+v", p)
	}
}

// healthy2 copies a report under another name: the same drive state seen
// twice must leave the choice open.
func healthy2(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "twin.json")
	if err := os.WriteFile(copyPath, data, 0o444); err != nil {
		t.Fatal(err)
	}
	return copyPath
}

func TestSmartScoreTable(t *testing.T) {
	t.Parallel()
	seagate := smartFixture(t, "linuxhw-EnterpriseDrive/HDD/Seagate/ST6000/ST6000NM0024-1HT17Z/C4A007B8F0C8")
	healthy := smartFixture(t, "linuxhw-EnterpriseDrive/HDD/Seagate/ST1000/ST1000NM0018-2F2130/26A736D2F414")
	stdout, stderr, code := holmes(t, "smart", "score", seagate, healthy, "--pair", seagate+","+healthy)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"HEALTH", "ST6000NM0024-1HT17Z", "fail", "ok", "Current_Pending_Sector = 456",
		"trust " + healthy} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSmartScoreErrors(t *testing.T) {
	t.Parallel()
	empty := smartFixture(t, "libblockdev/tests/smart_dumps/05_empty.json")
	good := smartFixture(t, "smartctl_exporter/testdata/WDC_WD20EFRX-68EUZN0_17.json")
	for _, c := range []struct {
		args    []string
		code    int
		says    string
		reports bool // the readable FILEs are scored before the failure
	}{
		{[]string{"smart", "score", good, empty}, 1, empty + ": empty file", true},
		{[]string{"smart", "score", "--json", smartFixture(t, "libblockdev/tests/smart_dumps/04_malformed.json")}, 1, "malformed smartctl JSON", false},
		{[]string{"smart", "score", "/nonexistent/report.txt"}, 1, "/nonexistent/report.txt", false},
		{[]string{"smart", "score"}, 2, "holmes smart score: needs a FILE", false},
		{[]string{"smart", "score", "--pair", good}, 2, "--pair", false},
		{[]string{"smart", "score", "--pair", good + "," + good}, 2, "two different files", false},
	} {
		stdout, stderr, code := holmes(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) || strings.Count(stderr, "\n") != 1 || (stdout != "") != c.reports {
			t.Errorf("holmes %v: exit %d, stderr %q, stdout %q; want exit %d saying %q", c.args, code, stderr, stdout, c.code, c.says)
		}
	}
}

// TestSmartScoreDevice: a device node is queried with smartctl -j -x; a
// stand-in smartctl prints a real failing report.
func TestSmartScoreDevice(t *testing.T) {
	t.Parallel()
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeDevice == 0 {
		t.Skip("no /dev/null device node")
	}
	report := smartFixture(t, "scrutiny/webapp/backend/pkg/models/testdata/smart-fail2.json")
	bin := t.TempDir()
	script := "#!/bin/sh\n[ \"$1 $2 $3\" = \"-j -x /dev/null\" ] || exit 1\ncat '" + report + "'\nexit 216\n"
	if err := os.WriteFile(filepath.Join(bin, "smartctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := holmesWith(t, func(f *Factory) { f.Smartctl = filepath.Join(bin, "smartctl") }, "smart", "score", "--json", "/dev/null")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []smartResultJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || len(got) != 1 {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if got[0].File != "/dev/null" || got[0].Health != "fail" || got[0].Model != "Hitachi HDS721050DLE630" {
		t.Errorf("%+v", got[0])
	}
}

// TestSmartScoreRealSmartctl runs the installed smartctl on a device node
// that has no SMART (/dev/null): the real tool's refusal must come back as
// one line naming the device, not as a score.
func TestSmartScoreRealSmartctl(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("smartctl"); err != nil {
		t.Skip("smartctl not installed")
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeDevice == 0 {
		t.Skip("no /dev/null device node")
	}
	stdout, stderr, code := holmes(t, "smart", "score", "/dev/null")
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "holmes: smart: /dev/null: smartctl") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestSmartScorePairAbsentLogs: a report whose logs were removed (derived
// from a real one) says so with low-weight "absent" reasons, and is
// trusted over halves with real defects: 5=1 with 188=1, and 12 logged
// errors with 12 CRC errors.
func TestSmartScorePairAbsentLogs(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(smartFixture(t, "scrutiny/webapp/backend/pkg/models/testdata/smart-ata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "ata_smart_error_log")
	delete(doc, "ata_smart_self_test_log")
	noLogs := filepath.Join(t.TempDir(), "no-logs.json")
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noLogs, data, 0o444); err != nil {
		t.Fatal(err)
	}
	minor := smartFixture(t, "smartctl_exporter/testdata/ST3500418AS_11.json")
	logged := smartFixture(t, "smartctl_exporter/testdata/HGST_HUS724020ALE640_28.json")
	stdout, stderr, code := holmes(t, "smart", "score", "--json", "--pair", minor+","+noLogs, "--pair", noLogs+","+logged)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Drives []struct {
			File    string `json:"file"`
			Health  string `json:"health"`
			Reasons []struct {
				Attr, Raw, Kind string
				Penalty         int
			} `json:"reasons"`
		} `json:"drives"`
		Pairs []struct {
			Trust *string `json:"trust"`
			Why   string  `json:"why"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, d := range got.Drives {
		if d.File != noLogs {
			continue
		}
		absent := 0
		for _, r := range d.Reasons {
			if r.Kind != "absent" || r.Raw != "absent" || r.Penalty > 1 {
				t.Errorf("no-logs report: reason %+v", r)
			}
			absent++
		}
		if d.Health != "ok" || absent != 2 {
			t.Errorf("no-logs report: %+v", d)
		}
	}
	for i, p := range got.Pairs {
		if p.Trust == nil || *p.Trust != noLogs || !strings.Contains(p.Why, "defects") {
			t.Errorf("pair %d: %+v; the half with defects must not be trusted over one whose report lacks logs", i, p)
		}
	}
}

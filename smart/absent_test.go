package smart

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// variant derives a report from a real smartctl -j report: change edits
// the decoded document (removing a log, setting a counter), and the result
// is parsed as smartctl's own output would be.
func variant(t *testing.T, rel, name string, change func(doc map[string]any)) Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(publicDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(doc)
	}
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	r, err := Parse(name, data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return Score(r)
}

// setRaw sets an ATA attribute's raw counter in a decoded report.
func setRaw(t *testing.T, doc map[string]any, id int, raw int) {
	t.Helper()
	for _, a := range doc["ata_smart_attributes"].(map[string]any)["table"].([]any) {
		if attr := a.(map[string]any); attr["id"].(float64) == float64(id) {
			attr["raw"] = map[string]any{"value": raw, "string": strconv.Itoa(raw)}
			return
		}
	}
	t.Fatalf("no attribute %d", id)
}

func withoutLogs(doc map[string]any) {
	delete(doc, "ata_smart_error_log")
	delete(doc, "ata_smart_self_test_log")
}

// fullReport is a clean WD drive's smartctl -x -j with both logs.
const fullReport = "scrutiny/webapp/backend/pkg/models/testdata/smart-ata.json"

// TestAbsentLogsAreNotDefects: a report without its self-test or error
// log says so with a low weight, and lacking both weighs less than the
// smallest defect.
func TestAbsentLogsAreNotDefects(t *testing.T) {
	full := variant(t, fullReport, "full.json", nil)
	if full.Health != OK || len(full.reasonsOf(Absent)) != 0 || full.defectWeight() != 0 {
		t.Fatalf("the full clean report: %+v", full)
	}
	for _, c := range []struct {
		name   string
		change func(map[string]any)
		absent []string
	}{
		{"no-error-log.json", func(d map[string]any) { delete(d, "ata_smart_error_log") }, []string{"error_log"}},
		{"no-self-test-log.json", func(d map[string]any) { delete(d, "ata_smart_self_test_log") }, []string{"self_test"}},
		{"no-logs.json", withoutLogs, []string{"error_log", "self_test"}},
	} {
		v := variant(t, fullReport, c.name, c.change)
		var got []string
		for _, r := range v.Reasons {
			if r.Kind == Absent {
				got = append(got, r.Attr)
				if r.Severity != Info || r.Raw != "absent" || !strings.Contains(r.Why, "not a defect") {
					t.Errorf("%s: %+v", c.name, r)
				}
			}
		}
		if strings.Join(got, " ") != strings.Join(c.absent, " ") {
			t.Errorf("%s: absent %v, want %v", c.name, got, c.absent)
		}
		if v.Health != OK || full.Score-v.Score >= minDefectPenalty {
			t.Errorf("%s: %s %d against the full report's %d: a missing log must weigh less than the smallest defect (%d)",
				c.name, v.Health, v.Score, full.Score, minDefectPenalty)
		}
		if p := Choose(full, v); p.Trust == nil || *p.Trust != full.File {
			t.Errorf("full vs %s: %+v; the report that shows more is trusted, not 'either'", c.name, p)
		}
	}
	if penalty := minPublicDefectPenalty(t); penalty < minDefectPenalty {
		t.Errorf("a public report has a defect weighing %d, less than %d", penalty, minDefectPenalty)
	}
}

// minPublicDefectPenalty is the smallest defect penalty over every public
// report.
func minPublicDefectPenalty(t *testing.T) int {
	least := 1 << 30
	for _, r := range publicResults(t) {
		for _, reason := range r.Reasons {
			if reason.Kind == Defect {
				least = min(least, reason.Penalty)
			}
		}
	}
	return least
}

// publicResults scores every public report that parses.
func publicResults(t *testing.T) []Result {
	t.Helper()
	var out []Result
	err := filepath.WalkDir(publicDir(t), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if r, err := ReadFile(path); err == nil {
			out = append(out, Score(r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChooseDefectsOverAbsence: between two halves, the one with a real
// defect is not trusted, whatever the other's report lacks.
func TestChooseDefectsOverAbsence(t *testing.T) {
	noLogs := variant(t, fullReport, "no-logs.json", withoutLogs)
	defects := map[string]Result{
		"reallocated": variant(t, fullReport, "reallocated.json", func(d map[string]any) { setRaw(t, d, 5, 1) }),
		"pending":     variant(t, fullReport, "pending.json", func(d map[string]any) { setRaw(t, d, 197, 1) }),
		"offline":     variant(t, fullReport, "offline.json", func(d map[string]any) { setRaw(t, d, 198, 1) }),
		"crc":         variant(t, fullReport, "crc.json", func(d map[string]any) { setRaw(t, d, 199, 1) }),
		"logged errors": variant(t, fullReport, "errors.json", func(d map[string]any) {
			d["ata_smart_error_log"] = map[string]any{"summary": map[string]any{"revision": 1, "count": 1}}
		}),
	}
	for what, d := range defects {
		if d.defectWeight() == 0 {
			t.Errorf("%s: no defect found: %+v", what, d.Reasons)
			continue
		}
		for _, p := range []Pair{Choose(d, noLogs), Choose(noLogs, d)} {
			if p.Trust == nil || *p.Trust != noLogs.File || !strings.Contains(p.Why, "defects") || !strings.Contains(p.Why, "unknown, not a defect") {
				t.Errorf("%s vs a clean report without logs: %+v", what, p)
			}
		}
	}
	// Every real report with a defect loses against the clean one without
	// logs: 5=1 with 188=1, 12 logged errors with 12 CRC errors, a FAILED
	// drive, an NVMe with media errors, SAS grown defects, ...
	checked := 0
	for _, r := range publicResults(t) {
		if r.defectWeight() == 0 {
			continue
		}
		checked++
		if p := Choose(r, noLogs); p.Trust == nil || *p.Trust != noLogs.File {
			t.Errorf("%s (defects %v) trusted over a clean report without logs: %+v", r.File, r.reasonsOf(Defect), p)
		}
	}
	if checked < 20 {
		t.Errorf("only %d public reports with defects", checked)
	}
}

// TestChooseEitherOnlyWhenEqual: "either" (no trust) only for the same
// evidence; a report with nothing but the verdict cannot clear a drive.
func TestChooseEitherOnlyWhenEqual(t *testing.T) {
	full := variant(t, fullReport, "a.json", nil)
	twin := variant(t, fullReport, "b.json", nil)
	if p := Choose(full, twin); p.Trust != nil || !strings.Contains(p.Why, "equally sound") {
		t.Errorf("the same report twice: %+v", p)
	}
	noLogsA := variant(t, fullReport, "c.json", withoutLogs)
	noLogsB := variant(t, fullReport, "d.json", withoutLogs)
	if p := Choose(noLogsA, noLogsB); p.Trust != nil {
		t.Errorf("the same thin report twice: %+v", p)
	}
	onlyErrorLog := variant(t, fullReport, "e.json", func(d map[string]any) { delete(d, "ata_smart_self_test_log") })
	if p := Choose(noLogsA, onlyErrorLog); p.Trust == nil || *p.Trust != onlyErrorLog.File {
		t.Errorf("one log against none: %+v", p)
	}
	verdictOnly := variant(t, fullReport, "verdict.json", func(d map[string]any) {
		withoutLogs(d)
		delete(d, "ata_smart_attributes")
	})
	if !verdictOnly.countersUnknown() {
		t.Fatalf("a report without attributes: %+v", verdictOnly)
	}
	reallocated := variant(t, fullReport, "reallocated.json", func(d map[string]any) { setRaw(t, d, 5, 2) })
	if p := Choose(reallocated, verdictOnly); p.Trust != nil || !strings.Contains(p.Why, "unknown") {
		t.Errorf("a defect against a verdict alone must stay undecided: %+v", p)
	}
	if p := Choose(verdictOnly, full); p.Trust == nil || *p.Trust != full.File {
		t.Errorf("a verdict alone against a full clean report: %+v", p)
	}
}

// TestTextReportWithoutLogs: a smartctl -x text report with its error log
// and self-test log sections cut out says both are absent, stays ok, and
// is still trusted over a real report with defects.
func TestTextReportWithoutLogs(t *testing.T) {
	const rel = "linuxhw-EnterpriseDrive/HDD/Seagate/ST1000/ST1000NM0018-2F2130/26A736D2F414"
	data, err := os.ReadFile(filepath.Join(publicDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	cutting := false
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "SMART Extended Comprehensive Error Log") || strings.HasPrefix(l, "SMART Extended Self-test Log") {
			cutting = true
		}
		if cutting && strings.TrimSpace(l) == "" {
			cutting = false
		}
		if !cutting {
			kept = append(kept, l)
		}
	}
	if len(kept) > strings.Count(string(data), "\n")-6 {
		t.Fatal("the log sections were not found")
	}
	r, err := Parse("no-logs.txt", []byte(strings.Join(kept, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	v := Score(r)
	if got := strings.Join(v.reasonsOf(Absent), ", "); v.Health != OK || got != "ATA error log, self-test log" {
		t.Fatalf("%s %d, absent: %s; reasons %+v", v.Health, v.Score, got, v.Reasons)
	}
	failing, err := ReadFile(filepath.Join(publicDir(t), "linuxhw-EnterpriseDrive/HDD/Seagate/ST6000/ST6000NM0024-1HT17Z/C4A007B8F0C8"))
	if err != nil {
		t.Fatal(err)
	}
	if p := Choose(Score(failing), v); p.Trust == nil || *p.Trust != v.File {
		t.Errorf("%+v", p)
	}
}

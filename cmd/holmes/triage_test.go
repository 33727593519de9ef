package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTriageUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"triage"},
		{"triage", "--smart", "nofile", "d0.img"},
	} {
		_, stderr, code := holmes(t, args...)
		if code != 2 || !strings.Contains(stderr, "holmes triage") || !strings.Contains(stderr, "usage: holmes triage") {
			t.Errorf("holmes %v: exit %d, stderr %q; want 2 with the usage line", args, code, stderr)
		}
	}
	_, stderr, code := holmes(t, "triage", filepath.Join(t.TempDir(), "absent.img"))
	if code != 1 || !strings.Contains(stderr, "absent.img") {
		t.Errorf("triage of a missing file: exit %d, %q", code, stderr)
	}
}

// TestTriageIncidentCLI: one holmes triage call over the incident's ten
// disks writes a case file through which the other commands read every LV.
func TestTriageIncidentCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	t.Parallel()
	r := loadIncident(t)
	var disks []string
	for _, d := range r.Disks {
		disks = append(disks, incidentDev(t, d))
	}
	dir := t.TempDir()
	casePath := filepath.Join(dir, "case.json")
	out, stderr, code := holmes(t, append([]string{"triage", "--json", "--write-case", casePath}, disks...)...)
	if code != 0 {
		t.Fatalf("triage: exit %d: %s", code, stderr)
	}
	var doc struct {
		Arrays []struct {
			Name    string   `json:"name"`
			Source  string   `json:"source"`
			Trusted []string `json:"trusted"`
		} `json:"arrays"`
		VolumeGroups []struct {
			VG    string   `json:"vg"`
			Seqno int64    `json:"seqno"`
			LVs   []string `json:"lvs"`
		} `json:"volume_groups"`
		Filesystems []struct {
			Dev    string `json:"dev"`
			RootOK bool   `json:"root_ok"`
			Files  int64  `json:"files"`
		} `json:"filesystems"`
		Plan     []string `json:"plan"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("triage --json: %v\n%s", err, out)
	}
	if len(doc.Arrays) != 2 || len(doc.VolumeGroups) != 1 || doc.VolumeGroups[0].Seqno != r.Original.VG.Seqno {
		t.Errorf("triage found arrays %+v and VGs %+v", doc.Arrays, doc.VolumeGroups)
	}
	for fsName, files := range r.Files {
		if fsName == "root" {
			continue
		}
		for path, want := range files {
			got, stderr, code := holmes(t, "--case", casePath, "ext", "cat", fsName, path)
			sum := sha256.Sum256([]byte(got))
			if code != 0 || hex.EncodeToString(sum[:]) != want.SHA256 {
				t.Errorf("ext cat %s %s through the case file: exit %d (%s), sha256 %x, want %s", fsName, path, code, stderr, sum, want.SHA256)
			}
		}
	}
}

// TestTriageSubsetIsAmbiguous: given only the first two disks, the raid10
// is a subset of a larger array: triage says so, exits 3, and the case
// file holds only what was decided.
func TestTriageSubsetIsAmbiguous(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks the incident's disks")
	}
	t.Parallel()
	disks := []string{incidentDev(t, "d0.img.xz"), incidentDev(t, "d1.img.xz")}
	casePath := filepath.Join(t.TempDir(), "case.json")
	out, stderr, code := holmes(t, append([]string{"triage", "--json", "--write-case", casePath}, disks...)...)
	if code != 3 || !strings.Contains(stderr, "ambiguous") {
		t.Fatalf("triage of two halves: exit %d (%s), want 3", code, stderr)
	}
	var doc struct {
		Arrays []struct {
			Name      string   `json:"name"`
			Ambiguous bool     `json:"ambiguous"`
			Why       []string `json:"why_ambiguous"`
		} `json:"arrays"`
		Plan []string `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var decided, open []string
	for _, a := range doc.Arrays {
		if a.Ambiguous {
			open = append(open, a.Name)
		} else {
			decided = append(decided, a.Name)
		}
	}
	if len(open) != 1 {
		t.Fatalf("arrays %+v: want exactly one ambiguous (the raid10 subset)", doc.Arrays)
	}
	for _, line := range doc.Plan {
		if strings.Contains(line, "mdadm --create") && strings.Contains(line, open[0]) {
			t.Errorf("the plan creates the ambiguous array: %s", line)
		}
	}
	c, err := os.ReadFile(casePath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(c), `"`+open[0]+`"`) {
		t.Errorf("the case file records the ambiguous array %s:\n%s", open[0], c)
	}
}

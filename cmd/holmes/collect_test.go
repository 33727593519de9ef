package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// triageDoc is what the collect tests compare of two triage runs.
type triageDoc struct {
	Arrays []struct {
		Name    string   `json:"name"`
		Level   string   `json:"level"`
		Layout  string   `json:"layout"`
		Members []string `json:"members"`
		Trusted []string `json:"trusted"`
		Halves  []struct {
			Members    []string `json:"members"`
			Trust      string   `json:"trust"`
			Why        []string `json:"why"`
			Uncompared int64    `json:"uncompared_bytes"`
		} `json:"halves"`
		Divergence []struct {
			A, B       string
			Start, End int64
			Touches    []struct{ Layer, What, Path string }
		} `json:"divergence"`
	} `json:"arrays"`
	VolumeGroups []struct {
		VGUUID string `json:"vg_uuid"`
		Seqno  int64  `json:"seqno"`
	} `json:"volume_groups"`
	Filesystems []struct {
		Dev    string `json:"dev"`
		UUID   string `json:"uuid"`
		RootOK bool   `json:"root_ok"`
		Files  int64  `json:"files"`
	} `json:"filesystems"`
	Plan     []string `json:"plan"`
	Warnings []string `json:"warnings"`
}

func triageJSON(t *testing.T, casePath string, devs ...string) triageDoc {
	t.Helper()
	out, stderr, code := holmes(t, append([]string{"triage", "--json", "--write-case", casePath}, devs...)...)
	if code != 0 {
		t.Fatalf("triage %v: exit %d: %s", devs, code, stderr)
	}
	var doc triageDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("triage --json: %v", err)
	}
	return doc
}

// TestCollectIncidentTriage is issue 15's proof for collect: the ten
// incident disks collected, then the disks taken away, triage over the
// archive alone decides the same arrays, halves, VG and filesystems, says
// the same of every region where halves differ (the file it holds), and
// prints the same plan, line for line, naming the same DEVs — while every
// half it compares says how much it could not compare.
func TestCollectIncidentTriage(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	r := loadIncident(t)
	dir := t.TempDir()
	// The disks under names of their own, which go away after collecting.
	disksDir := filepath.Join(dir, "disks")
	if err := os.Mkdir(disksDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var disks []string
	for _, d := range r.Disks {
		name := filepath.Join(disksDir, strings.TrimSuffix(d, ".xz"))
		if err := os.Symlink(incidentDev(t, d), name); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, name)
	}
	casePath := filepath.Join(dir, "case", "case.json")
	if err := os.Mkdir(filepath.Dir(casePath), 0o755); err != nil {
		t.Fatal(err)
	}
	onDisks := triageJSON(t, casePath, disks...)
	caseOnDisks, err := os.ReadFile(casePath)
	if err != nil {
		t.Fatal(err)
	}

	archive := filepath.Join(dir, "last.tar")
	out, stderr, code := holmes(t, append([]string{"collect", "--json", "--out", archive}, disks...)...)
	if code != 0 {
		t.Fatalf("collect: exit %d: %s", code, stderr)
	}
	var m struct {
		Devices []struct {
			Name    string `json:"name"`
			Size    int64  `json:"size"`
			Regions []struct {
				Length int64  `json:"length"`
				BLAKE3 string `json:"blake3"`
			} `json:"regions"`
		} `json:"devices"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for i, d := range m.Devices {
		var kept int64
		for _, reg := range d.Regions {
			kept += reg.Length
		}
		t.Logf("%s: %d of %d bytes kept in %d regions", d.Name, kept, d.Size, len(d.Regions))
		if d.Name != disks[i] || kept > d.Size/4 {
			t.Errorf("%s: kept %d of %d bytes", d.Name, kept, d.Size)
		}
	}

	if err := os.RemoveAll(disksDir); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(casePath)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Dir(casePath), 0o755); err != nil {
		t.Fatal(err)
	}
	fromArchive := triageJSON(t, casePath, archive)
	for _, w := range fromArchive.Warnings {
		t.Logf("warning: %s", w)
	}
	if len(onDisks.Plan) < 20 || !slices.Equal(fromArchive.Plan, onDisks.Plan) {
		t.Errorf("plan from the archive differs from the plan on the disks:\n%s\n--- on the disks:\n%s",
			strings.Join(fromArchive.Plan, "\n"), strings.Join(onDisks.Plan, "\n"))
	}
	caseFromArchive, err := os.ReadFile(casePath)
	if err != nil {
		t.Fatal(err)
	}
	if string(caseFromArchive) != string(caseOnDisks) {
		t.Errorf("case file from the archive:\n%s\non the disks:\n%s", caseFromArchive, caseOnDisks)
	}
	if len(fromArchive.Arrays) != len(onDisks.Arrays) {
		t.Fatalf("arrays from the archive %+v, on the disks %+v", fromArchive.Arrays, onDisks.Arrays)
	}
	for i, a := range fromArchive.Arrays {
		b := onDisks.Arrays[i]
		if a.Level != b.Level || a.Layout != b.Layout || !slices.Equal(a.Members, b.Members) || !slices.Equal(a.Trusted, b.Trusted) {
			t.Errorf("%s from the archive: %s %s %v trusting %v; on the disks %s %s %v trusting %v",
				a.Name, a.Level, a.Layout, a.Members, a.Trusted, b.Level, b.Layout, b.Members, b.Trusted)
		}
		if !reflect.DeepEqual(a.Divergence, b.Divergence) {
			t.Errorf("%s: divergent regions from the archive %+v, on the disks %+v", a.Name, a.Divergence, b.Divergence)
		}
		for _, h := range a.Halves {
			if h.Uncompared == 0 || !strings.Contains(strings.Join(h.Why, " "), "could not be compared (not collected)") {
				t.Errorf("%s halves %v: uncompared %d, why %v: the report must say what was not compared", a.Name, h.Members, h.Uncompared, h.Why)
			}
		}
	}
	if len(fromArchive.VolumeGroups) != 1 || fromArchive.VolumeGroups[0].Seqno != onDisks.VolumeGroups[0].Seqno ||
		fromArchive.VolumeGroups[0].VGUUID != onDisks.VolumeGroups[0].VGUUID {
		t.Errorf("VGs from the archive %+v, on the disks %+v", fromArchive.VolumeGroups, onDisks.VolumeGroups)
	}
	if !slices.Equal(fromArchive.Filesystems, onDisks.Filesystems) {
		t.Errorf("filesystems from the archive %+v, on the disks %+v", fromArchive.Filesystems, onDisks.Filesystems)
	}
}

// TestCollectOut: collect needs --out, never writes over a file that is not
// an earlier archive, replaces an earlier one only with --force, and its
// archive is read by scan, md examine, lvm scan, lvm carve and ext info in
// place of the disk.
func TestCollectOut(t *testing.T) {
	t.Parallel()
	img := fixture.SmallExt(t, "ext4")
	dir := t.TempDir()
	if _, stderr, code := holmes(t, "collect", img); code != 2 || !strings.Contains(stderr, "--out") {
		t.Errorf("collect without --out: exit %d, %s", code, stderr)
	}
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "a.tar")
	for _, args := range [][]string{{"collect", "--out", other, img}, {"collect", "--force", "--out", other, img}, {"collect", "--out", img, img}} {
		if _, stderr, code := holmes(t, args...); code != 1 || !strings.Contains(stderr, "not overwriting") && !strings.Contains(stderr, "never writes there") {
			t.Errorf("holmes %v: exit %d, %s", args, code, stderr)
		}
	}
	if b, _ := os.ReadFile(other); string(b) != "keep me" {
		t.Errorf("notes.txt was written over")
	}
	out, stderr, code := holmes(t, "collect", "--out", archive, img)
	if code != 0 || !strings.Contains(out, img) {
		t.Fatalf("collect: exit %d, %s%s", code, out, stderr)
	}
	if _, stderr, code := holmes(t, "collect", "--out", archive, img); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("collect over an earlier archive without --force: exit %d, %s", code, stderr)
	}
	if _, stderr, code := holmes(t, "collect", "--force", "--out", archive, img); code != 0 {
		t.Errorf("collect --force over an earlier archive: exit %d, %s", code, stderr)
	}
	for _, args := range [][]string{
		{"scan", "--json", archive},
		{"md", "examine", "--json", archive},
		{"lvm", "carve", "--json", archive},
		{"ext", "info", "--json", archive},
		{"ext", "info", "--json", archive + "/" + img},
	} {
		got, stderr, code := holmes(t, args...)
		want, _, wantCode := holmes(t, append(args[:len(args)-1:len(args)-1], img)...)
		if code != wantCode {
			t.Errorf("holmes %v: exit %d (%s), on the image %d", args, code, stderr, wantCode)
		}
		if args[0] == "ext" && got != want {
			t.Errorf("holmes %v:\n%s\non the image:\n%s", args, got, want)
		}
	}
	if _, stderr, code := holmes(t, "lvm", "scan", archive); code != 1 || !strings.Contains(stderr, "no LABELONE") {
		t.Errorf("lvm scan of an archive without PVs: exit %d, %s", code, stderr)
	}
}

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"holmes/internal/fixture"
)

// The incident lab's record (docs/labs.md), shared by every layer's tests.
type (
	incidentRecord = fixture.Incident
	incidentArray  = fixture.IncidentArray
	incidentRegion = fixture.IncidentRegion
)

func loadIncident(t *testing.T) incidentRecord { return *fixture.LoadIncident(t) }

func incidentDev(t *testing.T, dev string) string { return fixture.IncidentDev(t, dev) }

// TestIncidentRecord checks that the record describes the story issue 12
// needs, without unpacking an image: ten disks, the old arrays and VG, the
// installer's arrays of the same members and its empty VG of the same name,
// halves that diverged in files, and the lvm backup files on the root fs.
func TestIncidentRecord(t *testing.T) {
	r := loadIncident(t)
	if len(r.Disks) != 10 {
		t.Fatalf("%d disks, want 10", len(r.Disks))
	}
	o, in := r.Original, r.Installer
	if o.Raid1.Level != "raid1" || o.Raid10.Level != "raid10" || in.Raid1.Level != "raid1" || in.Raid10.Level != "raid10" {
		t.Errorf("levels: original %s/%s, installer %s/%s", o.Raid1.Level, o.Raid10.Level, in.Raid1.Level, in.Raid10.Level)
	}
	if o.Raid10.Metadata == in.Raid10.Metadata || o.Raid10.DataOffset == in.Raid10.DataOffset || *o.Raid10.ChunkBytes == *in.Raid10.ChunkBytes {
		t.Errorf("the installer's raid10 (%s, offset %d, chunk %d) should differ from the original (%s, offset %d, chunk %d)",
			in.Raid10.Metadata, in.Raid10.DataOffset, *in.Raid10.ChunkBytes, o.Raid10.Metadata, o.Raid10.DataOffset, *o.Raid10.ChunkBytes)
	}
	if !reflect.DeepEqual(o.Raid10.Order, in.Raid10.Order) || !reflect.DeepEqual(o.Raid1.Order, in.Raid1.Order) {
		t.Errorf("installer order %v %v, original %v %v: both in disk order", in.Raid1.Order, in.Raid10.Order, o.Raid1.Order, o.Raid10.Order)
	}
	if o.VG.Name != "guests" || in.VG.Name != "guests" || o.VG.UUID == in.VG.UUID || in.VG.LVCount != 0 || len(o.VG.LVs) < 4 {
		t.Errorf("VGs: original %s %s %d LVs, installer %s %s %d LVs", o.VG.Name, o.VG.UUID, len(o.VG.LVs), in.VG.Name, in.VG.UUID, in.VG.LVCount)
	}
	twoSegments := false
	for _, lv := range o.VG.LVs {
		twoSegments = twoSegments || len(lv.Segments) == 2
	}
	if !twoSegments {
		t.Error("no LV in two segments")
	}
	if o.VGSeqnoBeforeDegraded >= o.VG.Seqno {
		t.Errorf("seqno before the degraded run %d, after %d", o.VGSeqnoBeforeDegraded, o.VG.Seqno)
	}
	backup, err := os.ReadFile(fixture.Repo(t, "testdata/incident/record/etc-lvm/backup/guests"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(backup), "seqno = "+strconv.FormatInt(o.VG.Seqno, 10)+"\n") {
		t.Errorf("record/etc-lvm/backup/guests is not seqno %d", o.VG.Seqno)
	}
	stale, files := 0, 0
	for fs, list := range r.Files {
		for path, f := range list {
			files++
			if f.StaleSHA256 != "" || f.Stale != "" {
				stale++
			}
			if len(f.SHA256) != 64 {
				t.Errorf("%s %s: sha256 %q", fs, path, f.SHA256)
			}
		}
	}
	if stale == 0 || files < 50 {
		t.Errorf("%d files, %d with an older version on the other half", files, stale)
	}
	touched := false
	for _, d := range r.Divergence {
		for _, x := range d.Touches {
			touched = touched || x.What == "file"
		}
	}
	if !touched {
		t.Error("no divergent region touches a file")
	}
	for _, f := range append(r.LVMBackupFiles, append(r.OriginalExamine, r.InstallerExamine...)...) {
		fixture.Repo(t, filepath.Join("testdata/incident", f))
	}
}

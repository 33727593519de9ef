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

// incidentRecord is the part of testdata/incident/record.json (written by
// testdata/lab/incident.sh, see docs/labs.md) that holmes can check today.
type incidentRecord struct {
	Disks    []string `json:"disks"`
	Original struct {
		Raid1                 incidentArray `json:"raid1"`
		Raid10                incidentArray `json:"raid10"`
		VG                    incidentVG    `json:"vg"`
		VGSeqnoBeforeDegraded int64         `json:"vg_seqno_before_degraded"`
	} `json:"original"`
	Installer struct {
		Raid1  incidentArray `json:"raid1"`
		Raid10 incidentArray `json:"raid10"`
		VG     incidentVG    `json:"vg"`
	} `json:"installer"`
	NewerHalves      map[string]map[string]string `json:"newer_halves"`
	Divergence       []incidentRegion             `json:"divergence"`
	InstallerWrites  []incidentRegion             `json:"installer_writes"`
	CmpAfter         []incidentCmp                `json:"cmp_after_installer"`
	LVMBackupFiles   []string                     `json:"lvm_backup_files"`
	Files            map[string]map[string]incidentFile
	OriginalExamine  []string `json:"original_examine"`
	InstallerExamine []string `json:"installer_examine"`
}

type incidentArray = fixture.IncidentArray

type incidentVG struct {
	Name    string `json:"name"`
	UUID    string `json:"uuid"`
	Seqno   int64  `json:"seqno"`
	LVCount int    `json:"lv_count"`
	LVs     []struct {
		Name     string `json:"name"`
		Segments []struct {
			Extents int64 `json:"extents"`
		} `json:"segments"`
	} `json:"lvs"`
}

type incidentRegion struct {
	Device  string           `json:"device"`
	Other   string           `json:"other"`
	Start   int64            `json:"start"`
	End     int64            `json:"end"`
	Touches []map[string]any `json:"touches"`
}

type incidentCmp struct {
	A         string `json:"a"`
	B         string `json:"b"`
	DiffBytes int64  `json:"diff_bytes"`
	Regions   []struct {
		Start int64 `json:"start"`
		End   int64 `json:"end"`
	} `json:"regions"`
}

type incidentFile struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	StaleSHA256 string `json:"stale_sha256"`
	Stale       string `json:"stale"`
}

func loadIncident(t *testing.T) incidentRecord {
	t.Helper()
	var r incidentRecord
	fixture.JSON(t, "testdata/incident/record.json", &r)
	return r
}

// incidentDev unpacks the image of a record DEV ("d3.img.xz:p2") and
// returns the DEV to give holmes.
func incidentDev(t *testing.T, dev string) string {
	t.Helper()
	img, part, _ := strings.Cut(dev, ":")
	p := fixture.Unpack(t, fixture.Repo(t, filepath.Join("testdata/incident", img)))
	if part != "" {
		p += ":" + part
	}
	return p
}

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
			touched = touched || x["what"] == "file"
		}
	}
	if !touched {
		t.Error("no divergent region touches a file")
	}
	for _, f := range append(r.LVMBackupFiles, append(r.OriginalExamine, r.InstallerExamine...)...) {
		fixture.Repo(t, filepath.Join("testdata/incident", f))
	}
}

package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/ext"
	"holmes/internal/fixture"
	"holmes/mdraid"
)

// incidentDisks unpacks the ten disks and returns their paths and a map
// from the record's names ("d3.img.xz:p2") to DEV names.
func incidentDisks(t *testing.T) (*fixture.Incident, []string, func(string) string) {
	t.Helper()
	if testing.Short() {
		t.Skip("unpacks ten 64 MiB disks")
	}
	r := fixture.LoadIncident(t)
	var paths []string
	for _, d := range r.Disks {
		paths = append(paths, fixture.IncidentDev(t, d))
	}
	return r, paths, func(rec string) string { return fixture.IncidentDev(t, rec) }
}

// TestIncidentGivenArrays: with the original arrays' geometry given (what md
// solve must find), triage trusts the halves that kept running, restores
// the old VG rather than the installer's empty one, and reads every
// filesystem — including the root whose root directory the installer's
// mkfs destroyed.
func TestIncidentGivenArrays(t *testing.T) {
	r, paths, dev := incidentDisks(t)
	tr := newTriage()
	defer tr.Close()
	for _, p := range paths {
		d, err := blockdev.Open(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr.disks = append(tr.disks, d)
		tr.addDisk(d)
	}
	for i, ra := range []fixture.IncidentArray{r.Original.Raid1, r.Original.Raid10} {
		a := &array{res: &Array{Level: ra.Level, DataOffset: ra.DataOffset, Metadata: ra.Metadata, Source: "given"}}
		a.geom = mdraid.Geometry{Level: ra.Level, DataOffset: ra.DataOffset, RaidDisks: len(ra.Order)}
		if ra.Layout != nil {
			a.geom.Layout, a.res.Layout = *ra.Layout, *ra.Layout
		}
		if ra.ChunkBytes != nil {
			a.geom.ChunkBytes, a.res.ChunkBytes = *ra.ChunkBytes, *ra.ChunkBytes
		}
		for _, m := range ra.Order {
			u := tr.unitByName(dev(m))
			if u == nil {
				t.Fatalf("no unit %s", dev(m))
			}
			a.members = append(a.members, u)
			u.used = true
		}
		a.res.Members = unitNames(a.members)
		a.res.Name = []string{"md0", "md1"}[i]
		tr.arrays = append(tr.arrays, a)
	}
	for _, a := range tr.arrays {
		tr.chooseHalves(a)
		tr.assemble(a)
	}
	for i, level := range []string{"raid1", "raid10"} {
		a := tr.arrays[i].res
		for newer, stale := range r.NewerHalves[level] {
			if !slices.Contains(a.Trusted, dev(newer)) || slices.Contains(a.Trusted, dev(stale)) {
				t.Errorf("%s: trusted %v; %s kept running and %s missed writes", a.Name, a.Trusted, newer, stale)
			}
		}
		for _, h := range a.Halves {
			if h.Trust != "" {
				t.Logf("%s: %v: read %s: %v", a.Name, h.Members, h.Trust, h.Why)
			}
		}
	}
	tr.findVolumeGroups()
	if len(tr.vgs) != 1 {
		t.Fatalf("%d VGs chosen, want 1 (guests)", len(tr.vgs))
	}
	g := tr.vgs[0].res
	if g.VGUUID != r.Original.VG.UUID || g.Seqno != r.Original.VG.Seqno {
		t.Errorf("chose VG %s seqno %d (%s), want the original %s seqno %d", g.VGUUID, g.Seqno, g.Source, r.Original.VG.UUID, r.Original.VG.Seqno)
	}
	tr.checkFilesystems()
	for _, f := range tr.Result.Filesystems {
		t.Logf("fs %+v", f)
	}
	tr.finish()
	checkFiles(t, r, func(name string) (blockdev.Device, error) { return blockdev.Open(name, tr) })

	// The case file names the same stack for every other command.
	casePath := filepath.Join(t.TempDir(), "case.json")
	if err := tr.WriteCase(casePath, paths); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Load(casePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Arrays) != 2 || len(c.VolumeGroups) != 1 {
		t.Errorf("case file has %d arrays and %d VGs, want 2 and 1", len(c.Arrays), len(c.VolumeGroups))
	}
	checkFiles(t, r, func(name string) (blockdev.Device, error) { return blockdev.Open(name, c) })
}

// checkFiles reads every file of every LV's filesystem through open and
// compares it with the sha256 the kernel's run recorded.
func checkFiles(t *testing.T, r *fixture.Incident, open func(string) (blockdev.Device, error)) {
	t.Helper()
	for fsName, files := range r.Files {
		if fsName == "root" {
			continue // its root directory is gone: ext extract's lost-directory test covers it
		}
		d, err := open(fsName)
		if err != nil {
			t.Errorf("%s: %v", fsName, err)
			continue
		}
		defer d.Close()
		fs, err := ext.Open(d, d.Size(), ext.Options{})
		if err != nil {
			t.Errorf("%s: %v", fsName, err)
			continue
		}
		for path, want := range files {
			in, err := fs.Lookup(path)
			if err != nil {
				t.Errorf("%s %s: %v", fsName, path, err)
				continue
			}
			fr, err := fs.Reader(in)
			if err != nil {
				t.Errorf("%s %s: %v", fsName, path, err)
				continue
			}
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(fr, 0, fr.Size())); err != nil {
				t.Errorf("%s %s: %v", fsName, path, err)
				continue
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
				t.Errorf("%s %s: sha256 %s, the kernel wrote %s", fsName, path, got, want.SHA256)
			}
		}
	}
}

// TestTriageIncident is issue 12's proof: one Run over the ten disks, with
// no other knowledge, finds the original arrays under the installer's, the
// halves that kept running, the old VG, and a case file from which every
// file of every LV reads back as the kernel wrote it.
func TestTriageIncident(t *testing.T) {
	r, paths, dev := incidentDisks(t)
	tr, err := Run(context.Background(), paths, func(s string) (blockdev.Device, error) { return blockdev.Open(s, nil) }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	res := &tr.Result
	for _, w := range res.Warnings {
		t.Logf("warning: %s", w)
	}
	if len(res.Arrays) != 2 {
		t.Fatalf("%d arrays, want 2: %+v", len(res.Arrays), res.Arrays)
	}
	for i, want := range []fixture.IncidentArray{r.Original.Raid1, r.Original.Raid10} {
		a := res.Arrays[i]
		if a.Ambiguous {
			t.Errorf("%s ambiguous: %v; candidates %+v", a.Name, a.Why, a.Candidates)
			continue
		}
		var order []string
		for _, m := range want.Order {
			order = append(order, dev(m))
		}
		got := a.Members
		if a.Level == "raid10" { // halves of a pair may come in either order
			got, order = pairSorted(got), pairSorted(order)
		}
		if a.Level != want.Level || a.DataOffset != want.DataOffset || want.ChunkBytes != nil && a.ChunkBytes != *want.ChunkBytes ||
			a.Level != "raid1" && !slices.Equal(got, order) || a.Level == "raid1" && !sameSet(got, order) {
			t.Errorf("%s: %s %s chunk %d offset %d order %v; the original was %s chunk %v offset %d order %v",
				a.Name, a.Level, a.Layout, a.ChunkBytes, a.DataOffset, a.Members, want.Level, want.ChunkBytes, want.DataOffset, order)
		}
		for newer, stale := range r.NewerHalves[want.Level] {
			if !slices.Contains(a.Trusted, dev(newer)) || slices.Contains(a.Trusted, dev(stale)) {
				t.Errorf("%s: trusted %v; %s kept running and %s missed writes", a.Name, a.Trusted, newer, stale)
			}
		}
	}
	if len(res.VolumeGroups) != 1 || res.VolumeGroups[0].VGUUID != r.Original.VG.UUID || res.VolumeGroups[0].Seqno != r.Original.VG.Seqno {
		t.Errorf("volume groups %+v, want the original %s seqno %d", res.VolumeGroups, r.Original.VG.UUID, r.Original.VG.Seqno)
	}
	// The installer's empty VG of the same name, on the array its
	// superblocks describe, is shown as rejected.
	for _, g := range res.VolumeGroups {
		if !slices.ContainsFunc(g.Rejected, func(v VGVersion) bool { return v.VGUUID == r.Installer.VG.UUID && len(v.LVs) == 0 }) {
			t.Errorf("the installer's VG %s is not among the rejected: %+v", r.Installer.VG.UUID, g.Rejected)
		}
	}
	if res.Ambiguous {
		t.Errorf("triage says ambiguous")
	}
	checkTouches(t, r, res, dev)
	casePath := filepath.Join(t.TempDir(), "case.json")
	if err := tr.WriteCase(casePath, paths); err != nil {
		t.Fatal(err)
	}
	c, err := casefile.Load(casePath)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, r, func(name string) (blockdev.Device, error) { return blockdev.Open(name, c) })
}

// pairSorted sorts each pair of a raid10 n2 member list.
func pairSorted(m []string) []string {
	out := slices.Clone(m)
	for i := 0; i+1 < len(out); i += 2 {
		if out[i] > out[i+1] {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkTouches: every file and filesystem structure the lab recorded in a
// region where the halves diverged (and the installer did not write over)
// is among what triage says its divergent regions touch. Paths in the root,
// whose root directory is gone, are found under their lost directory
// (#2041/lvm/backup/guests for /etc/lvm/backup/guests).
func checkTouches(t *testing.T, r *fixture.Incident, res *Result, dev func(string) string) {
	t.Helper()
	var touches []Touch
	for _, a := range res.Arrays {
		for _, d := range a.Divergence {
			touches = append(touches, d.Touches...)
		}
	}
	layer := map[string]string{"root": "md0"}
	for _, d := range r.Divergence {
		if overwrittenByInstaller(r, d) {
			continue
		}
		for _, rec := range d.Touches {
			fs, what, path := rec.FS, rec.What, rec.Path
			if fs == "" {
				continue // md and LVM areas outside any filesystem
			}
			if l, ok := layer[fs]; ok {
				fs = l
			}
			found := slices.ContainsFunc(touches, func(tc Touch) bool {
				if tc.Layer != fs || !strings.HasPrefix(tc.What, what) {
					return false
				}
				if path == "" || tc.Path == path {
					return true
				}
				_, rest, lost := strings.Cut(tc.Path, "/")
				return strings.HasPrefix(tc.Path, "#") && lost && strings.HasSuffix(path, "/"+rest)
			})
			if !found {
				t.Errorf("%s %d-%d: the lab recorded %s %s %s there; triage's touches lack it", d.Device, d.Start, d.End, fs, what, path)
			}
		}
	}
}

// overwrittenByInstaller: the installer wrote over part of region d on
// either half, so the halves may not differ there any more.
func overwrittenByInstaller(r *fixture.Incident, d fixture.IncidentRegion) bool {
	for _, w := range r.InstallerWrites {
		if (w.Device == d.Device || w.Device == d.Other) && w.Start < d.End && d.Start < w.End {
			return true
		}
	}
	return false
}

// TestTriageIncidentSMART: a saved SMART report that prefers the stale half
// does not override the data (the newer half has writes the other lacks),
// but the reason says so and asks for the newer half to be imaged first.
func TestTriageIncidentSMART(t *testing.T) {
	r, paths, dev := incidentDisks(t)
	failing := fixture.Public(t, "smart/smartctl_exporter/testdata/ST3500418AS_12.json")
	sound := fixture.Public(t, "smart/scrutiny/webapp/backend/pkg/models/testdata/smart-ata-full.json")
	newer, stale := "d0.img.xz:p2", r.NewerHalves["raid10"]["d0.img.xz:p2"]
	diskOf := func(rec string) string { img, _, _ := strings.Cut(rec, ":"); return dev(img) }
	opt := Options{SMART: map[string]string{diskOf(newer): failing, diskOf(stale): sound}}
	tr, err := Run(context.Background(), paths, func(s string) (blockdev.Device, error) { return blockdev.Open(s, nil) }, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if len(tr.Result.SMART) != 2 {
		t.Errorf("%d SMART results, want the 2 given", len(tr.Result.SMART))
	}
	found := false
	for _, a := range tr.Result.Arrays {
		for _, h := range a.Halves {
			if !slices.Contains(h.Members, dev(newer)) {
				continue
			}
			found = true
			if h.Trust != dev(newer) || !strings.Contains(strings.Join(h.Why, "; "), "image the newer half first") {
				t.Errorf("halves %v: trust %s, why %v; want the newer %s, with SMART's objection said", h.Members, h.Trust, h.Why, newer)
			}
		}
	}
	if !found {
		t.Errorf("no halves entry for %s", newer)
	}
}
